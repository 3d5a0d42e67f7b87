--TEST--
Herald\emit() and defer(): strings, arrays and JsonSerializable only; JSON errors are ours
--EXTENSIONS--
herald
--INI--
herald.endpoint=unix:///nonexistent/herald-test.sock
--FILE--
<?php
class Bad implements JsonSerializable {
    public function jsonSerialize(): mixed { throw new LogicException('from jsonSerialize'); }
}
$cases = ['int' => 1, 'float' => 1.5, 'null' => null, 'bool' => true, 'stdClass' => new stdClass,
          'Stringable' => new class { function __toString(): string { return 'x'; } },
          'bad utf8' => ["\xff"], 'nan' => [NAN], 'throws' => new Bad];
foreach (['emit', 'defer'] as $fn) {
    foreach ($cases as $name => $v) {
        try {
            ("Herald\\$fn")('ch', $v);
            echo "$fn $name: accepted\n";
        } catch (Throwable $e) {
            echo "$fn $name: ", get_class($e), ': ', $e->getMessage(), "\n";
        }
    }
}
// valid messages get past encoding: the failure is then the connection
foreach (['string' => 'x', 'array' => ['a' => 1], 'JsonSerializable' => new ArrayObject([1])] as $name => $v) {
    try { Herald\emit('ch', $v); } catch (Herald\Exception $e) { echo "$name: ", get_class($e), "\n"; }
}
?>
--EXPECT--
emit int: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, int given
emit float: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, float given
emit null: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, null given
emit bool: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, bool given
emit stdClass: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, stdClass given
emit Stringable: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, class@anonymous given
emit bad utf8: Herald\InvalidArgumentException: Herald: the message cannot be encoded as JSON (invalid UTF-8, recursion, NAN/INF or too deep)
emit nan: Herald\InvalidArgumentException: Herald: the message cannot be encoded as JSON (invalid UTF-8, recursion, NAN/INF or too deep)
emit throws: LogicException: from jsonSerialize
defer int: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, int given
defer float: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, float given
defer null: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, null given
defer bool: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, bool given
defer stdClass: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, stdClass given
defer Stringable: Herald\InvalidArgumentException: Herald: a message must be a string, an array or a JsonSerializable object, class@anonymous given
defer bad utf8: Herald\InvalidArgumentException: Herald: the message cannot be encoded as JSON (invalid UTF-8, recursion, NAN/INF or too deep)
defer nan: Herald\InvalidArgumentException: Herald: the message cannot be encoded as JSON (invalid UTF-8, recursion, NAN/INF or too deep)
defer throws: LogicException: from jsonSerialize
string: Herald\ConnectionException
array: Herald\ConnectionException
JsonSerializable: Herald\InvalidArgumentException
