<?php
// Herald demo: the 2013 Silex + socket.io demo, ported to plain PHP and the
// herald extension. One front controller for `php -S` and for nginx+php-fpm.
//   GET  /                       the page (after login): links that emit, and what arrives
//   GET  /login, POST /login     any user name starts a session
//   POST /logout
//   GET  /emit/{id}/{message}    emits through Herald\emit(), for a logged-in user only
//   GET  /socketio-2013          the 2013 socket.io page, unchanged but for heraldd's host:port
declare(strict_types=1);

const NAME_RE = '/^[A-Za-z0-9_-]{1,32}$/';
const TTL = 3600; // seconds a signed name stays valid; the page reloads before

// Under `php -S` this file is the router: let it serve the static files.
if (PHP_SAPI === 'cli-server' && preg_match('#^/[\w-]+\.(js|css)$#', (string)parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH))) {
    return false;
}

session_start();
$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/'; // still URL-encoded
$user = $_SESSION['user'] ?? null;

function h(string $s): string { return htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8'); }

function answer(int $status, string $body, string $type = 'text/plain; charset=utf-8'): never
{
    http_response_code($status);
    header('Content-Type: ' . $type);
    echo $body;
    exit;
}

// Where browsers reach heraldd's public listener: HERALD_PUBLIC_URL (a
// ws:// or wss:// URL, or a path such as /herald on this page's own origin
// behind a proxy), or port 8080 on the host name this page was loaded from.
function herald_public_url(): string
{
    $url = getenv('HERALD_PUBLIC_URL');
    if ($url) return rtrim($url, '/');
    $host = preg_replace('/:\d+$/', '', $_SERVER['HTTP_HOST'] ?? '127.0.0.1');
    return 'ws://' . $host . ':8080';
}

// The channels a user may emit to: the shared demo channels and anyone's
// private channel (sending to a user is allowed; reading theirs is not).
function emit_allowed(string $channel): bool
{
    return (bool)preg_match('/^(id[12]|user\.[A-Za-z0-9_-]{1,32})$/', $channel);
}

if (!extension_loaded('herald')) {
    answer(500, "The herald extension is not loaded: start PHP with -d extension=herald.so (see README \"Demo\").\n");
}

if ($path === '/login') {
    if ($_SERVER['REQUEST_METHOD'] === 'POST') {
        $name = (string)($_POST['user'] ?? '');
        if (!preg_match(NAME_RE, $name)) {
            answer(400, "A user name is 1-32 of A-Z a-z 0-9 _ -\n");
        }
        session_regenerate_id(true);
        $_SESSION['user'] = $name;
        header('Location: /', true, 303);
        exit;
    }
    header('Content-Type: text/html; charset=utf-8');
    echo <<<HTML
    <!DOCTYPE html><html><head><meta charset="utf-8"><title>Herald demo: log in</title></head>
    <body><h1>Herald demo</h1>
    <form method="post" action="/login"><label>User name <input name="user" pattern="[A-Za-z0-9_\-]{1,32}" required autofocus></label>
    <button>Log in</button></form><p>Any name works: open a second browser (or a private window) as another user.</p></body></html>
    HTML;
    exit;
}

if ($path === '/logout' && $_SERVER['REQUEST_METHOD'] === 'POST') {
    session_destroy();
    header('Location: /login', true, 303);
    exit;
}

if ($user === null) {
    if (str_starts_with($path, '/emit/')) answer(401, "Log in first\n");
    header('Location: /login', true, 303);
    exit;
}

if (preg_match('#^/emit/([^/]+)/(.*)$#s', $path, $m)) {
    [$channel, $message] = [rawurldecode($m[1]), rawurldecode($m[2])];
    if (!emit_allowed($channel)) answer(403, "You may emit to id1, id2 and user.<name> only\n");
    try {
        $id = Herald\emit($channel, $message);
    } catch (Herald\Exception $e) {
        answer(502, 'heraldd: ' . $e->getMessage() . "\n");
    }
    answer(200, json_encode(['channel' => $channel, 'id' => $id]) . "\n", 'application/json');
}

// The page of the system Herald replaces, as it was (socket.io client and
// all): only its push server's host and port are this heraldd's.
if ($path === '/socketio-2013') {
    $page = (string) file_get_contents(__DIR__ . '/../../socketio-2013/index.html');
    $hostPort = (string) parse_url(herald_public_url(), PHP_URL_HOST) . ':' . (string) parse_url(herald_public_url(), PHP_URL_PORT);
    answer(200, str_replace('localhost:8080', $hostPort, $page), 'text/html; charset=utf-8');
}

if ($path !== '/') answer(404, "Not found\n");

// The page: signed names minted here, for this user only.
$transports = array_values(array_intersect(explode(',', (string)($_GET['transports'] ?? 'ws,sse')), ['ws', 'sse']));
$config = [
    'url' => herald_public_url(),
    'user' => $user,
    'transports' => $transports ?: ['ws', 'sse'],
    'channels' => [
        Herald\channel('id1', TTL),
        Herald\channel('id2', TTL),
        Herald\channel('user.' . $user, TTL),
    ],
];
// herald.js comes from heraldd too (a path on this origin behind a proxy);
// versioned, it is cached for a year. The extension and heraldd share VERSION.
$scriptUrl = preg_replace('#^ws#', 'http', $config['url']) . '/herald.js?v=' . rawurlencode((string)phpversion('herald'));
$other = $user === 'bob' ? 'alice' : 'bob';
$links = [
    ['id1', 'hello'], ['id1', 'bye'], ['id2', 'hello from ' . $user],
    ['user.' . $user, 'a note to myself'], ['user.' . $other, 'hi ' . $other . ', from ' . $user],
];
header('Content-Type: text/html; charset=utf-8');
?>
<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Herald demo — <?= h($user) ?></title>
<style>
 body { font: 15px/1.4 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; }
 #log li { font-family: ui-monospace, monospace; }
 .err { color: #a00; } .gap { color: #a60; } #state { font-weight: bold; }
 .who { display: flex; align-items: baseline; gap: .5em; margin: 1em 0; } .sep { color: #888; }
</style>
</head>
<body>
<h1>Herald demo</h1>
<form method="post" action="/logout" class="who">Logged in as <b id="user"><?= h($user) ?></b>
 <button>Log out</button> <span class="sep">·</span> connection: <span id="state">connecting</span></form>
<h2>Emit</h2>
<ul id="links">
<?php foreach ($links as [$ch, $msg]): ?>
 <li><a href="#" data-channel="<?= h($ch) ?>" data-message="<?= h($msg) ?>">emit('<?= h($ch) ?>', '<?= h($msg) ?>')</a></li>
<?php endforeach; ?>
</ul>
<p>Or type: <input id="channel" value="user.<?= h($other) ?>" size="16"> <input id="message" value="hello" size="24">
 <button id="send">emit</button></p>
<p><button id="snoop">Try to listen to user.<?= h($other) ?></button>
 (with a name this page was not given: heraldd refuses it)</p>
<h2>Received</h2>
<ul id="log"></ul>
<script src="<?= h($scriptUrl) ?>"></script>
<script>window.HERALD_DEMO = <?= json_encode($config, JSON_HEX_TAG | JSON_HEX_AMP | JSON_UNESCAPED_SLASHES) ?>;</script>
<script src="/app.js"></script>
</body>
</html>
