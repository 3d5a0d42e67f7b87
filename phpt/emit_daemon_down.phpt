--TEST--
Daemon down: ConnectionException fast (no hang), saying what to check; the next call retries
--EXTENSIONS--
herald
--INI--
; generous timeouts: under valgrind on a loaded machine libcurl's first connect
; (its resolver thread) took over the default 200 ms; a dead endpoint still fails at once
herald.connect_timeout_ms=5000
herald.timeout_ms=5000
--FILE--
<?php
$port = (function () { $s = stream_socket_server('tcp://127.0.0.1:0'); $n = stream_socket_get_name($s, false); fclose($s); return (int)substr($n, strrpos($n, ':') + 1); })();
foreach (['unix:///nonexistent/herald/emit.sock', "http://127.0.0.1:$port"] as $ep) {
    ini_set('herald.endpoint', $ep);
    for ($i = 0; $i < 2; $i++) {
        $t = microtime(true);
        foreach (['emit' => fn() => Herald\emit('orders', 'x'), 'emit_many' => fn() => Herald\emit_many([['a', 'b']])] as $name => $f) {
            try { $f(); echo "sent?\n"; }
            catch (Herald\ConnectionException $e) {
                echo $name, ': ', preg_match('/check that heraldd runs|start heraldd/', $e->getMessage()) ? 'says what to check' : $e->getMessage(), "\n";
            }
        }
        var_dump(microtime(true) - $t < 2.0); // a wait for the 5 s timeout would show
    }
}
$c = new Herald\Client("http://127.0.0.1:$port", null, null, 100, 100);
try { $c->emit('a', 'b'); } catch (Herald\ConnectionException $e) { echo "client: ", str_contains($e->getMessage(), "127.0.0.1:$port") ? 'names the endpoint' : $e->getMessage(), "\n"; }
?>
--EXPECT--
emit: says what to check
emit_many: says what to check
bool(true)
emit: says what to check
emit_many: says what to check
bool(true)
emit: says what to check
emit_many: says what to check
bool(true)
emit: says what to check
emit_many: says what to check
bool(true)
client: names the endpoint
