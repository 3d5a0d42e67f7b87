<?php
/* The PHP emit benchmark: five ways of publishing one small message to one
 * heraldd, each timed over N messages in this one process. Prints a
 * Markdown table with emits/s, µs per emit and the speed-up over (1).
 * Usage (bench/php/run.sh does all of it):
 *   php -d extension=curl -d extension=herald.so bench.php UNIX_SOCKET TCP_PORT [N] */
if ($argc < 3) { fwrite(STDERR, "usage: bench.php UNIX_SOCKET TCP_PORT [N]\n"); exit(2); }
[$sock, $port] = [$argv[1], (int)$argv[2]];
$n = (int)($argv[3] ?? 20000);
$msg = '{"type":"order","id":12345,"total":"19.90"}';
$tcp = "http://127.0.0.1:$port";

function run(string $label, int $n, callable $f): array {
    $f(min(200, $n));                       // warm-up (and the first connect)
    $t = hrtime(true);
    $f($n);
    $s = (hrtime(true) - $t) / 1e9;
    return [$label, $n / $s, $s / $n * 1e6];
}

$rows = [];
$rows[] = run('(1) PHP curl: new handle per message, POST /emit/{ch} (TCP)', (int)max(1000, $n / 4), function ($k) use ($tcp, $msg) {
    for ($i = 0; $i < $k; $i++) {
        $c = curl_init("$tcp/emit/bench");
        curl_setopt_array($c, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => $msg, CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => ['Expect:']]);
        if (curl_exec($c) === false || curl_getinfo($c, CURLINFO_RESPONSE_CODE) !== 202) throw new RuntimeException(curl_error($c));
        curl_close($c);
    }
});
$rows[] = run('(2) PHP curl: one reused handle, POST /emit/{ch} (TCP)', $n, function ($k) use ($tcp, $msg) {
    static $c = null;
    $c ??= curl_init();
    curl_setopt_array($c, [CURLOPT_URL => "$tcp/emit/bench", CURLOPT_POST => true, CURLOPT_POSTFIELDS => $msg,
        CURLOPT_RETURNTRANSFER => true, CURLOPT_HTTPHEADER => ['Expect:'], CURLOPT_TCP_NODELAY => true]);
    for ($i = 0; $i < $k; $i++)
        if (curl_exec($c) === false) throw new RuntimeException(curl_error($c));
});
$rows[] = run('(3) Herald\emit() over TCP', $n, function ($k) use ($tcp, $msg) {
    ini_set('herald.endpoint', $tcp);
    for ($i = 0; $i < $k; $i++) Herald\emit('bench', $msg);
});
$rows[] = run('(4) Herald\emit() over the unix socket', $n, function ($k) use ($sock, $msg) {
    ini_set('herald.endpoint', "unix://$sock");
    for ($i = 0; $i < $k; $i++) Herald\emit('bench', $msg);
});
$batch = array_fill(0, 100, ['bench', $msg]);
$rows[] = run('(5) Herald\emit_many(), batches of 100 (unix socket)', $n, function ($k) use ($sock, $batch) {
    ini_set('herald.endpoint', "unix://$sock");
    for ($i = 0; $i < $k; $i += 100) Herald\emit_many($batch);
});

/* The floor on this machine: one request/answer round trip on a raw unix
 * socket, no HTTP client at all (PHP streams, same request bytes). */
$rows[] = run('(ref) raw round trip on the unix socket, no client library', $n, function ($k) use ($sock, $msg) {
    static $s = null;
    $s ??= stream_socket_client("unix://$sock");
    $req = "POST /emit/bench HTTP/1.1\r\nHost: h\r\nContent-Length: " . strlen($msg) . "\r\n\r\n$msg";
    for ($i = 0; $i < $k; $i++) {
        fwrite($s, $req);
        $r = fread($s, 4096);
        if (!str_starts_with($r, 'HTTP/1.1 202')) throw new RuntimeException('raw: ' . $r);
    }
});

$base = $rows[0][1];
printf("| method | emits/s | µs/emit | vs (1) |\n|---|---:|---:|---:|\n");
foreach ($rows as [$label, $rate, $us])
    printf("| %s | %s | %.1f | %.1f× |\n", $label, number_format($rate, 0, '.', ','), $us, $rate / $base);
printf("\n%d messages of %d bytes per row (row 1: %d), PHP %s, %s\n", $n, strlen($msg), (int)max(1000, $n / 4), PHP_VERSION, php_uname('m'));
