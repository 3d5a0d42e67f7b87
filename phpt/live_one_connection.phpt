--TEST--
Live: 1,000 emits in one process use one connection (heraldd's emit_connections_accepted)
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
ini_set('herald.endpoint', 'unix://' . $d->sock);
$before = $d->stats();            // this request is one emit connection
for ($i = 0; $i < 1000; $i++) Herald\emit('count', "m$i");
Herald\emit_many([['count', 'a'], ['count', 'b']]);
$after = $d->stats();             // and this one another
echo 'connections: ', $after['emit_connections_accepted'] - $before['emit_connections_accepted'] - 1, "\n";
echo 'messages: ', $after['messages_emitted'] - $before['messages_emitted'], "\n";
// the same over TCP
ini_set('herald.endpoint', 'http://127.0.0.1:' . $d->emitPort);
$before = $d->stats();
for ($i = 0; $i < 1000; $i++) Herald\emit('count', "m$i");
$after = $d->stats();
echo 'tcp connections: ', $after['emit_connections_accepted'] - $before['emit_connections_accepted'] - 1, "\n";
?>
--EXPECT--
connections: 1
messages: 1002
tcp connections: 1
