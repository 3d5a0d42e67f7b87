--TEST--
A heraldd that accepts but never answers: ConnectionException after herald.timeout_ms, never a hang
--EXTENSIONS--
herald
--INI--
herald.timeout_ms=200
--FILE--
<?php
// the kernel completes the connect (listen backlog); nobody ever answers
$srv = stream_socket_server('tcp://127.0.0.1:0');
$name = stream_socket_get_name($srv, false);
ini_set('herald.endpoint', "http://$name");
$t = microtime(true);
try { Herald\emit('orders', 'x'); echo "sent?\n"; }
catch (Herald\ConnectionException $e) { echo str_contains($e->getMessage(), 'did not answer in time') ? "timed out\n" : $e->getMessage() . "\n"; }
$dt = microtime(true) - $t;
var_dump($dt >= 0.18 && $dt < 1.0);
?>
--EXPECT--
timed out
bool(true)
