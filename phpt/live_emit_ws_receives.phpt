--TEST--
Live: a WebSocket client subscribed with Herald\channel()'s name receives exactly what Herald\emit() sent
--EXTENSIONS--
herald
--SKIPIF--
<?php require __DIR__ . '/lib/heraldd.php'; echo herald_test_skip_unless_live(); ?>
--FILE--
<?php
require __DIR__ . '/lib/heraldd.php';
final class Order implements JsonSerializable { function jsonSerialize(): mixed { return ['id' => 7, 'items' => ['a', 'b']]; } }
$d = new HeraldTestDaemon();
ini_set('herald.endpoint', 'unix://' . $d->sock);
ini_set('herald.secret_file', $d->secretFile);
$ws = new HeraldTestWs($d->publicPort);
$sub = $ws->subscribe(Herald\channel('orders', 60));
echo $sub['type'], ' ', $sub['channel'], "\n";
// a forged name is refused
$forged = substr(Herald\channel('secret'), 0, -1) . 'A';
echo json_encode($ws->subscribe($forged === Herald\channel('secret') ? 'x' : $forged, 2)['code']), "\n";

$messages = ["hello \"world\"\n", ['total' => 42, 'path' => '/a/b', 'name' => 'Zoë'], new Order, ''];
foreach ($messages as $m) {
    $id = Herald\emit('orders', $m);
    $got = $ws->recv();
    $want = is_string($m) ? $m : json_encode($m, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    echo $got['type'], ' ', $got['channel'], ' id ', $got['id'] === $id ? 'matches' : 'differs', ' data ',
         $got['data'] === $want ? 'exact' : 'DIFFERS: ' . var_export($got['data'], true), "\n";
}
// Binary bytes come back base64-encoded, byte for byte
$bin = "\xff\x00\xfe";
Herald\emit('orders', $bin);
$got = $ws->recv();
var_dump(($got['encoding'] ?? '') === 'base64' && base64_decode($got['data']) === $bin);
// emit_many: ids in order, delivered in order; other channels not delivered here
$ids = Herald\emit_many([['orders', 'm1'], ['elsewhere', 'zz'], 'orders' => 'm2']);
var_dump(count($ids), $ids[1] !== $ids[0]);
foreach (['m1', 'm2'] as $i => $want) { $g = $ws->recv(); echo $g['data'], ' ', $g['id'] === $ids[$i * 2] ? 'id ok' : 'id differs', "\n"; }
?>
--EXPECT--
subscribed orders
"forbidden"
message orders id matches data exact
message orders id matches data exact
message orders id matches data exact
message orders id matches data exact
bool(true)
int(3)
bool(true)
m1 id ok
m2 id ok
