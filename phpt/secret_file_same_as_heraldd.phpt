--TEST--
A secret file signs the same names in PHP and in `heraldd sign`, trailing spaces, tabs and CRLF included (one reader: common/secretfile.c)
--EXTENSIONS--
herald
--SKIPIF--
<?php
require __DIR__ . '/lib/heraldd.php';
if (herald_test_heraldd_path() === null) die('skip heraldd is not built');
?>
--FILE--
<?php
require __DIR__ . '/lib/heraldd.php';
$bin = herald_test_heraldd_path();
$dir = sys_get_temp_dir() . '/herald-phpt-' . getmypid();
@mkdir($dir, 0700);
$cases = [
    'plain' => "k1:a-secret-of-enough-bytes-01234\n",
    'trailing tab' => "k1:a-secret-of-enough-bytes-01234\t\n",
    'trailing spaces, CRLF' => "k1:a-secret-of-enough-bytes-01234  \r\n",
    'blank line first' => "\n\nk1:a-secret-of-enough-bytes-01234\n",
];
$i = 0;
foreach ($cases as $what => $text) {
    $file = "$dir/secret-" . $i++; /* the extension reads a path once per process */
    file_put_contents($file, $text);
    chmod($file, 0600);
    ini_set('herald.secret_file', $file);
    $php = Herald\channel('orders');
    $out = [];
    exec(escapeshellarg($bin) . ' sign orders --secret-file ' . escapeshellarg($file) . ' 2>&1', $out, $rc);
    echo $what, ': ', ($rc === 0 && trim(implode('', $out)) === $php) ? 'same' : "differ ($php / " . implode('', $out) . ')', "\n";
    @unlink($file);
}
@rmdir($dir);
?>
--EXPECT--
plain: same
trailing tab: same
trailing spaces, CRLF: same
blank line first: same
