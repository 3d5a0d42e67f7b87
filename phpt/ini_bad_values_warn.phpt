--TEST--
Bad herald.* INI values warn at startup (naming the value, the rule and what is used instead); ini_set() refuses them by returning false
--EXTENSIONS--
herald
--INI--
display_startup_errors=1
herald.timeout_ms=0
herald.connect_timeout_ms=abc
herald.max_batch_bytes=1M
herald.max_batch_messages=-3
herald.endpoint=https://127.0.0.1:26300
--FILE--
<?php
foreach (['timeout_ms', 'connect_timeout_ms', 'max_batch_bytes', 'max_batch_messages', 'endpoint'] as $k)
    echo "herald.$k=", ini_get("herald.$k"), "\n";
// at run time: false, the value unchanged, no warning (as PHP's own settings)
var_dump(ini_set('herald.timeout_ms', '250ms'), ini_set('herald.endpoint', 'unix://relative.sock'), ini_set('herald.endpoint', ''));
var_dump(ini_set('herald.timeout_ms', ' 250 '), ini_get('herald.timeout_ms'));
?>
--EXPECTF--
%AWarning: PHP Startup: herald.endpoint = "https://127.0.0.1:26300" is not valid: heraldd's emit listener speaks plain HTTP on a Unix socket or loopback, never TLS; using unix:///run/herald/emit.sock (the default) in Unknown on line 0
%AWarning: PHP Startup: herald.connect_timeout_ms = "abc" is not valid: a whole number of milliseconds from 1 to 600000 (0 would let a page wait forever); using 200 (the default) in Unknown on line 0
%AWarning: PHP Startup: herald.timeout_ms = "0" is not valid: a whole number of milliseconds from 1 to 600000 (0 would let a page wait forever); using 1000 (the default) in Unknown on line 0
%AWarning: PHP Startup: herald.max_batch_bytes = "1M" is not valid: a whole number of bytes, at least 1024; using 1048576 (the default) in Unknown on line 0
%AWarning: PHP Startup: herald.max_batch_messages = "-3" is not valid: a whole number of messages, at least 1; using 10000 (the default) in Unknown on line 0
herald.timeout_ms=1000
herald.connect_timeout_ms=200
herald.max_batch_bytes=1048576
herald.max_batch_messages=10000
herald.endpoint=unix:///run/herald/emit.sock
bool(false)
bool(false)
bool(false)
string(4) "1000"
string(5) " 250 "
