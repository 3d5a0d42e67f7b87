--TEST--
Herald\defer(): validated at once; sent at shutdown; a failure there is a WARNING in the error log with the reason (messages were lost)
--EXTENSIONS--
herald
--INI--
herald.endpoint=unix:///nonexistent/herald/emit.sock
log_errors=1
error_log=
display_errors=1
--FILE--
<?php
try { Herald\defer('b a d', 'x'); } catch (Herald\InvalidArgumentException $e) { echo "refused at once\n"; }
Herald\defer('orders', 'one');
Herald\defer('orders', ['two' => 2]);
try { Herald\flush(); } catch (Herald\ConnectionException $e) { echo "explicit flush throws\n"; }
var_dump(Herald\flush()); // the failed batch was dropped, not kept for a second send
Herald\defer('orders', 'three');
Herald\defer('orders', 'four');
echo "end of script\n";
?>
--EXPECTF--
refused at once
explicit flush throws
int(0)
end of script
PHP Warning:  Herald: 2 deferred message(s) not sent: Herald: cannot reach heraldd at unix:///nonexistent/herald/emit.sock: no such file /nonexistent/herald/emit.sock; heraldd is not running%a
