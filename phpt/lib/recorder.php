<?php
/* A stand-in for heraldd that records the exact requests it gets, for the
 * phpt tests of what the extension puts on the wire (heraldd has no way to
 * show the headers it received). Run as a child process:
 *   php recorder.php UNIX_SOCKET LOG_FILE
 * It listens on UNIX_SOCKET and on a free loopback port (printed on stdout
 * as "ready PORT"), answers every emit as heraldd does (202, one id per
 * message, ids counting from 1), and appends one JSON line per request to
 * LOG_FILE: {"conn":N,"head":"...","body":"..."}. A request to
 * /emit/drop-once is read and then its connection closed without an
 * answer, the first time its Idempotency-Key is seen, as a heraldd restarting between two requests would.
 * A request to /emit/early-413 is answered 413 as soon as its head is read,
 * and the connection closed without reading the body.
 * It ends when its stdin closes. */
[$sock, $log] = [$argv[1], $argv[2]];
$unix = stream_socket_server("unix://$sock", $en, $es);
$tcp = stream_socket_server('tcp://127.0.0.1:0', $en, $es);
$name = stream_socket_get_name($tcp, false);
echo 'ready ', substr($name, strrpos($name, ':') + 1), "\n";
$clients = [];
$bufs = [];
$connNo = [];
$n = 0;
$id = 0;
$dropped = [];
for (;;) {
    $r = array_merge([STDIN, $unix, $tcp], $clients);
    $w = $x = null;
    if (stream_select($r, $w, $x, 10) === false) break;
    foreach ($r as $s) {
        if ($s === STDIN) { if (fread(STDIN, 1) === '' && feof(STDIN)) exit(0); continue; }
        if ($s === $unix || $s === $tcp) {
            $c = stream_socket_accept($s);
            $k = (int)$c;
            $clients[$k] = $c; $bufs[$k] = ''; $connNo[$k] = ++$n;
            continue;
        }
        $k = (int)$s;
        $data = fread($s, 65536);
        if ($data === '' || $data === false) { fclose($s); unset($clients[$k]); continue; }
        $bufs[$k] .= $data;
        while (($p = strpos($bufs[$k], "\r\n\r\n")) !== false) {
            $head = substr($bufs[$k], 0, $p);
            if (str_starts_with($head, 'POST /emit/early-413 ')) {
                // as a server refusing by Content-Length: answer, close, never read the body
                file_put_contents($log, json_encode(['conn' => $connNo[$k], 'head' => $head, 'body' => '']) . "\n", FILE_APPEND);
                fwrite($s, "HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain\r\nContent-Length: 30\r\nConnection: close\r\n\r\nrequest body too large (test)\n");
                fclose($s); unset($clients[$k]);
                continue 2;
            }
            $len = preg_match('/\r\nContent-Length: *(\d+)/i', $head, $m) ? (int)$m[1] : 0;
            if (strlen($bufs[$k]) < $p + 4 + $len) break;
            $body = substr($bufs[$k], $p + 4, $len);
            $bufs[$k] = substr($bufs[$k], $p + 4 + $len);
            file_put_contents($log, json_encode(['conn' => $connNo[$k], 'head' => $head, 'body' => $body]) . "\n", FILE_APPEND);
            $key = preg_match('/\r\nIdempotency-Key: *([^\r]*)/i', $head, $m) ? $m[1] : '';
            if (str_starts_with($head, 'POST /emit/drop-once ') && !isset($dropped[$key])) {
                $dropped[$key] = true;
                fclose($s); unset($clients[$k]);
                continue 2;
            }
            if (str_starts_with($head, 'POST /emit ')) {
                $ids = [];
                for ($q = 0; $q < strlen($body);) {   // "<channel> <len>[ <key>]\n<bytes>\n"
                    $nl = strpos($body, "\n", $q);
                    $q = $nl + 1 + (int)explode(' ', substr($body, $q, $nl - $q))[1] + 1;
                    $ids[] = ++$id;
                }
                $answer = json_encode(['ids' => $ids]);
            } else {
                $answer = json_encode(['id' => ++$id, 'subscribers' => 0]);
            }
            fwrite($s, "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: " . strlen($answer) . "\r\n\r\n$answer");
        }
    }
}
