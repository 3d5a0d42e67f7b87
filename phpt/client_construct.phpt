--TEST--
Herald\Client: endpoint forms, bad arguments, no secret, not clonable or serializable, secrets kept out of traces
--EXTENSIONS--
herald
--FILE--
<?php
foreach (['unix:///run/h.sock', 'unix:/run/h.sock', 'http://127.0.0.1:26300', 'http://127.0.0.1:26300/'] as $ep)
    echo (new Herald\Client($ep))->getEndpoint(), "\n";
foreach (['', 'ftp://x', 'unix://relative.sock', 'http://127.0.0.1:1/path', 'http://'] as $ep) {
    try { new Herald\Client($ep); echo "accepted $ep\n"; }
    catch (Herald\InvalidArgumentException $e) { echo $e->getMessage(), "\n"; }
}
try { new Herald\Client('unix:///x.sock', null, null, 0); } catch (Herald\InvalidArgumentException $e) { echo $e->getMessage(), "\n"; }
try { new Herald\Client('unix:///x.sock', 'short'); } catch (Herald\InvalidArgumentException $e) { echo $e->getMessage(), "\n"; }
try { (new Herald\Client('unix:///x.sock'))->channel('a'); } catch (Herald\Exception $e) { echo $e->getMessage(), "\n"; }
$c = new Herald\Client('unix:///x.sock', 'k:0123456789abcdef');
try { clone $c; } catch (Error $e) { echo $e->getMessage(), "\n"; }
try { serialize($c); } catch (Exception $e) { echo $e->getMessage(), "\n"; }
try { (new ReflectionClass('Herald\Client'))->newInstanceWithoutConstructor(); } catch (ReflectionException $e) { echo "no instance without the constructor\n"; }
function make() { return new Herald\Client('bad', 'secret-in-trace-0123456789', 'token-in-trace-0123456789'); }
try { make(); } catch (Herald\Exception $e) { var_dump(str_contains($e->getTraceAsString(), 'in-trace')); }
?>
--EXPECT--
unix:///run/h.sock
unix:/run/h.sock
http://127.0.0.1:26300
http://127.0.0.1:26300/
Herald: the endpoint must be unix:///path/to/emit.sock or http://127.0.0.1:26300 (got 0 bytes)
Herald: endpoint ftp://x: must start with unix:// or http://
Herald: endpoint unix://relative.sock: a unix endpoint needs an absolute socket path (unix:///run/herald/emit.sock)
Herald: endpoint http://127.0.0.1:1/path: expected http://HOST:PORT with no path
Herald: endpoint http://: expected http://HOST:PORT with no path
Herald: timeouts must be at least 1 ms
Herald: $secret is not a valid secret line (16-512 bytes, optionally kid: in front)
Herald: this client has no secret to sign channel names (pass $secret to the constructor)
Trying to clone an uncloneable object of class Herald\Client
Serialization of 'Herald\Client' is not allowed
no instance without the constructor
bool(false)
