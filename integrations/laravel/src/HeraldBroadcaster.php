<?php

namespace Herald\Laravel;

use Herald\Client;
use Illuminate\Broadcasting\Broadcasters\Broadcaster;
use Illuminate\Broadcasting\Broadcasters\UsePusherChannelConventions;
use Illuminate\Broadcasting\BroadcastException;
use Symfony\Component\HttpKernel\Exception\AccessDeniedHttpException;
use Symfony\Component\HttpKernel\Exception\BadRequestHttpException;

/**
 * Laravel Broadcasting on heraldd, for Laravel Echo's `pusher` broadcaster.
 *
 * broadcast() hands every channel's message to the extension in one
 * Herald\emit_many() call (heraldd's emit socket, no HTTP client, all or
 * nothing); each message is {"event": $event, "data": $payload} (plus
 * "socket_id" for toOthers()), which heraldd delivers to Pusher clients as
 * the event $event. auth() follows
 * Laravel's Pusher flow (channel conventions, the channel callbacks of
 * routes/channels.php) and signs with Herald\pusher_auth().
 *
 * Connection options (config/broadcasting.php):
 *   'driver'   => 'herald'
 *   'app_key'  => the Pusher app key to sign with (herald.pusher_app_key);
 *                 optional when heraldd's pusher_apps_file holds one app
 *   'endpoint' => a heraldd emit endpoint other than herald.endpoint
 *                 (then 'emit_secret' may give its token)
 */
class HeraldBroadcaster extends Broadcaster
{
    use UsePusherChannelConventions;

    private ?Client $client = null;
    private string $appKey;

    public function __construct(array $config = [])
    {
        $this->appKey = (string)($config['app_key'] ?? '');
        if (!empty($config['endpoint'])) {
            $this->client = new Client((string)$config['endpoint'], null, $config['emit_secret'] ?? null);
        }
    }

    /**
     * Authenticate the request for a channel: public channels need nothing
     * here; private- and presence- ones need a user the channel callback
     * accepts (a 403 otherwise, as with Pusher).
     */
    public function auth($request)
    {
        $name = (string)$request->channel_name;
        $channel = $this->normalizeChannelName($name);
        if ($name === '' || ($this->isGuardedChannel($name) && !$this->retrieveUser($request, $channel))) {
            throw new AccessDeniedHttpException();
        }
        return parent::verifyUserCanAccessChannel($request, $channel);
    }

    /**
     * The body Echo expects: {"auth": …} for private- channels, with
     * "channel_data" (the user's id and what the channel callback returned)
     * for presence- ones.
     */
    public function validAuthenticationResponse($request, $result)
    {
        $name = (string)$request->channel_name;
        $socketId = (string)$request->socket_id;
        $channelData = null;
        if (str_starts_with($name, 'presence-')) {
            $user = $this->retrieveUser($request, $this->normalizeChannelName($name));
            $id = method_exists($user, 'getAuthIdentifierForBroadcasting')
                ? $user->getAuthIdentifierForBroadcasting()
                : $user->getAuthIdentifier();
            $channelData = ['user_id' => $id];
            if (is_array($result)) {
                $channelData['user_info'] = $result;
            }
        }
        $previous = null;
        if ($this->appKey !== '') {
            $previous = ini_set('herald.pusher_app_key', $this->appKey);
        }
        try {
            return json_decode(\Herald\pusher_auth($socketId, $name, $channelData), true, 8, JSON_THROW_ON_ERROR);
        } catch (\Herald\InvalidArgumentException $e) {
            // a socket id or channel heraldd would refuse: the client's fault
            throw new BadRequestHttpException($e->getMessage(), $e);
        } finally {
            if ($previous !== null && $previous !== false) {
                ini_set('herald.pusher_app_key', $previous);
            }
        }
    }

    /**
     * One emit_many() for all channels. The payload's `socket` (what
     * toOthers() sets from the X-Socket-ID header) goes with each message as
     * `socket_id`: heraldd skips that connection when it delivers to Pusher
     * clients, on every loop and node. A socket id that is not Pusher's
     * digits.digits is refused, as the Pusher SDK refuses it.
     */
    public function broadcast(array $channels, $event, array $payload = [])
    {
        $socket = $payload['socket'] ?? null;
        unset($payload['socket']);
        if ($socket !== null && (!is_string($socket) || !preg_match('/\A\d+\.\d+\z/', $socket))) {
            throw new BroadcastException('Herald: invalid socket id (X-Socket-ID must be digits.digits, as '
                . 'pusher:connection_established gave it)');
        }
        $records = [];
        foreach ($this->formatChannels($channels) as $channel) {
            if (str_starts_with($channel, 'private-encrypted-')) {
                throw new BroadcastException("Herald: cannot broadcast to $channel: encrypted channels need the payload "
                    . 'encrypted with a master key, which this broadcaster does not do');
            }
            $message = ['event' => $event, 'data' => $payload];
            if ($socket !== null) {
                $message['socket_id'] = $socket;
            }
            $records[] = [$channel, $message];
        }
        if ($records === []) {
            return;
        }
        try {
            $this->client ? $this->client->emitMany($records) : \Herald\emit_many($records);
        } catch (\Herald\Exception $e) {
            throw new BroadcastException($e->getMessage(), 0, $e);
        }
    }
}
