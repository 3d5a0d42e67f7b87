--TEST--
Herald\pusher_auth(): no apps file, an unreadable, public or malformed one, several apps without herald.pusher_app_key, an unknown key: Herald\Exception saying what to fix
--EXTENSIONS--
herald
--FILE--
<?php
$dir = sys_get_temp_dir() . '/herald-pusher-apps-' . getmypid();
function t(): void {
    global $dir;
    try {
        echo Herald\pusher_auth('1.2', 'private-x'), "\n";
    } catch (Herald\Exception $e) {
        echo get_class($e), ': ', str_replace($dir, 'DIR', $e->getMessage()), "\n";
    }
}
@mkdir($dir, 0700);
$apps = "$dir/apps";
$write = function (string $text, int $mode = 0600) use ($apps) { file_put_contents($apps, $text); chmod($apps, $mode); };
t();                                               // not configured
ini_set('herald.pusher_apps_file', "$dir/none");
t();                                               // no such file
ini_set('herald.pusher_apps_file', $apps);
$write("1:key:0123456789abcdef0123\n", 0644);
t();                                               // other users can read it
$write("# only a comment\n\n");
t();                                               // no app
$write("1:key:0123456789abcdef0123\n2:key2:short\n");
t();                                               // a bad line (line 2), as heraldd refuses it
$write("1:k y:0123456789abcdef0123\n");
t();                                               // a bad key
$write("1:key\n");
t();                                               // two fields
$write("1:a:0123456789abcdef0123\n2:a:0123456789abcdef0123\n");
t();                                               // a key twice, as heraldd refuses it
$write("1:a:0123456789abcdef0123\n2:b:0123456789abcdef0123\n");
t();                                               // two apps, no key chosen
ini_set('herald.pusher_app_key', 'c');
t();                                               // unknown key
ini_set('herald.pusher_app_key', 'b');
var_dump(str_starts_with(Herald\pusher_auth('1.2', 'private-x'), '{"auth":"b:'));
// the secret is never in a message
$write("1:a:SECRET-0123456789abcdef\n", 0640 | 0004);
ini_set('herald.pusher_app_key', 'a');
try { Herald\pusher_auth('1.2', 'private-x'); } catch (Herald\Exception $e) { var_dump(str_contains($e->getMessage(), 'SECRET')); }
unlink($apps);
rmdir($dir);
?>
--EXPECT--
Herald\Exception: Herald: no Pusher app to sign with: set herald.pusher_apps_file to heraldd's pusher_apps_file (and herald.pusher_app_key if it holds several apps)
Herald\Exception: Herald: herald.pusher_apps_file: cannot open DIR/none: No such file or directory (check the path)
Herald\Exception: Herald: herald.pusher_apps_file: DIR/apps is readable by every user: run chmod o-rw DIR/apps (e.g. chmod 600, or 640 with a group php-fpm is in)
Herald\Exception: Herald: herald.pusher_apps_file: DIR/apps holds no app (one app_id:key:secret per line)
Herald\Exception: Herald: herald.pusher_apps_file: line 2 of DIR/apps is not app_id:key:secret (ids and keys of A-Z a-z 0-9 _ - ., a secret of 16 to 512 bytes)
Herald\Exception: Herald: herald.pusher_apps_file: line 1 of DIR/apps is not app_id:key:secret (ids and keys of A-Z a-z 0-9 _ - ., a secret of 16 to 512 bytes)
Herald\Exception: Herald: herald.pusher_apps_file: line 1 of DIR/apps is not app_id:key:secret (ids and keys of A-Z a-z 0-9 _ - ., a secret of 16 to 512 bytes)
Herald\Exception: Herald: herald.pusher_apps_file: line 2 of DIR/apps: key a is used twice
Herald\Exception: Herald: herald.pusher_apps_file: DIR/apps holds 2 apps: set herald.pusher_app_key to the key of the one to sign with
Herald\Exception: Herald: herald.pusher_apps_file: no app with key "c" in DIR/apps (herald.pusher_app_key)
bool(true)
bool(false)
