--TEST--
An https:// endpoint is refused clearly (heraldd's emit listener has no TLS), by Client and by herald.endpoint, instead of failing inside OpenSSL
--EXTENSIONS--
herald
--FILE--
<?php
try { new Herald\Client('https://127.0.0.1:26300'); echo "accepted?\n"; }
catch (Herald\InvalidArgumentException $e) { echo $e->getMessage(), "\n"; }
var_dump(ini_set('herald.endpoint', 'https://127.0.0.1:26300'), ini_get('herald.endpoint'));
?>
--EXPECT--
Herald: endpoint https://127.0.0.1:26300: heraldd's emit listener speaks plain HTTP on a Unix socket or loopback, never TLS; use unix:///run/herald/emit.sock or http://127.0.0.1:26300 (TLS belongs in front of the public listener, for browsers)
bool(false)
string(28) "unix:///run/herald/emit.sock"
