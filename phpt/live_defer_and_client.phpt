--TEST--
Live: defer() sends one batch at the end of the request (after the output); Client with its own endpoint, secret and deferred queue
--EXTENSIONS--
herald
--SKIPIF--
<?php require __DIR__ . '/lib/heraldd.php'; echo herald_test_skip_unless_live();
if (!getenv('HERALD_EXT_SO')) echo 'skip HERALD_EXT_SO unset (the suite sets it)'; ?>
--FILE--
<?php
require __DIR__ . '/lib/heraldd.php';
$d = new HeraldTestDaemon();
ini_set('herald.secret_file', $d->secretFile);
$ws = new HeraldTestWs($d->publicPort);
echo $ws->subscribe(Herald\channel('orders'))['type'], "\n";

// a child PHP process (a "request") defers three messages and ends
$script = '<?php Herald\defer("orders", "d1"); Herald\defer("orders", ["n" => 2]); Herald\defer("other", "x");'
        . ' register_shutdown_function(fn() => Herald\defer("orders", "late")); echo "page done\n";';
file_put_contents($d->dir . '/child.php', $script);
$before = $d->stats()['emit_connections_accepted'];
$out = shell_exec(escapeshellarg(PHP_BINARY) . ' -n -d extension=' . escapeshellarg(getenv('HERALD_EXT_SO'))
    . ' -d herald.endpoint=' . escapeshellarg('unix://' . $d->sock) . ' ' . escapeshellarg($d->dir . '/child.php') . ' 2>&1');
unlink($d->dir . '/child.php');
echo $out;
foreach (range(1, 3) as $i) echo $ws->recv()['data'], "\n";
echo 'child connections: ', $d->stats()['emit_connections_accepted'] - $before - 1, "\n";

// explicit flush returns the count
Herald\defer('orders', 'f1');
Herald\defer('orders', 'f2');
ini_set('herald.endpoint', 'unix://' . $d->sock);
var_dump(Herald\flush(), Herald\flush());
echo $ws->recv()['data'], ' ', $ws->recv()['data'], "\n";

// Client: explicit endpoint (TCP) and secret, same signed bytes as the INI path
$secret = trim(file_get_contents($d->secretFile));
$c = new Herald\Client('http://127.0.0.1:' . $d->emitPort, $secret, null, 500, 2000);
var_dump($c->channel('orders') === Herald\channel('orders'));
$id = $c->emit('orders', 'from client');
$g = $ws->recv();
echo $g['data'], ' ', $g['id'] === $id ? 'id ok' : 'id differs', "\n";
var_dump(count($c->emitMany(['orders' => 'cm'])));
echo $ws->recv()['data'], "\n";
$c->defer('orders', 'client deferred');
unset($c);                           // the client's queue goes out when it goes
echo $ws->recv()['data'], "\n";
?>
--EXPECT--
subscribed
page done
d1
{"n":2}
late
child connections: 1
int(2)
int(0)
f1 f2
bool(true)
from client id ok
int(1)
cm
client deferred
