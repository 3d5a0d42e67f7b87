--TEST--
Herald exception classes: one base, catchable as RuntimeException
--EXTENSIONS--
herald
--FILE--
<?php
foreach (['ConnectionException', 'RejectedException', 'InvalidArgumentException'] as $c) {
    $r = new ReflectionClass("Herald\\$c");
    echo $c, ': ', $r->getParentClass()->getName(), ' final=', var_export($r->isFinal(), true), "\n";
}
var_dump(is_subclass_of('Herald\Exception', 'RuntimeException'));
$e = new Herald\RejectedException('x', 400);
var_dump($e->getStatus(), $e->getReason());
?>
--EXPECT--
ConnectionException: Herald\Exception final=true
RejectedException: Herald\Exception final=true
InvalidArgumentException: Herald\Exception final=true
bool(true)
int(0)
string(0) ""
