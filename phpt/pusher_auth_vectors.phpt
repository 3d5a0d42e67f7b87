--TEST--
Herald\pusher_auth(): Pusher's documented private and presence vectors, checked against hash_hmac(), and the app picked by herald.pusher_app_key
--EXTENSIONS--
herald
--FILE--
<?php
$dir = sys_get_temp_dir() . '/herald-pusher-' . getmypid();
@mkdir($dir, 0700);
$apps = "$dir/apps";
// Pusher's documented example app (key 278d425bdf160c739803, secret 7ad3773142a6692b25b8)
file_put_contents($apps, "1001:278d425bdf160c739803:7ad3773142a6692b25b8\n");
chmod($apps, 0600);
ini_set('herald.pusher_apps_file', $apps);

echo Herald\pusher_auth('1234.1234', 'private-foobar'), "\n";
$r = json_decode(Herald\pusher_auth('1234.1234', 'presence-foobar', ['user_id' => 10, 'user_info' => ['name' => 'Mr. Pusher']]), true);
echo $r['auth'], "\n", $r['channel_data'], "\n";
// the same signature by an independent HMAC (PHP's hash extension)
$want = hash_hmac('sha256', '1234.1234:presence-foobar:' . $r['channel_data'], '7ad3773142a6692b25b8');
var_dump($r['auth'] === "278d425bdf160c739803:$want");
// encrypted channels are signed like private ones; user ids may be strings
var_dump(Herald\pusher_auth('1.2', 'private-encrypted-chat') === json_encode(['auth' => '278d425bdf160c739803:' . hash_hmac('sha256', '1.2:private-encrypted-chat', '7ad3773142a6692b25b8')]));
var_dump(json_decode(Herald\pusher_auth('1.2', 'presence-room.1', ['user_id' => 'u-7@x']), true)['channel_data']);
// Unicode and slashes unescaped in channel_data, as the message JSON is
var_dump(json_decode(Herald\pusher_auth('1.2', 'presence-r', ['user_id' => 1, 'user_info' => ['n' => 'Zoë/1']]), true)['channel_data']);

// Several apps: herald.pusher_app_key chooses; '#' lines and blanks are skipped
file_put_contents($apps, "# apps\n1:k-one:0123456789abcdef0123\n\n2:k-two:fedcba9876543210fedc\n");
ini_set('herald.pusher_app_key', 'k-two');
$a = Herald\pusher_auth('5.6', 'private-x');
var_dump($a === json_encode(['auth' => 'k-two:' . hash_hmac('sha256', '5.6:private-x', 'fedcba9876543210fedc')]));
// read once per process and (file, key): another key re-reads the file
ini_set('herald.pusher_app_key', 'k-one');
var_dump(Herald\pusher_auth('5.6', 'private-x') === json_encode(['auth' => 'k-one:' . hash_hmac('sha256', '5.6:private-x', '0123456789abcdef0123')]));
unlink($apps);
rmdir($dir);
?>
--EXPECT--
{"auth":"278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"}
278d425bdf160c739803:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c
{"user_id":10,"user_info":{"name":"Mr. Pusher"}}
bool(true)
bool(true)
string(19) "{"user_id":"u-7@x"}"
string(40) "{"user_id":1,"user_info":{"n":"Zoë/1"}}"
bool(true)
bool(true)
