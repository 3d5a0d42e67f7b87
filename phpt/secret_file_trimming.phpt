--TEST--
herald.secret_file lines are cut as heraldd cuts them: CRLF, trailing spaces and tabs, blank lines before; leading bytes kept
--EXTENSIONS--
herald
--FILE--
<?php
function mac_ok(string $signed, string $kid, string $key): bool {
    [$ch, $tail] = explode('~', $signed, 2);
    [$v, $k, $exp, $mac] = explode('.', $tail);
    $want = rtrim(strtr(base64_encode(hash_hmac('sha256', "v1.$k.$exp.$ch", $key, true)), '+/', '-_'), '=');
    return $k === $kid && hash_equals($want, $mac);
}
$dir = sys_get_temp_dir() . '/herald-phpt-trim-' . getmypid();
@mkdir($dir);
$cases = [
    'crlf'        => ["k1:crlf-secret-0123456789\r\nk2:other-secret-0123456789\r\n", 'k1', 'crlf-secret-0123456789'],
    'tab'         => ["k1:tab-secret-0123456789\t\n", 'k1', 'tab-secret-0123456789'],
    'space-tab'   => ["k1:mixed-secret-0123456789 \t \r\n", 'k1', 'mixed-secret-0123456789'],
    'blank-first' => ["\n\r\n \t\nk3:after-blanks-0123456789\n", 'k3', 'after-blanks-0123456789'],
    'no-lf'       => ["k4:no-final-newline-0123", 'k4', 'no-final-newline-0123'],
];
foreach ($cases as $name => [$text, $kid, $key]) {
    file_put_contents("$dir/$name", $text);
    chmod("$dir/$name", 0600);
    ini_set('herald.secret_file', "$dir/$name");
    echo $name, ': ', mac_ok(Herald\channel('orders'), $kid, $key) ? 'same key as heraldd' : 'DIFFERENT KEY', "\n";
}
// a leading tab is part of the line: it is not a valid kid, and says so
file_put_contents("$dir/lead", "\tk5:leading-tab-0123456789\n");
chmod("$dir/lead", 0600);
ini_set('herald.secret_file', "$dir/lead");
try { Herald\channel('orders'); } catch (Herald\Exception $e) { echo str_replace($dir, 'DIR', $e->getMessage()), "\n"; }
foreach (glob("$dir/*") as $f) unlink($f);
rmdir($dir);
?>
--EXPECT--
crlf: same key as heraldd
tab: same key as heraldd
space-tab: same key as heraldd
blank-first: same key as heraldd
no-lf: same key as heraldd
Herald: herald.secret_file: the first line of DIR/lead is not a valid secret (invalid secret (16-512 bytes, optional key id of 1-32 A-Z a-z 0-9 _ - before a ':'))
