--TEST--
herald.* INI: defaults, validation of timeouts, phpinfo() never shows a secret
--EXTENSIONS--
herald
--INI--
herald.secret=do-not-show-this-secret-123
herald.emit_secret=do-not-show-this-token-456
--FILE--
<?php
foreach (['endpoint', 'secret_file', 'emit_secret_file', 'connect_timeout_ms', 'timeout_ms', 'max_batch_bytes', 'max_batch_messages'] as $k)
    echo "herald.$k=", ini_get("herald.$k"), "\n";
var_dump(ini_set('herald.timeout_ms', '0'), ini_get('herald.timeout_ms'));
var_dump(ini_set('herald.connect_timeout_ms', '-5'), ini_set('herald.timeout_ms', '250'), ini_get('herald.timeout_ms'));
var_dump(ini_set('herald.max_batch_bytes', '10'), ini_set('herald.max_batch_messages', '-1'));
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
var_dump(str_contains($info, 'do-not-show'));
$info = substr($info, strpos($info, 'Herald support'));
$info = substr($info, 0, strpos($info, 'herald.timeout_ms'));
foreach (explode("\n", $info) as $l)
    if (preg_match('/^(Herald support|Version|Endpoint|Signing secret|Emit secret|herald\.(secret|emit_secret) )/', $l)) echo $l, "\n";
var_dump(phpversion('herald') === trim(file_get_contents(__DIR__ . '/../VERSION')));
?>
--EXPECT--
herald.endpoint=unix:///run/herald/emit.sock
herald.secret_file=
herald.emit_secret_file=
herald.connect_timeout_ms=200
herald.timeout_ms=1000
herald.max_batch_bytes=1048576
herald.max_batch_messages=10000
bool(false)
string(4) "1000"
bool(false)
string(4) "1000"
string(3) "250"
bool(false)
bool(false)
bool(false)
Herald support => enabled
Version => 0.1.0
Endpoint => unix:///run/herald/emit.sock
Signing secret => set (herald.secret)
Emit secret => set (herald.emit_secret)
herald.emit_secret => (set, hidden) => (set, hidden)
herald.secret => (set, hidden) => (set, hidden)
bool(true)
