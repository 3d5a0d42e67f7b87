--TEST--
Live: a front controller served by php -S (route /emit/{id}/{message} -> Herald\emit) reaches a WebSocket subscribed with Herald\channel('id1'); heraldd down gives a 503, not a hang
--EXTENSIONS--
herald
--SKIPIF--
<?php
require __DIR__ . '/lib/heraldd.php';
echo herald_test_skip_unless_live();
if (getenv('HERALD_EXT_SO') === false) echo 'skip HERALD_EXT_SO unset (tests/suites/60-phpt.sh sets it)';
?>
--FILE--
<?php
require __DIR__ . '/lib/heraldd.php';
$d = new HeraldTestDaemon();
ini_set('herald.endpoint', 'unix://' . $d->sock);
ini_set('herald.secret_file', $d->secretFile);

// The app: what the original Silex route did, with the extension.
$app = $d->dir . '/index.php';
file_put_contents($app, <<<'PHP'
<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
header('Content-Type: text/plain');
if ($path === '/ready') { echo "ok"; return; }
if (preg_match('#^/channel/([^/]+)$#', $path, $m)) { echo Herald\channel(urldecode($m[1])); return; }
if (preg_match('#^/emit/([^/]+)/(.*)$#s', $path, $m)) {
    try {
        $id = Herald\emit(urldecode($m[1]), urldecode($m[2]));
        echo 'id ', $id;
    } catch (Herald\ConnectionException $e) {
        http_response_code(503); echo 'herald down: ', $e->getMessage();
    } catch (Herald\Exception $e) {
        http_response_code(400); echo get_class($e), ': ', $e->getMessage();
    }
    return;
}
http_response_code(404);
PHP);

$port = herald_test_free_port();
$cmd = [PHP_BINARY, '-n', '-d', 'extension=' . getenv('HERALD_EXT_SO'),
        '-d', 'herald.endpoint=unix://' . $d->sock, '-d', 'herald.secret_file=' . $d->secretFile,
        '-d', 'herald.connect_timeout_ms=200', '-d', 'herald.timeout_ms=1000',
        '-S', "127.0.0.1:$port", $app];
$log = $d->dir . '/php-s.log';
$proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']], $pipes);
function http_get(int $port, string $path): array {
    $s = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 1);
    if (!$s) return [0, ''];
    stream_set_timeout($s, 5);
    fwrite($s, "GET $path HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    $r = (string)stream_get_contents($s);
    fclose($s);
    $p = strpos($r, "\r\n\r\n");
    return [(int)substr($r, 9, 3), $p === false ? '' : substr($r, $p + 4)];
}
try {
    // ready = the server answers; bounded (30 s: under the valgrind suite
    // this child runs under valgrind too)
    $deadline = microtime(true) + 30;
    while (http_get($port, '/ready')[0] !== 200) {
        if (microtime(true) > $deadline || !proc_get_status($proc)['running'])
            throw new RuntimeException('php -S not ready: ' . @file_get_contents($log));
        usleep(10000);
    }
    // The app signs the same bytes as this process (same secret file).
    [$st, $name] = http_get($port, '/channel/id1');
    echo $st, ' ', $name === Herald\channel('id1') ? 'same signed name' : "differs: $name", "\n";

    $ws = new HeraldTestWs($d->publicPort);
    echo $ws->subscribe($name)['type'], "\n";
    [$st, $body] = http_get($port, '/emit/id1/hello%20world');
    $got = $ws->recv();
    echo $st, ' ', $got['channel'], ' ', $got['data'], ' ', $body === 'id ' . $got['id'] ? 'id matches' : "id differs: $body", "\n";

    [$st, $body] = http_get($port, '/emit/bad%20name/x');
    echo $st, ' ', str_starts_with($body, 'Herald\InvalidArgumentException') ? 'invalid name refused' : $body, "\n";

    // heraldd down: the page answers fast with a 503 (our WebSocket closed
    // first, so heraldd's graceful shutdown has no client to wait for)
    unset($ws);
    $d->stop();
    $t = microtime(true);
    [$st, $body] = http_get($port, '/emit/id1/lost');
    $ms = (microtime(true) - $t) * 1000;
    echo $st, ' ', $ms < 1500 ? 'fast' : "slow ($ms ms)", "\n";
} finally {
    // SIGINT: php -S shuts down cleanly (modules' shutdown runs, so valgrind
    // checks this child's memory too); SIGKILL only if it does not
    proc_terminate($proc, 2);
    $deadline = microtime(true) + 10;
    while (proc_get_status($proc)['running'] && microtime(true) < $deadline) usleep(5000);
    if (proc_get_status($proc)['running']) proc_terminate($proc, 9);
    proc_close($proc);
    @unlink($app);
    @unlink($log);
}
?>
--EXPECT--
200 same signed name
subscribed
200 id1 hello world id matches
400 invalid name refused
503 fast
