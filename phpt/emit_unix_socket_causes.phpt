--TEST--
A Unix endpoint that cannot be used names the real cause and what to do: no such file, not a socket, connection refused (stale socket file), permission denied
--EXTENSIONS--
herald
--SKIPIF--
<?php if (!getenv('HERALD_EXT_SO')) echo 'skip HERALD_EXT_SO unset (the suite sets it)';
elseif (posix_getuid_or_null() === 0 && !is_executable('/usr/bin/setpriv')) echo 'skip setpriv missing (util-linux)';
function posix_getuid_or_null() { return (int)trim((string)shell_exec('id -u')); } ?>
--FILE--
<?php
$dir = sys_get_temp_dir() . '/herald-phpt-us-' . getmypid();
@mkdir($dir);
function show(string $endpoint, string $dir): void {
    ini_set('herald.endpoint', $endpoint);
    foreach (['emit' => fn() => Herald\emit('orders', 'x'), 'emit_many' => fn() => Herald\emit_many([['a', 'b']])] as $n => $f) {
        try { $f(); echo "sent?\n"; }
        catch (Herald\ConnectionException $e) { echo "$n: ", str_replace($dir, 'DIR', $e->getMessage()), "\n"; }
    }
}
show("unix://$dir/missing.sock", $dir);
file_put_contents("$dir/plain-file", "");
show("unix://$dir/plain-file", $dir);
show("unix://$dir/plain-file/emit.sock", $dir);
// a socket file nobody listens on any more (heraldd killed): PHP leaves the file behind
$s = stream_socket_server("unix://$dir/stale.sock");
fclose($s);
show("unix://$dir/stale.sock", $dir);

// permission denied: a socket of mode 000, opened by a child PHP that lacks
// root's override of file permissions (or is not root at all)
$s = stream_socket_server("unix://$dir/closed.sock");
chmod("$dir/closed.sock", 0);
$wrap = trim((string)shell_exec('id -u')) === '0'
    ? '/usr/bin/setpriv --inh-caps=-dac_override,-dac_read_search --bounding-set=-dac_override,-dac_read_search ' : '';
$child = '<?php ini_set("herald.endpoint", "unix://' . $dir . '/closed.sock");'
       . ' try { Herald\emit("orders", "x"); echo "sent?\n"; } catch (Herald\ConnectionException $e) { echo $e->getMessage(), "\n"; }';
file_put_contents("$dir/child.php", $child);
$out = shell_exec($wrap . escapeshellarg(PHP_BINARY) . ' -n -d extension=' . escapeshellarg(getenv('HERALD_EXT_SO'))
    . ' ' . escapeshellarg("$dir/child.php") . ' 2>&1');
$user = trim((string)shell_exec('id -un'));
echo str_replace([$dir, "user $user;", "put $user "], ['DIR', 'user USER;', 'put USER '], $out);
fclose($s);
foreach (glob("$dir/*") as $f) unlink($f);
rmdir($dir);
?>
--EXPECT--
emit: Herald: cannot reach heraldd at unix://DIR/missing.sock: no such file DIR/missing.sock; heraldd is not running or listens elsewhere: start heraldd, or set herald.endpoint to the unix: path of its emit_listen
emit_many: Herald: cannot reach heraldd at unix://DIR/missing.sock: no such file DIR/missing.sock; heraldd is not running or listens elsewhere: start heraldd, or set herald.endpoint to the unix: path of its emit_listen
emit: Herald: cannot reach heraldd at unix://DIR/plain-file: DIR/plain-file is not a socket; set herald.endpoint to the unix: path of heraldd's emit_listen
emit_many: Herald: cannot reach heraldd at unix://DIR/plain-file: DIR/plain-file is not a socket; set herald.endpoint to the unix: path of heraldd's emit_listen
emit: Herald: cannot reach heraldd at unix://DIR/plain-file/emit.sock: a part of the path is not a directory; set herald.endpoint to the unix: path of heraldd's emit_listen
emit_many: Herald: cannot reach heraldd at unix://DIR/plain-file/emit.sock: a part of the path is not a directory; set herald.endpoint to the unix: path of heraldd's emit_listen
emit: Herald: cannot reach heraldd at unix://DIR/stale.sock: connection refused; the socket file is there but no heraldd listens on it (heraldd stopped and left it behind): start heraldd, and check its log for why it stopped
emit_many: Herald: cannot reach heraldd at unix://DIR/stale.sock: connection refused; the socket file is there but no heraldd listens on it (heraldd stopped and left it behind): start heraldd, and check its log for why it stopped
Herald: cannot reach heraldd at unix://DIR/closed.sock: permission denied for user USER; let it open the socket: put USER in the socket's group (heraldd's emit_socket_group, with emit_socket_mode 0660) and let it search every directory on the path, then restart php-fpm
