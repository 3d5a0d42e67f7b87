--TEST--
Herald\emit_many(): every element shape, iterables, validation of every record before I/O
--EXTENSIONS--
herald
--INI--
herald.endpoint=unix:///nonexistent/herald-test.sock
--FILE--
<?php
var_dump(Herald\emit_many([]));
var_dump(Herald\emit_many(new ArrayIterator([])));
function gen() { yield ['a', 'x']; yield 'b' => 'y'; yield ['c', 'z', 'key', 'extra']; }
$bad = [
    'list of 4' => [['a', 'x', 'k', 'y']],
    'list of 1' => [['a']],
    'scalar' => ['x'],
    'int channel' => [[1, 'x']],
    'bad channel' => [['ok', 'm'], ['b a d', 'm']],
    'bad key' => ['b a d' => 'm'],
    'bad message' => [['a', 1]],
    'generator' => gen(),
];
foreach ($bad as $name => $v) {
    try { Herald\emit_many($v); echo "$name: accepted\n"; }
    catch (Herald\Exception $e) { echo "$name: ", get_class($e), ': ', $e->getMessage(), "\n"; }
}
try { Herald\emit_many('x'); } catch (TypeError $e) { echo $e->getMessage(), "\n"; }
// valid: reaches the connection
foreach ([[['a', 'x'], ['a', ['j' => 1]]], ['a' => 'x'], new ArrayIterator(['a' => 'x'])] as $v) {
    try { Herald\emit_many($v); } catch (Herald\Exception $e) { echo get_class($e), "\n"; }
}
?>
--EXPECT--
array(0) {
}
array(0) {
}
list of 4: Herald\InvalidArgumentException: Herald: element 0 of the messages must be channel => message, [channel, message] or [channel, message, idempotencyKey]
list of 1: Herald\InvalidArgumentException: Herald: element 0 of the messages must be channel => message, [channel, message] or [channel, message, idempotencyKey]
scalar: Herald\InvalidArgumentException: Herald: element 0 of the messages must be channel => message, [channel, message] or [channel, message, idempotencyKey]
int channel: Herald\InvalidArgumentException: Herald: element 0: the channel must be a string, int given
bad channel: Herald\InvalidArgumentException: Herald: element 1: invalid channel name (1-200 bytes of A-Z a-z 0-9 _ - . : @)
bad key: Herald\InvalidArgumentException: Herald: element 0: invalid channel name (1-200 bytes of A-Z a-z 0-9 _ - . : @)
bad message: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, int given
generator: Herald\InvalidArgumentException: Herald: element 2 of the messages must be channel => message, [channel, message] or [channel, message, idempotencyKey]
Herald\emit_many(): Argument #1 ($messages) must be of type Traversable|array, string given
Herald\ConnectionException
Herald\ConnectionException
Herald\ConnectionException
