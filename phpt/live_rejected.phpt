--TEST--
Live: heraldd's 4xx reasons surface in RejectedException (status + reason); the emit secret is sent as a Bearer token
--EXTENSIONS--
herald
--SKIPIF--
<?php require __DIR__ . '/lib/heraldd.php'; echo herald_test_skip_unless_live(); ?>
--FILE--
<?php
require __DIR__ . '/lib/heraldd.php';
$dir = trim(shell_exec('mktemp -d'));
file_put_contents("$dir/emit_secret", "emit-token-0123456789abcdef\n");
chmod("$dir/emit_secret", 0600);
$d = new HeraldTestDaemon(['--emit_secret_file', "$dir/emit_secret", '--max_emit_body_bytes', '1024'], $dir);
ini_set('herald.endpoint', 'unix://' . $d->sock);
function show(callable $f) {
    try { $f(); echo "sent\n"; }
    catch (Herald\RejectedException $e) { echo $e->getStatus(), ' ', $e->getCode(), ' [', $e->getReason(), '] ', $e->getMessage(), "\n"; }
}
show(fn() => Herald\emit('a', 'x'));                     // no token
ini_set('herald.emit_secret', 'wrong-token-0123456789');
show(fn() => Herald\emit('a', 'x'));
ini_set('herald.emit_secret', '');
ini_set('herald.emit_secret_file', "$dir/emit_secret");
show(fn() => Herald\emit('a', 'x'));
show(fn() => Herald\emit('a', str_repeat('x', 2000)));   // 413
show(fn() => Herald\emit('a', 'still works after a 4xx'));
$c = new Herald\Client('unix://' . $d->sock, null, 'emit-token-0123456789abcdef');
show(fn() => $c->emit('a', 'x'));
show(fn() => $c->emitMany([['a', str_repeat('y', 2000)]]));
?>
--EXPECTF--
401 401 [emit needs Authorization: Bearer <emit secret>] Herald: heraldd refused the emit (401): emit needs Authorization: Bearer <emit secret>
401 401 [emit needs Authorization: Bearer <emit secret>] Herald: heraldd refused the emit (401): emit needs Authorization: Bearer <emit secret>
sent
413 413 [%s] Herald: heraldd refused the emit (413): %s
sent
sent
413 413 [%s] Herald: heraldd refused the emit (413): %s
