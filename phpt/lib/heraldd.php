<?php
/* Test support for the live .phpt tests: start a real heraldd from the build
 * tree on a temporary unix socket with a temporary secret, wait until it is
 * ready (no sleeps), stop it by PID. Also a tiny WebSocket client.
 * The suite (tests/suites/60-phpt.sh) exports HERALD_HERALDD. */

function herald_test_heraldd_path(): ?string {
    $p = getenv('HERALD_HERALDD');
    if ($p === false || $p === '') $p = __DIR__ . '/../../daemon/heraldd';
    return is_executable($p) ? $p : null;
}

/* For --SKIPIF--: an empty string when a live heraldd can be started. */
function herald_test_skip_unless_live(): string {
    if (!extension_loaded('herald')) return 'skip herald extension not loaded';
    if (herald_test_heraldd_path() === null) return 'skip heraldd not built (make -C daemon) and HERALD_HERALDD unset';
    if (!function_exists('proc_open')) return 'skip proc_open disabled';
    return '';
}

function herald_test_free_port(): int {
    $s = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
    $name = stream_socket_get_name($s, false);
    fclose($s);
    return (int)substr($name, strrpos($name, ':') + 1);
}

final class HeraldTestDaemon {
    public string $dir;
    public string $sock;
    public string $secretFile;
    public int $publicPort;
    public int $emitPort;
    public array $args;
    /** the emit secret, when the test starts heraldd with --emit_secret_file */
    public string $token = '';
    /** @var resource|null */
    private $proc = null;
    private int $pid = 0;

    public function __construct(array $extraArgs = [], ?string $dir = null) {
        $this->dir = $dir ?? trim(shell_exec('mktemp -d'));
        $this->sock = $this->dir . '/emit.sock';
        $this->secretFile = $this->dir . '/secret';
        if (!is_file($this->secretFile)) {
            file_put_contents($this->secretFile, "t1:" . bin2hex(random_bytes(16)) . "\n");
            chmod($this->secretFile, 0600);
        }
        $this->publicPort = herald_test_free_port();
        $this->emitPort = herald_test_free_port();
        $this->args = $extraArgs;
        $i = array_search('--emit_secret_file', $extraArgs, true);
        if ($i !== false) $this->token = trim(file_get_contents($extraArgs[$i + 1]));
        $this->start();
    }

    public function start(): void {
        $cmd = [herald_test_heraldd_path(),
            '--listen', '127.0.0.1:' . $this->publicPort,
            '--emit_listen', 'unix:' . $this->sock . ',127.0.0.1:' . $this->emitPort,
            '--secret_file', $this->secretFile, '--log_level', 'warn'];
        $cmd = array_merge($cmd, $this->args);
        $this->proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->dir . '/log', 'a'],
                                        2 => ['file', $this->dir . '/log', 'a']], $pipes);
        if (!is_resource($this->proc)) throw new RuntimeException('cannot start heraldd');
        $this->pid = proc_get_status($this->proc)['pid'];
        /* ready = the emit socket answers /healthz; bounded to 5 s */
        $deadline = microtime(true) + 5;
        while (microtime(true) < $deadline) {
            if (!proc_get_status($this->proc)['running'])
                throw new RuntimeException('heraldd exited: ' . @file_get_contents($this->dir . '/log'));
            /* any HTTP answer means ready (with an emit secret, a 401) */
            if ($this->get('/healthz', true) !== null) return;
            usleep(10000);
        }
        $this->stop();
        throw new RuntimeException('heraldd not ready in 5 s');
    }

    /* One GET on a fresh connection to the unix socket (counts as an emit connection). */
    public function get(string $path, bool $anyStatus = false): ?string {
        $s = @stream_socket_client('unix://' . $this->sock, $errno, $errstr, 1);
        if (!$s) return null;
        stream_set_timeout($s, 2);
        $auth = $this->token !== '' ? "Authorization: Bearer {$this->token}\r\n" : '';
        fwrite($s, "GET $path HTTP/1.1\r\nHost: t\r\n{$auth}Connection: close\r\n\r\n");
        $r = stream_get_contents($s);
        fclose($s);
        if (!$anyStatus && !str_starts_with((string)$r, 'HTTP/1.1 200')) return null;
        $p = strpos((string)$r, "\r\n\r\n");
        return $p === false ? null : substr($r, $p + 4);
    }

    public function stats(): array {
        return json_decode((string)$this->get('/stats'), true) ?? [];
    }

    /* Send heraldd a signal (SIGSTOP/SIGCONT to make it stall and resume). */
    public function signal(int $sig): void {
        if ($this->proc !== null) proc_terminate($this->proc, $sig);
    }

    public function stop(): void {
        if ($this->proc === null) return;
        proc_terminate($this->proc, 18); /* SIGCONT, in case a test left it stopped */
        posix_kill_or_term($this->pid, $this->proc);
        proc_close($this->proc);
        $this->proc = null;
    }

    public function __destruct() {
        $this->stop();
        @unlink($this->sock);
        @unlink($this->secretFile);
        @unlink($this->dir . '/log');
        @unlink($this->dir . '/emit_secret');
        @rmdir($this->dir);
    }
}

/* Stop exactly the process we started (SIGTERM, then SIGKILL after 3 s). */
function posix_kill_or_term(int $pid, $proc): void {
    proc_terminate($proc, 15);
    $deadline = microtime(true) + 3;
    while (proc_get_status($proc)['running'] && microtime(true) < $deadline) usleep(5000);
    if (proc_get_status($proc)['running']) proc_terminate($proc, 9);
}

/* A minimal RFC 6455 client: enough to subscribe and read text frames. */
final class HeraldTestWs {
    /** @var resource */
    private $s;
    private string $buf = '';

    /* $path: /ws for Herald's protocol, /app/{key} for Pusher's. */
    public function __construct(int $port, string $path = '/ws') {
        $this->s = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 2);
        if (!$this->s) throw new RuntimeException("ws connect: $errstr");
        stream_set_timeout($this->s, 3);
        $key = base64_encode(random_bytes(16));
        fwrite($this->s, "GET $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            . "Sec-WebSocket-Key: $key\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1\r\n\r\n");
        while (($p = strpos($this->buf, "\r\n\r\n")) === false) $this->fill();
        $head = substr($this->buf, 0, $p);
        $this->buf = substr($this->buf, $p + 4);
        $accept = base64_encode(sha1($key . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11', true));
        if (!str_starts_with($head, 'HTTP/1.1 101') || stripos($head, $accept) === false)
            throw new RuntimeException("ws handshake refused: $head");
    }

    private function fill(): void {
        $r = fread($this->s, 65536);
        if ($r === false || $r === '') {
            $meta = stream_get_meta_data($this->s);
            throw new RuntimeException($meta['timed_out'] ? 'ws read timed out' : 'ws closed');
        }
        $this->buf .= $r;
    }

    public function send(array $cmd): void {
        $payload = json_encode($cmd);
        $mask = random_bytes(4);
        $len = strlen($payload);
        $head = chr(0x81) . ($len < 126 ? chr(0x80 | $len) : chr(0x80 | 126) . pack('n', $len));
        $masked = '';
        for ($i = 0; $i < $len; $i++) $masked .= $payload[$i] ^ $mask[$i % 4];
        fwrite($this->s, $head . $mask . $masked);
    }

    /* The next text message, decoded from JSON. */
    public function recv(): array {
        for (;;) {
            while (strlen($this->buf) < 2) $this->fill();
            $b1 = ord($this->buf[1]) & 0x7f;
            $off = 2;
            if ($b1 === 126) { while (strlen($this->buf) < 4) $this->fill(); $b1 = unpack('n', substr($this->buf, 2, 2))[1]; $off = 4; }
            elseif ($b1 === 127) { while (strlen($this->buf) < 10) $this->fill(); $b1 = unpack('J', substr($this->buf, 2, 8))[1]; $off = 10; }
            while (strlen($this->buf) < $off + $b1) $this->fill();
            $op = ord($this->buf[0]) & 0x0f;
            $payload = substr($this->buf, $off, $b1);
            $this->buf = substr($this->buf, $off + $b1);
            if ($op === 1) return json_decode($payload, true);
            if ($op === 8) throw new RuntimeException('ws closed by server');
        }
    }

    public function subscribe(string $signed, int $req = 1): array {
        $this->send(['type' => 'subscribe', 'req' => $req, 'channel' => $signed]);
        return $this->recv();
    }
}

/* A minimal FastCGI client (the protocol nginx speaks to php-fpm): one
 * request for SCRIPT on the php-fpm socket at PATH; returns the script's
 * output (headers and body) once php-fpm ends the request, or throws after
 * $timeout seconds. */
function herald_test_fcgi_get(string $path, string $script, float $timeout = 5.0): string {
    $s = stream_socket_client("unix://$path", $errno, $errstr, 2);
    if (!$s) throw new RuntimeException("fcgi connect: $errstr");
    $record = fn(int $type, string $body) => pack('CCnnCC', 1, $type, 1, strlen($body), 0, 0) . $body;
    $pair = fn(string $k, string $v) => chr(strlen($k)) . (strlen($v) < 128 ? chr(strlen($v)) : pack('N', strlen($v) | 0x80000000)) . $k . $v;
    $params = '';
    foreach (['SCRIPT_FILENAME' => $script, 'SCRIPT_NAME' => '/' . basename($script), 'REQUEST_URI' => '/' . basename($script),
              'REQUEST_METHOD' => 'GET', 'SERVER_PROTOCOL' => 'HTTP/1.1', 'GATEWAY_INTERFACE' => 'CGI/1.1',
              'SERVER_NAME' => 'localhost', 'SERVER_PORT' => '80', 'REMOTE_ADDR' => '127.0.0.1', 'CONTENT_LENGTH' => '0'] as $k => $v)
        $params .= $pair($k, $v);
    fwrite($s, $record(1, pack('nCxxxxx', 1, 0)) . $record(4, $params) . $record(4, '') . $record(5, ''));
    $buf = '';
    $out = '';
    $deadline = microtime(true) + $timeout;
    for (;;) {
        while (strlen($buf) >= 8) {
            $h = unpack('Cver/Ctype/nid/nlen/Cpad', substr($buf, 0, 7));
            if (strlen($buf) < 8 + $h['len'] + $h['pad']) break;
            $body = substr($buf, 8, $h['len']);
            $buf = substr($buf, 8 + $h['len'] + $h['pad']);
            if ($h['type'] === 6) $out .= $body;
            if ($h['type'] === 3) { fclose($s); return $out; }
        }
        $left = $deadline - microtime(true);
        if ($left <= 0) { fclose($s); throw new RuntimeException('php-fpm did not end the request in time'); }
        $r = [$s]; $w = $x = null;
        if (stream_select($r, $w, $x, (int)$left, (int)(fmod($left, 1) * 1e6)) === 0) continue;
        $data = fread($s, 65536);
        if ($data === '' || $data === false) { fclose($s); throw new RuntimeException('php-fpm closed without ending the request'); }
        $buf .= $data;
    }
}
