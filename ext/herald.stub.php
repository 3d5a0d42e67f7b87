<?php

/**
 * The PHP-visible API of ext/herald, written once; `gen_stub.php` turns it
 * into herald_arginfo.h. Behaviour: ext/README.md.
 *
 * @generate-class-entries
 */

namespace Herald {

    /**
     * Sends one message to heraldd and returns its id. The request carries an
     * Idempotency-Key: $idempotencyKey (1-64 bytes of printable ASCII without
     * spaces), or one the extension makes, so a retry never publishes twice.
     */
    function emit(string $channel, mixed $message, ?string $idempotencyKey = null): int {}

    /**
     * Sends many messages in one request, all or none.
     * Each element is `channel => message`, `[channel, message]` or
     * `[channel, message, idempotencyKey]`.
     * @return array<int, int> the ids, in order
     */
    function emit_many(iterable $messages): array {}

    /** The signed name of `$name` (the first secret signs); identical bytes to `heraldd sign`. */
    function channel(string $name, int $ttl = 0): string {}

    /** Queues a message; the queue is sent as one batch at the end of the request. */
    function defer(string $channel, mixed $message): void {}

    /** Sends what defer() queued now; returns how many messages were sent. */
    function flush(): int {}

    /**
     * The JSON a Pusher/Laravel Echo auth endpoint answers for a private-,
     * presence- or private-encrypted- channel: {"auth":"key:hmac"}, plus
     * "channel_data" (the JSON of $channelData, which needs a user_id) for
     * presence-. Signed with the app herald.pusher_apps_file and
     * herald.pusher_app_key name.
     */
    function pusher_auth(string $socketId, string $channel, ?array $channelData = null): string {}

    class Exception extends \RuntimeException {}

    final class ConnectionException extends Exception {}

    final class RejectedException extends Exception
    {
        private int $status = 0;
        private string $reason = "";

        /** The HTTP status heraldd answered (also getCode()). */
        public function getStatus(): int {}

        /** heraldd's one-line reason. */
        public function getReason(): string {}
    }

    final class InvalidArgumentException extends Exception {}

    /**
     * The same operations on an explicit endpoint and secrets.
     * @not-serializable
     */
    final class Client
    {
        public function __construct(
            string $endpoint,
            ?string $secret = null,
            ?string $emitSecret = null,
            int $connectTimeoutMs = 200,
            int $timeoutMs = 1000
        ) {}

        public function emit(string $channel, mixed $message, ?string $idempotencyKey = null): int {}

        /** @return array<int, int> */
        public function emitMany(iterable $messages): array {}

        public function channel(string $name, int $ttl = 0): string {}

        public function defer(string $channel, mixed $message): void {}

        public function flush(): int {}

        public function getEndpoint(): string {}
    }
}
