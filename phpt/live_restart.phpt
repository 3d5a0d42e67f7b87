--TEST--
Live: heraldd restarted between two emits: the next emit succeeds (one retry on the stale connection)
--EXTENSIONS--
herald
--SKIPIF--
<?php require __DIR__ . '/lib/heraldd.php'; echo herald_test_skip_unless_live(); ?>
--INI--
; generous timeouts: under valgrind on a loaded machine libcurl's first connect
; (its resolver thread) took over the default 200 ms; a dead endpoint still fails at once
herald.connect_timeout_ms=5000
herald.timeout_ms=5000
--FILE--
<?php
require __DIR__ . '/lib/heraldd.php';
$d = new HeraldTestDaemon();
foreach (['unix://' . $d->sock, 'http://127.0.0.1:' . $d->emitPort] as $ep) {
    ini_set('herald.endpoint', $ep);
    var_dump(Herald\emit('r', 'before') > 0);
    $d->stop();
    $d->start();
    var_dump(Herald\emit('r', 'after') > 0);
    var_dump(count(Herald\emit_many([['r', 'a'], ['r', 'b']])));
    echo 'messages: ', $d->stats()['messages_emitted'], "\n";
}
// down between two emits: a clear error, then back up: works again
$d->stop();
try { Herald\emit('r', 'x'); } catch (Herald\ConnectionException $e) { echo "down: ConnectionException\n"; }
$d->start();
var_dump(Herald\emit('r', 'again') > 0);
?>
--EXPECT--
bool(true)
bool(true)
int(2)
messages: 3
bool(true)
bool(true)
int(2)
messages: 3
down: ConnectionException
bool(true)
