<?php
// Herald with Slim 3 (Debian 12's php-slim is 3.12), without composer: the
// package's autoloader in /usr/share/php (PHP's default include_path there).
//   GET  /       a page that subscribes to `news` with a signed name
//   POST /emit   publishes the form field `message` to `news`
// In an application both sit behind its authentication: who may read and
// who may send is decided here, in PHP; heraldd only checks the signature.
declare(strict_types=1);

use Slim\Http\Request;
use Slim\Http\Response;

require_once 'Slim/autoload.php';

const CHANNEL = 'news';
const TTL = 3600; // seconds the signed name is valid

if (!extension_loaded('herald')) {
    http_response_code(500);
    exit("The herald extension is not loaded (php -d extension=herald.so, or phpenmod herald).\n");
}

$app = new Slim\App();

$app->get('/', function (Request $request, Response $response): Response {
    // Where browsers reach heraldd: HERALD_PUBLIC_URL, e.g. ws://example.com/herald
    // behind a proxy (see README "Behind nginx and php-fpm").
    $url = rtrim(getenv('HERALD_PUBLIC_URL') ?: 'ws://127.0.0.1:8080', '/');
    // JSON with <, > and & escaped is safe inside <script>
    $js = fn (string $s): string => json_encode($s, JSON_UNESCAPED_SLASHES | JSON_HEX_TAG | JSON_HEX_AMP | JSON_THROW_ON_ERROR);
    $h = fn (string $s): string => htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
    $channel = Herald\channel(CHANNEL, TTL);
    $script = $h(preg_replace('#^ws#', 'http', $url) . '/herald.js');
    return $response->write(<<<HTML
        <!DOCTYPE html>
        <html>
        <head><meta charset="utf-8"><title>Herald + Slim</title></head>
        <body>
        <h1>News</h1>
        <form method="post" action="/emit"><input name="message" required> <button>Emit</button></form>
        <ul id="news"></ul>
        <script src="{$script}"></script>
        <script>
          const herald = Herald.connect({$js($url)});
          herald.subscribe({$js($channel)}, (data, meta) => {
            const li = document.createElement('li');
            li.textContent = meta.id + ': ' + data;
            document.getElementById('news').prepend(li);
          });
          document.querySelector('form').addEventListener('submit', (e) => {
            e.preventDefault();
            fetch(e.target.action, { method: 'POST', body: new FormData(e.target) });
            e.target.reset();
          });
        </script>
        </body>
        </html>
        HTML);
});

$app->post('/emit', function (Request $request, Response $response): Response {
    $message = (string) ($request->getParsedBody()['message'] ?? '');
    if ($message === '') {
        return $response->withJson(['error' => 'send a non-empty "message" field'], 400);
    }
    try {
        $id = Herald\emit(CHANNEL, $message);
    } catch (Herald\Exception $e) {
        return $response->withJson(['error' => 'heraldd: ' . $e->getMessage()], 502);
    }
    return $response->withJson(['channel' => CHANNEL, 'id' => $id]);
});

$app->run();
