--TEST--
Idempotency keys given to emit(), Client::emit() and emit_many() records are checked before any I/O: 1-64 bytes of printable ASCII without spaces
--EXTENSIONS--
herald
--INI--
herald.endpoint=unix:///nonexistent/herald-test.sock
--FILE--
<?php
$c = new Herald\Client('unix:///nonexistent/herald-test.sock');
$calls = [
    'emit' => fn($k) => Herald\emit('orders', 'x', $k),
    'Client::emit' => fn($k) => $c->emit('orders', 'x', $k),
    'emit_many' => fn($k) => Herald\emit_many([['orders', 'x'], ['orders', 'y', $k]]),
];
$keys = ['empty' => '', 'space' => 'job 42', 'tab' => "job\t42", 'utf-8' => 'jöb', 'nul' => "a\0b",
         '65 bytes' => str_repeat('k', 65), '64 bytes' => str_repeat('k', 64), 'one byte' => '!', 'job id' => 'order-42:paid@v2~'];
foreach ($calls as $call => $f) {
    foreach ($keys as $name => $k) {
        try { $f($k); echo "$call, $name: sent?\n"; }
        catch (Herald\InvalidArgumentException $e) { echo "$call, $name: ", $e->getMessage(), "\n"; }
        catch (Herald\ConnectionException $e) { echo "$call, $name: accepted (reached the connection)\n"; }
    }
}
// null means: the extension makes the key
try { Herald\emit('orders', 'x', null); } catch (Herald\ConnectionException $e) { echo "null: accepted (reached the connection)\n"; }
try { Herald\emit_many([['orders', 'x', null]]); } catch (Herald\ConnectionException $e) { echo "null record: accepted (reached the connection)\n"; }
try { Herald\emit_many([['orders', 'x', 42]]); } catch (Herald\InvalidArgumentException $e) { echo $e->getMessage(), "\n"; }
try { Herald\emit('orders', 'x', 42); } catch (Herald\ConnectionException $e) { echo "int key: coerced to a string as PHP does\n"; }
?>
--EXPECT--
emit, empty: Herald: the idempotency key is 0 bytes: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit, space: Herald: the idempotency key has byte 0x20 at offset 3: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit, tab: Herald: the idempotency key has byte 0x09 at offset 3: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit, utf-8: Herald: the idempotency key has byte 0xc3 at offset 1: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit, nul: Herald: the idempotency key has byte 0x00 at offset 1: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit, 65 bytes: Herald: the idempotency key is 65 bytes: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit, 64 bytes: accepted (reached the connection)
emit, one byte: accepted (reached the connection)
emit, job id: accepted (reached the connection)
Client::emit, empty: Herald: the idempotency key is 0 bytes: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
Client::emit, space: Herald: the idempotency key has byte 0x20 at offset 3: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
Client::emit, tab: Herald: the idempotency key has byte 0x09 at offset 3: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
Client::emit, utf-8: Herald: the idempotency key has byte 0xc3 at offset 1: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
Client::emit, nul: Herald: the idempotency key has byte 0x00 at offset 1: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
Client::emit, 65 bytes: Herald: the idempotency key is 65 bytes: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
Client::emit, 64 bytes: accepted (reached the connection)
Client::emit, one byte: accepted (reached the connection)
Client::emit, job id: accepted (reached the connection)
emit_many, empty: Herald: element 1: the idempotency key is 0 bytes: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit_many, space: Herald: element 1: the idempotency key has byte 0x20 at offset 3: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit_many, tab: Herald: element 1: the idempotency key has byte 0x09 at offset 3: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit_many, utf-8: Herald: element 1: the idempotency key has byte 0xc3 at offset 1: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit_many, nul: Herald: element 1: the idempotency key has byte 0x00 at offset 1: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit_many, 65 bytes: Herald: element 1: the idempotency key is 65 bytes: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)
emit_many, 64 bytes: accepted (reached the connection)
emit_many, one byte: accepted (reached the connection)
emit_many, job id: accepted (reached the connection)
null: accepted (reached the connection)
null record: accepted (reached the connection)
Herald: element 0: the idempotency key must be a string or null, int given
int key: coerced to a string as PHP does
