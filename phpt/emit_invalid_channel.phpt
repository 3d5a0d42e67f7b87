--TEST--
Herald\emit() and Client::emit() check the channel name and the message locally, before any I/O
--EXTENSIONS--
herald
--INI--
herald.endpoint=http://192.0.2.1:9
herald.connect_timeout_ms=5000
--FILE--
<?php
$bad = ['', 'a b', 'orders~v1', 'ü', "a\0b", str_repeat('c', 201), 'x/y', 'x#y', 'x?y', 'x%41'];
$t = microtime(true);
foreach ($bad as $ch) {
    try {
        Herald\emit($ch, 'm');
        echo "accepted\n";
    } catch (Herald\InvalidArgumentException $e) {
        echo strlen($ch), ': ', $e->getMessage(), "\n";
    }
}
$c = new Herald\Client('http://192.0.2.1:9', null, null, 5000);
foreach ([fn() => $c->emit('a b', 'm'), fn() => $c->emit('ok', NAN), fn() => Herald\emit('ok', NAN)] as $f) {
    try { $f(); echo "sent\n"; } catch (Herald\InvalidArgumentException $e) { echo $e->getMessage(), "\n"; }
}
// a 192.0.2.1 (TEST-NET) connect would have taken the 5 s connect timeout
var_dump(microtime(true) - $t < 1.0);
try { Herald\emit(str_repeat('c', 200), 'm'); } catch (Herald\ConnectionException $e) { echo "200 bytes is valid: it tried to connect\n"; }
?>
--EXPECTF--
0: Herald: invalid channel name of 0 bytes: a channel is 1-200 bytes of A-Z a-z 0-9 _ - . : @ (sign it with Herald\channel() for browsers, emit to the plain name)
3: Herald: invalid channel name of 3 bytes: %s
9: Herald: invalid channel name of 9 bytes: %s
2: Herald: invalid channel name of 2 bytes: %s
3: Herald: invalid channel name of 3 bytes: %s
201: Herald: invalid channel name of 201 bytes: %s
3: Herald: invalid channel name of 3 bytes: %s
3: Herald: invalid channel name of 3 bytes: %s
3: Herald: invalid channel name of 3 bytes: %s
4: Herald: invalid channel name of 4 bytes: %s
Herald: invalid channel name of 3 bytes: %s
Herald: a message must be a string, an array or a JsonSerializable object, float given
Herald: a message must be a string, an array or a JsonSerializable object, float given
bool(true)
200 bytes is valid: it tried to connect
