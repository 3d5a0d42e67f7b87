--TEST--
Herald\pusher_auth(): a bad socket id, channel or channelData is an InvalidArgumentException naming the rule, before the apps file is read
--EXTENSIONS--
herald
--INI--
herald.pusher_apps_file=/nonexistent/apps
--FILE--
<?php
function t(string $socket, string $channel, ?array $data = null): void {
    try {
        echo Herald\pusher_auth($socket, $channel, $data), "\n";
    } catch (Herald\InvalidArgumentException $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    } catch (Throwable $e) {
        echo 'OTHER ', get_class($e), ': ', $e->getMessage(), "\n";
    }
}
echo "-- socket ids\n";
foreach (['', '1234', '1234.', '.1234', 'a.1', '1.2.3', '1.2 ', ' 1.2', "1.2\n", '-1.2', '1,2', str_repeat('1', 21) . '.1'] as $s)
    t($s, 'private-x');
echo "-- channels\n";
foreach (['news', 'private-', 'presence-', 'private-encrypted-', 'Private-x', 'private-a b', "private-a\0b", 'private-é',
          'private-' . str_repeat('a', 157)] as $c)
    t('1.2', $c);
echo "-- channel data\n";
t('1.2', 'presence-room');
t('1.2', 'presence-room', []);
t('1.2', 'presence-room', ['user_info' => ['name' => 'ann']]);
foreach (['', str_repeat('u', 128), 'a"b', 'a\\b', "a\nb", 1.5, true, null, ['x']] as $id)
    t('1.2', 'presence-room', ['user_id' => $id]);
t('1.2', 'private-x', ['user_id' => 1]);
t('1.2', 'presence-room', ['user_id' => 1, 'user_info' => ['bio' => str_repeat('x', 1000)]]);
t('1.2', 'presence-room', ['user_id' => 1, 'user_info' => ['bad' => "\xff"]]);
t('1.2', 'presence-room', ['user_id' => 1, 'user_info' => NAN]);
final class Boom implements JsonSerializable { function jsonSerialize(): mixed { throw new LogicException('from jsonSerialize'); } }
t('1.2', 'presence-room', ['user_id' => 1, 'user_info' => new Boom]);
echo "-- the limits themselves are accepted (the apps file is read next)\n";
t(str_repeat('1', 20) . '.' . str_repeat('2', 20), 'private-' . str_repeat('a', 156));
t('1.2', 'presence-room', ['user_id' => str_repeat('u', 127)]);
?>
--EXPECT--
-- socket ids
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
Herald\InvalidArgumentException: Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)
-- channels
Herald\InvalidArgumentException: Herald: pusher_auth(): "news" is not a channel that needs auth: a name after private-, presence- or private-encrypted-, at most 164 bytes of A-Z a-z 0-9 _ - . : @
Herald\InvalidArgumentException: Herald: pusher_auth(): "private-" is not a channel that needs auth: a name after private-, presence- or private-encrypted-, at most 164 bytes of A-Z a-z 0-9 _ - . : @
Herald\InvalidArgumentException: Herald: pusher_auth(): "presence-" is not a channel that needs auth: a name after private-, presence- or private-encrypted-, at most 164 bytes of A-Z a-z 0-9 _ - . : @
Herald\InvalidArgumentException: Herald: pusher_auth(): "private-encrypted-" is not a channel that needs auth: a name after private-, presence- or private-encrypted-, at most 164 bytes of A-Z a-z 0-9 _ - . : @
Herald\InvalidArgumentException: Herald: pusher_auth(): "Private-x" is not a channel that needs auth: a name after private-, presence- or private-encrypted-, at most 164 bytes of A-Z a-z 0-9 _ - . : @
Herald\InvalidArgumentException: Herald: pusher_auth(): "private-a b" is not a channel that needs auth: a name after private-, presence- or private-encrypted-, at most 164 bytes of A-Z a-z 0-9 _ - . : @
Herald\InvalidArgumentException: Herald: pusher_auth(): "private-a" is not a channel that needs auth: a name after private-, presence- or private-encrypted-, at most 164 bytes of A-Z a-z 0-9 _ - . : @
Herald\InvalidArgumentException: Herald: pusher_auth(): "private-é" is not a channel that needs auth: a name after private-, presence- or private-encrypted-, at most 164 bytes of A-Z a-z 0-9 _ - . : @
Herald\InvalidArgumentException: Herald: pusher_auth(): "private-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" is not a channel that needs auth: a name after private-, presence- or private-encrypted-, at most 164 bytes of A-Z a-z 0-9 _ - . : @
-- channel data
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room is a presence channel: pass the member as ['user_id' => ..., 'user_info' => [...]]
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData['user_id'] must be an int or a string of 1-127 bytes without quotes, backslashes or control characters
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData['user_id'] must be an int or a string of 1-127 bytes without quotes, backslashes or control characters
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData['user_id'] must be an int or a string of 1-127 bytes without quotes, backslashes or control characters
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData['user_id'] must be an int or a string of 1-127 bytes without quotes, backslashes or control characters
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData['user_id'] must be an int or a string of 1-127 bytes without quotes, backslashes or control characters
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData['user_id'] must be an int or a string of 1-127 bytes without quotes, backslashes or control characters
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData['user_id'] must be an int or a string of 1-127 bytes without quotes, backslashes or control characters
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData['user_id'] must be an int or a string of 1-127 bytes without quotes, backslashes or control characters
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData['user_id'] must be an int or a string of 1-127 bytes without quotes, backslashes or control characters
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData['user_id'] must be an int or a string of 1-127 bytes without quotes, backslashes or control characters
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData['user_id'] must be an int or a string of 1-127 bytes without quotes, backslashes or control characters
Herald\InvalidArgumentException: Herald: pusher_auth(): private-x is not a presence channel: channelData is only for presence- channels
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData is over 1024 bytes as JSON (heraldd's limit, as Pusher's): keep user_info small
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData cannot be encoded as JSON (invalid UTF-8, NAN/INF or recursion)
Herald\InvalidArgumentException: Herald: pusher_auth(): presence-room: channelData cannot be encoded as JSON (invalid UTF-8, NAN/INF or recursion)
OTHER LogicException: from jsonSerialize
-- the limits themselves are accepted (the apps file is read next)
OTHER Herald\Exception: Herald: herald.pusher_apps_file: cannot open /nonexistent/apps: No such file or directory (check the path)
OTHER Herald\Exception: Herald: herald.pusher_apps_file: cannot open /nonexistent/apps: No such file or directory (check the path)
