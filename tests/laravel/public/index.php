<?php
// The Laravel test app's front controller (php -S … public/index.php):
// Debian's Laravel 8 (php-laravel-framework, its autoloaders under
// /usr/share/php), the broadcaster from integrations/laravel by its PSR-4
// map, and this app's own classes. Caches go to LARAVEL_TEST_VAR (the
// test's temporary directory), so the tree stays clean.
define('LARAVEL_START', microtime(true));
require '/usr/share/php/Illuminate/autoload.php';

$psr4 = [
    'Herald\\Laravel\\' => __DIR__ . '/../../../integrations/laravel/src/',
    'App\\' => __DIR__ . '/../app/',
];
spl_autoload_register(static function (string $class) use ($psr4): void {
    foreach ($psr4 as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) require $file;
            return;
        }
    }
});

$var = getenv('LARAVEL_TEST_VAR') ?: sys_get_temp_dir() . '/herald-laravel-test';
foreach (['APP_PACKAGES_CACHE' => 'packages.php', 'APP_SERVICES_CACHE' => 'services.php',
          'APP_CONFIG_CACHE' => 'config.php', 'APP_ROUTES_CACHE' => 'routes.php', 'APP_EVENTS_CACHE' => 'events.php'] as $k => $f) {
    $_ENV[$k] = $_SERVER[$k] = "$var/$f";
}

$app = new Illuminate\Foundation\Application(dirname(__DIR__));
$app->useStoragePath($var);
$app->singleton(Illuminate\Contracts\Http\Kernel::class, App\Http\Kernel::class);
$app->singleton(Illuminate\Contracts\Debug\ExceptionHandler::class, Illuminate\Foundation\Exceptions\Handler::class);

$kernel = $app->make(Illuminate\Contracts\Http\Kernel::class);
$response = $kernel->handle($request = Illuminate\Http\Request::capture());
$response->send();
$kernel->terminate($request, $response);
