--TEST--
Herald\channel(): ttl gives now + ttl, secret_file read once, herald.secret wins, bad input refused
--EXTENSIONS--
herald
--FILE--
<?php
function check_mac(string $signed, string $kid, string $key): bool {
    [$ch, $tail] = explode('~', $signed, 2);
    [$v, $k, $exp, $mac] = explode('.', $tail);
    $want = rtrim(strtr(base64_encode(hash_hmac('sha256', "v1.$k.$exp.$ch", $key, true)), '+/', '-_'), '=');
    return $v === 'v1' && $k === $kid && hash_equals($want, $mac);
}
try { Herald\channel('orders'); } catch (Herald\Exception $e) { echo get_class($e), ': ', $e->getMessage(), "\n"; }

$dir = sys_get_temp_dir() . '/herald-phpt-' . getmypid();
@mkdir($dir);
file_put_contents("$dir/secret", "\n  \nk7:first-secret-0123456789\r\nk6:second-secret-0123456789\n");
chmod("$dir/secret", 0600); // heraldd and the extension refuse a secret others can read
ini_set('herald.secret_file', "$dir/secret");
$before = time();
$s = Herald\channel('user.42', 60);
$after = time();
var_dump(check_mac($s, 'k7', 'first-secret-0123456789'));
$exp = (int)explode('.', $s)[3];
var_dump($exp >= $before + 60 && $exp <= $after + 60);
var_dump(str_ends_with(explode('~', Herald\channel('a'))[1], '') && explode('.', Herald\channel('a'))[2] === '0');

// read once per process: changing the file does not change the signature
$first = Herald\channel('x');
file_put_contents("$dir/secret", "k9:another-secret-0123456789\n");
var_dump(Herald\channel('x') === $first);
// herald.secret wins over the file
ini_set('herald.secret', 'own-secret-0123456789');
var_dump(check_mac(Herald\channel('x'), '0', 'own-secret-0123456789'));
ini_set('herald.secret', '');

foreach ([['ok', -1], ['b a d', 0], ['', 0], [str_repeat('c', 201), 0]] as [$name, $ttl]) {
    try { Herald\channel($name, $ttl); echo "accepted\n"; }
    catch (Herald\InvalidArgumentException $e) { echo $e->getMessage(), "\n"; }
}
foreach (['short', 'bad kid!:0123456789abcdef'] as $secret) {
    ini_set('herald.secret', $secret);
    try { Herald\channel('x'); } catch (Herald\Exception $e) { echo $e->getMessage(), "\n"; }
}
ini_set('herald.secret', '');
ini_set('herald.secret_file', "$dir/missing");
try { Herald\channel('x'); } catch (Herald\Exception $e) { echo str_replace($dir, 'DIR', $e->getMessage()), "\n"; }
file_put_contents("$dir/short", "tooshort\n");
chmod("$dir/short", 0600);
ini_set('herald.secret_file', "$dir/short");
try { Herald\channel('x'); } catch (Herald\Exception $e) { echo str_replace($dir, 'DIR', $e->getMessage()), "\n"; }
foreach (glob("$dir/*") as $f) unlink($f);
rmdir($dir);
?>
--EXPECT--
Herald\Exception: Herald: no secret to sign channel names: set herald.secret_file to heraldd's secret_file (or herald.secret)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
Herald: ttl must be 0 (never expires) or a number of seconds
Herald: invalid channel name of 5 bytes: a channel is 1-200 bytes of A-Z a-z 0-9 _ - . : @ (sign it with Herald\channel() for browsers, emit to the plain name)
Herald: invalid channel name of 0 bytes: a channel is 1-200 bytes of A-Z a-z 0-9 _ - . : @ (sign it with Herald\channel() for browsers, emit to the plain name)
Herald: invalid channel name of 201 bytes: a channel is 1-200 bytes of A-Z a-z 0-9 _ - . : @ (sign it with Herald\channel() for browsers, emit to the plain name)
Herald: herald.secret is not a valid secret line (invalid secret (16-512 bytes, optional key id of 1-32 A-Z a-z 0-9 _ - before a ':'))
Herald: herald.secret is not a valid secret line (invalid secret (16-512 bytes, optional key id of 1-32 A-Z a-z 0-9 _ - before a ':'))
Herald: herald.secret_file: cannot open DIR/missing: No such file or directory (check the path)
Herald: herald.secret_file: the first line of DIR/short is not a valid secret (invalid secret (16-512 bytes, optional key id of 1-32 A-Z a-z 0-9 _ - before a ':'))
