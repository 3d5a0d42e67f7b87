--TEST--
A heraldd that accepts but never answers, or answers a byte at a time: ConnectionException after herald.timeout_ms for the whole request, never a hang (TCP and Unix socket)
--EXTENSIONS--
herald
--INI--
herald.timeout_ms=200
--FILE--
<?php
$dir = sys_get_temp_dir() . '/herald-phpt-to-' . getmypid();
@mkdir($dir);
function timed(string $label): void {
    $t = microtime(true);
    try { Herald\emit('orders', 'x'); echo "$label: sent?\n"; }
    catch (Herald\ConnectionException $e) {
        echo "$label: ", str_contains($e->getMessage(), 'did not answer in time') ? 'timed out' : $e->getMessage();
    }
    $dt = microtime(true) - $t;
    // a hang, or a timeout per read instead of per request, takes 3 s or more
    echo $dt >= 0.18 && $dt < 2.0 ? ", within the timeout\n" : sprintf(", after %.3f s\n", $dt);
}
// the kernel completes the connect (listen backlog); nobody ever answers
$srv = stream_socket_server('tcp://127.0.0.1:0');
ini_set('herald.endpoint', 'http://' . stream_socket_get_name($srv, false));
timed('tcp, silent');
$usrv = stream_socket_server("unix://$dir/silent.sock");
ini_set('herald.endpoint', "unix://$dir/silent.sock");
timed('unix, silent');

// an answer that trickles in a byte every 20 ms: each read gets something,
// the request as a whole must still end at timeout_ms
$child = '<?php $s = stream_socket_server("unix://' . $dir . '/slow.sock"); echo "ready\n";'
       . ' $c = stream_socket_accept($s, 5); fread($c, 4096);'
       . ' foreach (str_split("HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\n" . str_repeat("x", 100)) as $b) { fwrite($c, $b); usleep(20000); }';
file_put_contents("$dir/slow.php", $child);
// through sh (exec): the valgrind suite does not trace sh, so the helper runs natively
$p = proc_open('exec ' . escapeshellarg(PHP_BINARY) . ' -n ' . escapeshellarg("$dir/slow.php"), [1 => ['pipe', 'w']], $pipes);
fgets($pipes[1]);
ini_set('herald.endpoint', "unix://$dir/slow.sock");
timed('unix, trickling');
proc_terminate($p);
proc_close($p);
fclose($usrv);
foreach (glob("$dir/*") as $f) unlink($f);
rmdir($dir);
?>
--EXPECT--
tcp, silent: timed out, within the timeout
unix, silent: timed out, within the timeout
unix, trickling: timed out, within the timeout
