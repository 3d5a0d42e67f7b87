<?php
// Checks a PIE extension's composer.json the way PIE reads it, since Debian
// 12's Composer 2.5 rejects the php-ext block that newer Composer accepts:
//   - the php-ext block against php-ext.schema.json (written from PIE's
//     extension-maintainers documentation), with Debian's php-json-schema;
//   - PIE's rules the schema cannot say: type php-ext or php-ext-zend, a
//     vendor/package name, and an extension name derivable or given;
//   - agreement with the build: config.m4 builds that extension and offers
//     every configure option; the license is MIT and LICENSE says so.
// The rest of the file is composer validate's business (tests/suites/15-composer.sh).
// Usage: php check.php COMPOSER_JSON TOP   Prints each fault; exits 1 if any.
declare(strict_types=1);

require_once '/usr/share/php/JsonSchema/autoload.php';

[$self, $file, $top] = $argv + [null, null, null];
if ($file === null || $top === null) {
    fwrite(STDERR, "usage: php check.php COMPOSER_JSON TOP\n");
    exit(2);
}
$faults = [];
$json = json_decode((string)@file_get_contents($file));
if (!$json instanceof stdClass) {
    echo "$file: not a JSON object (" . json_last_error_msg() . ")\n";
    exit(1);
}

$type = $json->type ?? null;
if ($type !== 'php-ext' && $type !== 'php-ext-zend') {
    $faults[] = "type is " . json_encode($type) . ": PIE needs \"php-ext\" (or \"php-ext-zend\" for a Zend extension)";
}
$name = $json->name ?? '';
if (!preg_match('#^[a-z0-9]([_.-]?[a-z0-9]+)*/[a-z0-9](([_.]|-{1,2})?[a-z0-9]+)*$#', $name)) {
    $faults[] = "name " . json_encode($name) . " is not a Composer vendor/package name";
}

$ext = $json->{'php-ext'} ?? new stdClass();
$validator = new JsonSchema\Validator();
$schema = json_decode(file_get_contents(__DIR__ . '/php-ext.schema.json'));
$validator->validate($ext, $schema);
foreach ($validator->getErrors() as $e) {
    $faults[] = 'php-ext' . ($e['property'] !== '' ? '.' . $e['property'] : '') . ': ' . $e['message'];
}

// PIE derives the extension name from the package name when none is given.
$extName = $ext->{'extension-name'} ?? substr($name, strpos($name, '/') + 1);
if (!is_string($extName) || !preg_match('/^[A-Za-z][A-Za-z0-9_]+$/', $extName)) {
    $faults[] = "extension name " . json_encode($extName) . " is not a valid PHP extension name: set php-ext.extension-name";
}

$m4 = (string)@file_get_contents("$top/config.m4");
if (!preg_match('/PHP_NEW_EXTENSION\(\s*([A-Za-z0-9_]+)/', $m4, $mm)) {
    $faults[] = "$top/config.m4: no PHP_NEW_EXTENSION";
} elseif ($mm[1] !== $extName) {
    $faults[] = "config.m4 builds '{$mm[1]}' but composer.json names the extension '$extName'";
}
foreach ((array)($ext->{'configure-options'} ?? []) as $opt) {
    if (!is_object($opt) || !is_string($opt->name ?? null)) continue; // the schema said so already
    if (!preg_match('/^(enable|disable|with|without)-(.+)$/', $opt->name, $om)) continue;
    $macro = in_array($om[1], ['enable', 'disable'], true) ? 'PHP_ARG_ENABLE' : 'PHP_ARG_WITH';
    if (!preg_match('/' . $macro . '\(\s*\[?' . preg_quote($om[2], '/') . '\]?\s*,/', $m4)) {
        $faults[] = "configure option --{$opt->name} is not offered by config.m4 ($macro($om[2], ...))";
    }
}

$license = $json->license ?? null;
$text = (string)@file_get_contents("$top/LICENSE");
if ($license !== 'MIT') {
    $faults[] = "license is " . json_encode($license) . ", expected \"MIT\"";
} elseif (!str_starts_with($text, 'MIT License') || !str_contains($text, 'Permission is hereby granted, free of charge')) {
    $faults[] = "license is MIT but $top/LICENSE is not the MIT license text";
}

foreach ($faults as $f) echo "$file: $f\n";
exit($faults ? 1 : 0);
