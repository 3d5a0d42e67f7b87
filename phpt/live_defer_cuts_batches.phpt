--TEST--
Live: defer() cuts its queue into batch requests by herald.max_batch_messages and herald.max_batch_bytes, so heraldd's limits (413) are never hit; emit_many() stays one request, all or nothing
--EXTENSIONS--
herald
--SKIPIF--
<?php require __DIR__ . '/lib/heraldd.php'; echo herald_test_skip_unless_live(); ?>
--FILE--
<?php
require __DIR__ . '/lib/heraldd.php';
// heraldd refuses batches of more than 5 messages or 1100 bytes
$d = new HeraldTestDaemon(['--max_batch_messages', '5', '--max_emit_body_bytes', '1100', '--public_channels', 'q*']);
ini_set('herald.endpoint', 'unix://' . $d->sock);
$ws = new HeraldTestWs($d->publicPort);
echo $ws->subscribe('q')['type'], "\n";

// by count: 12 small messages, 5 per request
ini_set('herald.max_batch_messages', '5');
for ($i = 1; $i <= 12; $i++) Herald\defer('q', "m$i");
var_dump(Herald\flush());
$got = [];
for ($i = 1; $i <= 12; $i++) $got[] = $ws->recv()['data'];
echo implode(' ', $got), "\n";

// by bytes: 6 messages of 300 bytes, at most 1024 bytes per request
ini_set('herald.max_batch_messages', '10000');
ini_set('herald.max_batch_bytes', '1024');
for ($i = 1; $i <= 6; $i++) Herald\defer('q', str_pad("b$i", 300, '.'));
var_dump(Herald\flush());
$got = [];
for ($i = 1; $i <= 6; $i++) $got[] = substr($ws->recv()['data'], 0, 2);
echo implode(' ', $got), "\n";

// without the cut heraldd would refuse it (the limit is real)
ini_set('herald.max_batch_messages', '6');
for ($i = 1; $i <= 6; $i++) Herald\defer('q', "x$i");
try { Herald\flush(); } catch (Herald\RejectedException $e) { echo $e->getStatus(), ' ', $e->getReason(), "\n"; }

// emit_many() is one request: over the limit nothing is published
try { Herald\emit_many(array_map(fn($i) => ['q', "e$i"], range(1, 6))); }
catch (Herald\RejectedException $e) { echo $e->getStatus(), "\n"; }
Herald\emit('q', 'after');
echo $ws->recv()['data'], "\n";

var_dump(ini_set('herald.max_batch_messages', '0'), ini_get('herald.max_batch_messages'));
?>
--EXPECT--
subscribed
int(12)
m1 m2 m3 m4 m5 m6 m7 m8 m9 m10 m11 m12
int(6)
b1 b2 b3 b4 b5 b6
413 batch of 6 messages: at most 5 (max_batch_messages)
413
after
bool(false)
string(1) "6"
