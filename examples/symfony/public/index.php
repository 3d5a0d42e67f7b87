<?php
// Front controller for `php -S` and php-fpm. Debian's packages bring their
// own autoloaders (php-symfony-framework-bundle, php-symfony-twig-bundle in
// /usr/share/php): no composer, no vendor/.
declare(strict_types=1);

use App\Kernel;
use Symfony\Component\HttpFoundation\Request;

require_once 'Symfony/Bundle/FrameworkBundle/autoload.php';
require_once 'Symfony/Bundle/TwigBundle/autoload.php';
spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'App\\')) {
        require __DIR__ . '/../src/' . str_replace('\\', '/', substr($class, 4)) . '.php';
    }
});

if (!extension_loaded('herald')) {
    http_response_code(500);
    exit("The herald extension is not loaded (php -d extension=herald.so, or phpenmod herald).\n");
}

$kernel = new Kernel(getenv('APP_ENV') ?: 'prod', (bool) getenv('APP_DEBUG'));
$request = Request::createFromGlobals();
$response = $kernel->handle($request);
$response->send();
$kernel->terminate($request, $response);
