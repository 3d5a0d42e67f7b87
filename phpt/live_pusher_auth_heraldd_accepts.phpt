--TEST--
Live: heraldd (GET /app/{key}) accepts private and presence subscriptions signed by Herald\pusher_auth() and refuses a forged one; an emit of {"event","data"} arrives as that Pusher event
--EXTENSIONS--
herald
--SKIPIF--
<?php require __DIR__ . '/lib/heraldd.php'; echo herald_test_skip_unless_live(); ?>
--FILE--
<?php
require __DIR__ . '/lib/heraldd.php';
$dir = trim(shell_exec('mktemp -d'));
file_put_contents("$dir/apps", "1:other-key:" . bin2hex(random_bytes(16)) . "\n1001:app-key:" . bin2hex(random_bytes(16)) . "\n");
chmod("$dir/apps", 0600);
$d = new HeraldTestDaemon(['--pusher_apps_file', "$dir/apps"], $dir);
ini_set('herald.endpoint', 'unix://' . $d->sock);
ini_set('herald.pusher_apps_file', "$dir/apps");
ini_set('herald.pusher_app_key', 'app-key');

$ws = new HeraldTestWs($d->publicPort, '/app/app-key?protocol=7&client=js&version=8.4.0');
$hello = $ws->recv();
$socket = json_decode($hello['data'], true)['socket_id'];
echo $hello['event'], ' ', preg_match('/^\d+\.\d+$/', $socket), "\n";
function sub(HeraldTestWs $ws, string $channel, string $authJson): array {
    $ws->send(['event' => 'pusher:subscribe', 'data' => ['channel' => $channel] + json_decode($authJson, true)]);
    return $ws->recv();
}
$r = sub($ws, 'private-orders.1', Herald\pusher_auth($socket, 'private-orders.1'));
echo $r['event'], ' ', $r['channel'], "\n";
$r = sub($ws, 'presence-room', Herald\pusher_auth($socket, 'presence-room', ['user_id' => 7, 'user_info' => ['name' => 'Zoë']]));
echo $r['event'], ' ', $r['channel'], ' ', $r['data'], "\n";
// signed for another socket: refused
$r = sub($ws, 'private-other', Herald\pusher_auth('1.1', 'private-other'));
echo $r['event'], ' ', $r['data']['status'] ?? '', "\n";
$ws->recv(); // the pusher:error that follows
// signed with the other app's secret: refused
ini_set('herald.pusher_app_key', 'other-key');
$forged = json_decode(Herald\pusher_auth($socket, 'private-other'), true);
$forged['auth'] = 'app-key:' . explode(':', $forged['auth'])[1];
$r = sub($ws, 'private-other', json_encode($forged));
echo $r['event'], ' ', $r['data']['status'] ?? '', "\n";
$ws->recv();
// the Laravel broadcaster's message shape reaches Pusher clients as the event
Herald\emit_many([['private-orders.1', ['event' => 'App\\Events\\OrderShipped', 'data' => ['id' => 7]]]]);
$r = $ws->recv();
echo $r['event'], ' ', $r['channel'], ' ', $r['data'], "\n";
unlink("$dir/apps"); // the daemon's destructor removes the rest
?>
--EXPECT--
pusher:connection_established 1
pusher_internal:subscription_succeeded private-orders.1
pusher_internal:subscription_succeeded presence-room {"presence":{"ids":["7"],"hash":{"7":{"name":"Zoë"}},"count":1}}
pusher:subscription_error 401
pusher:subscription_error 401
App\Events\OrderShipped private-orders.1 {"id":7}
