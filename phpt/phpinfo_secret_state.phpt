--TEST--
phpinfo() / php --ri herald says what is true about each secret: set, file missing, file not usable (and why), as which user; never the secret
--EXTENSIONS--
herald
--FILE--
<?php
$dir = sys_get_temp_dir() . '/herald-phpt-info-' . getmypid();
@mkdir($dir);
file_put_contents("$dir/good", "k7:do-not-show-0123456789\n");
chmod("$dir/good", 0600);
file_put_contents("$dir/open", "k7:do-not-show-0123456789\n");
chmod("$dir/open", 0644);
file_put_contents("$dir/token", "do-not-show-token-0123456789\n");
chmod("$dir/token", 0640);
file_put_contents("$dir/short", "tooshort\n");
chmod("$dir/short", 0600);
$user = trim((string)shell_exec('id -un'));
function rows(string $dir, string $user): void {
    ob_start();
    phpinfo(INFO_MODULES);
    $info = ob_get_clean();
    if (str_contains($info, 'do-not-show')) echo "SECRET SHOWN\n";
    foreach (explode("\n", $info) as $l)
        if (preg_match('/^(Signing secret|Emit secret) =>/', $l)) echo str_replace([$dir, "user $user"], ['DIR', 'user USER'], $l), "\n";
}
foreach ([["$dir/missing", "$dir/open"], ["$dir/good", "$dir/token"], [$dir, "$dir/missing"], ["$dir/short", '/dev/zero']] as [$s, $t]) {
    ini_set('herald.secret_file', $s);
    ini_set('herald.emit_secret_file', $t);
    rows($dir, $user);
}
ini_set('herald.secret', 'short');
rows($dir, $user);
foreach (glob("$dir/*") as $f) unlink($f);
rmdir($dir);
?>
--EXPECT--
Signing secret => NOT USABLE as user USER: herald.secret_file: cannot open DIR/missing: No such file or directory (check the path)
Emit secret => NOT USABLE as user USER: herald.emit_secret_file: DIR/open is readable by every user: run chmod o-rw DIR/open (e.g. chmod 600, or 640 with a group php-fpm is in)
Signing secret => set (herald.secret_file DIR/good, key id k7; readable by user USER)
Emit secret => set (herald.emit_secret_file DIR/token; readable by user USER)
Signing secret => NOT USABLE as user USER: herald.secret_file: DIR is a directory, not a regular file: point it at the file that holds the secret
Emit secret => NOT USABLE as user USER: herald.emit_secret_file: cannot open DIR/missing: No such file or directory (check the path)
Signing secret => NOT USABLE: herald.secret_file: the first line of DIR/short is not a valid secret (invalid secret (16-512 bytes, optional key id of 1-32 A-Z a-z 0-9 _ - before a ':'))
Emit secret => NOT USABLE as user USER: herald.emit_secret_file: /dev/zero is a character device, not a regular file: point it at the file that holds the secret
Signing secret => NOT USABLE: herald.secret is not a valid secret line (invalid secret (16-512 bytes, optional key id of 1-32 A-Z a-z 0-9 _ - before a ':'))
Emit secret => NOT USABLE as user USER: herald.emit_secret_file: /dev/zero is a character device, not a regular file: point it at the file that holds the secret
