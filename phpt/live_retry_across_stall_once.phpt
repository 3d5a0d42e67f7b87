--TEST--
Live: an emit that times out while heraldd is stalled, retried with its Idempotency-Key after heraldd resumes, is published once (emit and emit_many)
--EXTENSIONS--
herald
--SKIPIF--
<?php require __DIR__ . '/lib/heraldd.php'; echo herald_test_skip_unless_live(); ?>
--INI--
herald.connect_timeout_ms=5000
herald.timeout_ms=5000
--FILE--
<?php
require __DIR__ . '/lib/heraldd.php';
$d = new HeraldTestDaemon();
ini_set('herald.endpoint', 'unix://' . $d->sock);
Herald\emit('warm', 'up'); // the kept-alive connection exists
ini_set('herald.timeout_ms', '300'); // the caller's patience while heraldd is stalled
$d->signal(defined('SIGSTOP') ? SIGSTOP : 19); // Linux's numbers without pcntl
try { Herald\emit('orders', 'order 7 shipped', 'order-7:shipped'); echo "sent?\n"; }
catch (Herald\ConnectionException $e) { echo "stalled: ConnectionException\n"; }
try { Herald\emit_many([['orders', 'a', 'batch-a'], ['orders', 'b', 'batch-b']]); echo "sent?\n"; }
catch (Herald\ConnectionException $e) { echo "stalled: ConnectionException\n"; }
$d->signal(defined('SIGCONT') ? SIGCONT : 18);
usleep(300000); // heraldd reads what the stalled requests left in its sockets
ini_set('herald.timeout_ms', '5000');
$id = Herald\emit('orders', 'order 7 shipped', 'order-7:shipped');
$ids = Herald\emit_many([['orders', 'a', 'batch-a'], ['orders', 'b', 'batch-b']]);
$again = Herald\emit('orders', 'order 7 shipped', 'order-7:shipped');
var_dump($id === $again, count($ids));
$s = $d->stats();
echo 'emitted: ', $s['messages_emitted'], ', repeated: ', $s['emits_repeated'] >= 3 ? 'yes' : $s['emits_repeated'], "\n";
?>
--EXPECT--
stalled: ConnectionException
stalled: ConnectionException
bool(true)
int(2)
emitted: 4, repeated: yes
