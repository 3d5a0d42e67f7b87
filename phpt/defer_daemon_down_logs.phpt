--TEST--
Herald\defer(): validated at once; sent at shutdown; a failure there goes to the error log with the reason
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
%AHerald: 2 deferred message(s) not sent: Herald: cannot reach heraldd at unix:///nonexistent/herald/emit.sock (%s); check that heraldd runs%a
