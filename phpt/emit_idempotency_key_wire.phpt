--TEST--
Every emit request carries an Idempotency-Key (the caller's, or one the extension makes: 22 base64url characters, never repeated); emit_many records carry theirs in the batch body; a retry after a stale connection resends the same key; both transports
--EXTENSIONS--
herald
--INI--
herald.timeout_ms=10000
herald.connect_timeout_ms=5000
--FILE--
<?php
$dir = sys_get_temp_dir() . '/herald-phpt-key-' . getmypid();
@mkdir($dir);
// through sh (exec): the valgrind suite does not trace sh, so the recorder runs natively
$rec = proc_open('exec ' . implode(' ', array_map('escapeshellarg', [PHP_BINARY, '-n', __DIR__ . '/lib/recorder.php', "$dir/r.sock", "$dir/log"])),
                 [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', "$dir/err", 'w']], $pipes);
$port = (int)substr(trim(fgets($pipes[1])), 6);
function requests(string $dir): array {
    $r = array_map(fn($l) => json_decode($l, true), file("$dir/log", FILE_IGNORE_NEW_LINES));
    file_put_contents("$dir/log", '');
    return $r;
}
function key_of(array $req): ?string {
    return preg_match('/\r\nIdempotency-Key: ([^\r]*)/', $req['head'], $m) ? $m[1] : null;
}
foreach (['unix' => "unix://$dir/r.sock", 'tcp' => "http://127.0.0.1:$port"] as $t => $ep) {
    ini_set('herald.endpoint', $ep);
    echo "-- $t\n";
    Herald\emit('orders', 'a');
    Herald\emit('orders', 'b');
    Herald\emit('orders', 'c', 'order-42:paid');
    (new Herald\Client($ep))->emit('orders', 'd', 'client-key');
    var_dump(Herald\emit_many([['orders', 'e', 'rec-1'], ['orders', 'f'], 'other' => 'g', ['x', 'h', null]]));
    Herald\defer('orders', 'i');
    Herald\flush();
    $r = requests($dir);
    [$k1, $k2] = [key_of($r[0]), key_of($r[1])];
    echo 'made keys: ', preg_match('/^[A-Za-z0-9_-]{22}$/', $k1) && preg_match('/^[A-Za-z0-9_-]{22}$/', $k2) ? '22 base64url' : "$k1 $k2",
         ', ', $k1 !== $k2 ? 'distinct' : 'SAME', "\n";
    echo 'given: ', key_of($r[2]), ' ', key_of($r[3]), "\n";
    echo 'batch: ', preg_match('/^[A-Za-z0-9_-]{22}$/', key_of($r[4])) ? 'made key' : key_of($r[4]), "\n", $r[4]['body'];
    echo 'defer batch: ', preg_match('/^[A-Za-z0-9_-]{22}$/', key_of($r[5])) ? 'made key' : key_of($r[5]), "\n";
    echo 'one key header each: ', count(array_filter($r, fn($q) => substr_count($q['head'], 'Idempotency-Key:') === 1)), ' of ', count($r), "\n";

    // the connection dies under the request: the retry carries the same key
    Herald\emit('drop-once', 'j');
    $r = requests($dir);
    echo 'retry: ', count($r), ' requests on connections ', $r[0]['conn'] !== $r[1]['conn'] ? 'old, new' : 'SAME',
         ', ', key_of($r[0]) === key_of($r[1]) ? 'same key' : 'DIFFERENT KEYS', "\n";
    file_put_contents("$dir/log", '');
}
fclose($pipes[0]);
proc_close($rec);
foreach (glob("$dir/*") as $f) unlink($f);
rmdir($dir);
?>
--EXPECT--
-- unix
array(4) {
  [0]=>
  int(5)
  [1]=>
  int(6)
  [2]=>
  int(7)
  [3]=>
  int(8)
}
made keys: 22 base64url, distinct
given: order-42:paid client-key
batch: made key
orders 1 rec-1
e
orders 1
f
other 1
g
x 1
h
defer batch: made key
one key header each: 6 of 6
retry: 2 requests on connections old, new, same key
-- tcp
array(4) {
  [0]=>
  int(15)
  [1]=>
  int(16)
  [2]=>
  int(17)
  [3]=>
  int(18)
}
made keys: 22 base64url, distinct
given: order-42:paid client-key
batch: made key
orders 1 rec-1
e
orders 1
f
other 1
g
x 1
h
defer batch: made key
one key header each: 6 of 6
retry: 2 requests on connections old, new, same key
