<?php
/* What one Herald\emit() costs the PHP process (a php-fpm worker runs the
 * same code): N emits of one small message over a kept-alive connection,
 * wall time and this process's CPU (user + system) per emit, and heraldd's
 * CPU per emit read from /proc. Usage (emit-cost.sh does it all):
 *   php -n -d extension=herald.so emit-cost.php ENDPOINT HERALDD_PID [N] */
[$endpoint, $hpid] = [$argv[1], (int)$argv[2]];
$n = (int)($argv[3] ?? 20000);
$msg = '{"type":"order","id":12345,"total":"19.90"}';
ini_set('herald.endpoint', $endpoint);

function cpu_us(): float {
    $r = getrusage();
    return ($r['ru_utime.tv_sec'] + $r['ru_stime.tv_sec']) * 1e6 + $r['ru_utime.tv_usec'] + $r['ru_stime.tv_usec'];
}
function proc_cpu_us(int $pid): float {
    $f = explode(' ', substr(file_get_contents("/proc/$pid/stat"), strrpos(file_get_contents("/proc/$pid/stat"), ')') + 2));
    return ((int)$f[11] + (int)$f[12]) * 1e6 / 100; // utime + stime, in clock ticks of 1/100 s
}
for ($i = 0; $i < 500; $i++) Herald\emit('bench', $msg); // warm-up and the connect
$c0 = cpu_us(); $h0 = proc_cpu_us($hpid); $t0 = hrtime(true);
for ($i = 0; $i < $n; $i++) Herald\emit('bench', $msg);
$wall = (hrtime(true) - $t0) / 1e3 / $n;
$cpu = (cpu_us() - $c0) / $n;
$hd = (proc_cpu_us($hpid) - $h0) / $n;
printf("%s: %d emits, %.1f us wall, %.1f us PHP CPU, %.1f us heraldd CPU per emit\n", $endpoint, $n, $wall, $cpu, $hd);
