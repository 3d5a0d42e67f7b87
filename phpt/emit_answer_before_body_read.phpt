--TEST--
heraldd may answer (413) and close before it has read a large body: the extension reads that answer instead of reporting a broken connection (Unix socket)
--EXTENSIONS--
herald
--INI--
herald.timeout_ms=10000
herald.connect_timeout_ms=5000
--FILE--
<?php
$dir = sys_get_temp_dir() . '/herald-phpt-early-' . getmypid();
@mkdir($dir);
// through sh (exec): the valgrind suite does not trace sh, so the recorder runs natively
$rec = proc_open('exec ' . implode(' ', array_map('escapeshellarg', [PHP_BINARY, '-n', __DIR__ . '/lib/recorder.php', "$dir/r.sock", "$dir/log"])),
                 [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', "$dir/err", 'w']], $pipes);
fgets($pipes[1]);
ini_set('herald.endpoint', "unix://$dir/r.sock");
// 8 MiB: far more than the socket buffers hold, so the write is cut by the close
foreach ([8 << 20, 100] as $n) {
    try { Herald\emit('early-413', str_repeat('x', $n)); echo "sent?\n"; }
    catch (Herald\RejectedException $e) { echo "$n bytes: ", $e->getStatus(), ' ', $e->getReason(), "\n"; }
}
echo "next emit: ", Herald\emit('orders', 'fine') > 0 ? "ok\n" : "?\n";
fclose($pipes[0]);
proc_close($rec);
foreach (glob("$dir/*") as $f) unlink($f);
rmdir($dir);
?>
--EXPECT--
8388608 bytes: 413 request body too large (test)
100 bytes: 413 request body too large (test)
next emit: ok
