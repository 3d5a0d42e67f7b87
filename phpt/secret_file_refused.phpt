--TEST--
herald.secret_file / emit_secret_file: a FIFO, /dev/zero or a directory is refused at once (no hang), a file others can read is refused as heraldd refuses it, a file over 64 KiB too
--EXTENSIONS--
herald
--FILE--
<?php
$dir = sys_get_temp_dir() . '/herald-phpt-sf-' . getmypid();
@mkdir($dir);
shell_exec('mkfifo ' . escapeshellarg("$dir/fifo"));
file_put_contents("$dir/others", "k1:readable-by-all-0123456789\n");
chmod("$dir/others", 0644);
file_put_contents("$dir/world-writable", "k1:writable-by-all-0123456789\n");
chmod("$dir/world-writable", 0602);
file_put_contents("$dir/big", "k1:first-line-0123456789\n" . str_repeat('#', 65536));
chmod("$dir/big", 0600);
file_put_contents("$dir/group", "k1:group-readable-0123456789\n");
chmod("$dir/group", 0640);
file_put_contents("$dir/blank", "\n \t\r\n\n");
chmod("$dir/blank", 0600);

foreach (['fifo', '/dev/zero', '.', 'others', 'world-writable', 'big', 'blank', 'group'] as $f) {
    $path = $f[0] === '/' ? $f : ($f === '.' ? $dir : "$dir/$f");
    ini_set('herald.secret_file', $path);
    $t = microtime(true);
    try { $s = Herald\channel('orders'); echo "$f: signed (", explode('.', $s)[1], ")\n"; }
    catch (Herald\Exception $e) { echo "$f: ", str_replace($dir, 'DIR', $e->getMessage()), "\n"; }
    if (microtime(true) - $t > 1) echo "$f: too slow\n";
}
ini_set('herald.secret_file', '');

// the emit secret goes through the same reader, before any connection
ini_set('herald.endpoint', 'unix:///nonexistent/emit.sock');
foreach (['fifo', 'others'] as $f) {
    ini_set('herald.emit_secret_file', "$dir/$f");
    try { Herald\emit('orders', 'x'); echo "sent?\n"; }
    catch (Herald\Exception $e) { echo "emit, $f: ", str_replace($dir, 'DIR', $e->getMessage()), "\n"; }
}
foreach (glob("$dir/*") as $f) unlink($f);
rmdir($dir);
?>
--EXPECT--
fifo: Herald: herald.secret_file: DIR/fifo is a FIFO, not a regular file: point it at the file that holds the secret
/dev/zero: Herald: herald.secret_file: /dev/zero is a character device, not a regular file: point it at the file that holds the secret
.: Herald: herald.secret_file: DIR is a directory, not a regular file: point it at the file that holds the secret
others: Herald: herald.secret_file: DIR/others is readable by every user: run chmod o-rw DIR/others (e.g. chmod 600, or 640 with a group php-fpm is in)
world-writable: Herald: herald.secret_file: DIR/world-writable is writable by every user: run chmod o-rw DIR/world-writable (e.g. chmod 600, or 640 with a group php-fpm is in)
big: Herald: herald.secret_file: DIR/big is larger than 65536 bytes: a secret file holds a few short lines
blank: Herald: herald.secret_file: DIR/blank holds no secret (the first non-blank line is the secret)
group: signed (k1)
emit, fifo: Herald: herald.emit_secret_file: DIR/fifo is a FIFO, not a regular file: point it at the file that holds the secret
emit, others: Herald: herald.emit_secret_file: DIR/others is readable by every user: run chmod o-rw DIR/others (e.g. chmod 600, or 640 with a group php-fpm is in)
