--TEST--
Live, php-fpm: defer() sends after the response has gone (the page does not wait for heraldd): with heraldd stalled, the FastCGI request still ends at once, and the message arrives when heraldd resumes
--EXTENSIONS--
herald
--SKIPIF--
<?php require __DIR__ . '/lib/heraldd.php'; echo herald_test_skip_unless_live();
if (!getenv('HERALD_EXT_SO')) echo 'skip HERALD_EXT_SO unset (the suite sets it)';
elseif (!is_executable('/usr/sbin/php-fpm8.2')) echo 'skip php-fpm8.2 missing (scripts/setup)'; ?>
--FILE--
<?php
require __DIR__ . '/lib/heraldd.php';
$d = new HeraldTestDaemon();
ini_set('herald.secret_file', $d->secretFile);
$ws = new HeraldTestWs($d->publicPort);
echo $ws->subscribe(Herald\channel('orders'))['type'], "\n";

$dir = $d->dir;
file_put_contents("$dir/fpm.conf", "[global]\npid = $dir/fpm.pid\nerror_log = $dir/fpm.log\ndaemonize = no\n"
    . "[t]\nlisten = $dir/fpm.sock\npm = static\npm.max_children = 1\ncatch_workers_output = yes\n");
file_put_contents("$dir/page.php", '<?php Herald\defer("orders", "after page " . $_GET["n"]); echo "page ", $_GET["n"], " done\n";');
$root = trim((string)shell_exec('id -u')) === '0';
// through sh (exec): the valgrind suite does not trace sh, so php-fpm runs natively
$fpm = proc_open('exec ' . implode(' ', array_map('escapeshellarg', array_merge(['/usr/sbin/php-fpm8.2', '-n',
        '-d', 'extension=' . getenv('HERALD_EXT_SO'), '-d', 'herald.endpoint=unix://' . $d->sock, '-d', 'herald.timeout_ms=5000',
        '-d', 'log_errors=1', '-F', '-y', "$dir/fpm.conf", '-p', $dir], $root ? ['-R'] : []))),
    [0 => ['file', '/dev/null', 'r'], 1 => ['file', "$dir/fpm.out", 'w'], 2 => ['file', "$dir/fpm.out", 'a']], $pipes);
for ($i = 0; $i < 500 && !file_exists("$dir/fpm.sock"); $i++) usleep(10000);
if (!file_exists("$dir/fpm.sock")) { echo "php-fpm did not start: ", @file_get_contents("$dir/fpm.out"), @file_get_contents("$dir/fpm.log"); }

function page(string $dir, int $n): string {
    $t = microtime(true);
    // QUERY_STRING is not sent by the tiny client: pass n through the script name instead
    file_put_contents("$dir/page$n.php", str_replace('$_GET["n"]', "'$n'", file_get_contents("$dir/page.php")));
    $out = herald_test_fcgi_get("$dir/fpm.sock", "$dir/page$n.php");
    $body = substr($out, strpos($out, "\r\n\r\n") + 4);
    return trim($body) . sprintf(' (%s)', microtime(true) - $t < 1.0 ? 'at once' : sprintf('after %.1f s', microtime(true) - $t));
}
try {
    echo page($dir, 1), "\n";
    echo $ws->recv()['data'], "\n";

    // heraldd stalls: the page must not wait for it
    $d->signal(19); // SIGSTOP
    echo page($dir, 2), "\n";
    $d->signal(18); // SIGCONT
    echo $ws->recv()['data'], "\n";
} finally {
    // also when a step above throws: never leave php-fpm or a stopped heraldd behind
    proc_terminate($fpm, 15); // SIGTERM: php-fpm stops its workers and exits
    $deadline = microtime(true) + 5;
    while (proc_get_status($fpm)['running'] && microtime(true) < $deadline) usleep(10000);
    if (proc_get_status($fpm)['running']) proc_terminate($fpm, 9);
    proc_close($fpm);
    $d->signal(18);
}
$log = (string)@file_get_contents("$dir/fpm.log");
echo str_contains($log, 'deferred message(s) not sent') ? "lost messages logged:\n$log" : "nothing lost\n";
foreach (['fpm.conf', 'fpm.log', 'fpm.out', 'fpm.pid', 'page.php', 'page1.php', 'page2.php'] as $f) @unlink("$dir/$f");
?>
--EXPECT--
subscribed
page 1 done (at once)
after page 1
page 2 done (at once)
after page 2
nothing lost
