/* Counters for /stats and /metrics: kept per loop (loop_t),
 * incremented on the hot path as plain integers (no atomics, one loop owns
 * them). */
#ifndef HERALD_STATS_H
#define HERALD_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Every figure once, so the struct, /stats (JSON) and /metrics
 * (Prometheus) cannot disagree. X(name, kind, help): a COUNTER only grows,
 * a GAUGE goes up and down, a GAUGE_US is a gauge kept in microseconds
 * (/metrics gives it in seconds, as Prometheus names want). */
#define STATS_FIELDS(X) \
    X(public_connections_accepted, COUNTER, "Public (browser) connections accepted.") \
    X(public_connections_open, GAUGE, "Public connections open.") \
    X(emit_connections_accepted, COUNTER, "Emit-listener connections accepted.") \
    X(emit_connections_open, GAUGE, "Emit-listener connections open.") \
    X(connections_refused, COUNTER, "Public connections closed on accept: max_connections reached.") \
    X(ws_connections_open, GAUGE, "WebSocket clients connected.") \
    X(sse_connections_open, GAUGE, "SSE clients connected.") \
    X(socketio_clients_open, GAUGE, "socket.io clients connected (WebSocket or long-polling sessions).") \
    X(socketio_events_ignored, COUNTER, "socket.io events from clients that were not a subscribe (never relayed).") \
    X(pusher_client_events_refused, COUNTER, "Pusher client-* events refused (4301): browsers never publish.") \
    X(webhook_batches_sent, COUNTER, "Pusher webhook batches a webhook URL accepted (2xx).") \
    X(webhook_retries, COUNTER, "Pusher webhook POSTs tried again after a failure or a non-2xx answer.") \
    X(webhook_events_dropped, COUNTER, "Pusher webhook events dropped: webhook_queue_size full, or a URL failing past every retry.") \
    X(messages_emitted, COUNTER, "Messages accepted from the emit API.") \
    X(frames_delivered, COUNTER, "Messages queued to subscribers (one per subscriber).") \
    X(messages_handed_over, COUNTER, "Messages received from another event loop (workers).") \
    X(handover_frames, COUNTER, "Frames queued to subscribers for messages from another loop.") \
    X(handover_writes, COUNTER, "Socket writes that carried frames of messages from another loop.") \
    X(bytes_written, COUNTER, "Bytes written to all sockets.") \
    X(socket_writes, COUNTER, "Write calls (writev) on all sockets.") \
    X(slow_consumer_disconnects, COUNTER, "Clients dropped past max_queue_bytes (close 1013).") \
    X(ping_timeouts, COUNTER, "Clients dropped for not answering a ping.") \
    X(subscriptions, GAUGE, "Subscriptions active.") \
    X(http_errors, COUNTER, "HTTP 4xx answers.") \
    X(emit_unauthorized, COUNTER, "Emit requests without the emit secret (401).") \
    X(origin_refused, COUNTER, "Requests refused by allowed_origins (403).") \
    X(request_timeouts, COUNTER, "Requests too slow to arrive (408).") \
    X(commands_rate_limited, COUNTER, "Commands over max_commands_per_second.") \
    X(reloads, COUNTER, "Configurations applied by SIGHUP.") \
    X(per_ip_refused, COUNTER, "Connections over max_connections_per_ip (503).") \
    X(emit_idle_closed, COUNTER, "Emit connections closed after emit_idle_timeout_ms.") \
    X(fd_limit_refused, COUNTER, "Connections refused for lack of file descriptors.") \
    X(connections_handed_over, COUNTER, "Connections moved to the loop holding their session (socket.io with workers).") \
    X(emit_connections_refused, COUNTER, "Emit connections closed on accept: max_emit_connections reached.") \
    X(emit_browser_refused, COUNTER, "Emit requests refused for carrying Origin or Sec-Fetch-* (403).") \
    X(emit_host_refused, COUNTER, "Emit requests refused for a Host not loopback nor in emit_allowed_hosts (403).") \
    X(new_channels_rate_limited, COUNTER, "Channel creations refused: max_new_channels_per_second or _per_ip_per_second (rate_limited, SSE 429).") \
    X(max_channels_refused, COUNTER, "Subscriptions and emits refused: max_channels reached (too_many_channels, 503).") \
    X(subscriptions_expired, COUNTER, "Subscriptions ended because their signed name expired.") \
    X(subscriptions_revoked, COUNTER, "Subscriptions ended because a reload removed their key.") \
    X(subscriptions_refreshed, COUNTER, "Subscriptions given a fresh name by a refresh command.") \
    X(emits_repeated, COUNTER, "Emits whose Idempotency-Key was seen within idempotency_window_ms: answered, not published.") \
    X(idempotency_keys, GAUGE, "Idempotency keys remembered.") \
    X(idempotency_evicted, COUNTER, "Idempotency keys forgotten early (idempotency_max_keys).") \
    X(redis_link_up, GAUGE, "1 while the Redis link (redis key) is connected and ready, else 0.") \
    X(redis_reconnects, COUNTER, "Times the Redis link was lost and connected again.") \
    X(redis_rtt, GAUGE_US, "Round trip of the last PING to Redis (once a second); /stats: microseconds.") \
    X(redis_messages_out, COUNTER, "Messages published to Redis by this node.") \
    X(redis_messages_in, COUNTER, "Messages received from Redis pub/sub (any node's, for channels with local subscribers).") \
    X(redis_messages_recovered, COUNTER, "Messages read back from Redis history after a lost link or message.") \
    X(redis_subscriptions, GAUGE, "Channels this node is subscribed to in Redis.") \
    X(redis_emit_failures, COUNTER, "Emits answered 503 because Redis did not take them.") \
    X(emit_answers_awaited, GAUGE, "Emit answers waiting for Redis or for an earlier answer on their connection.") \
    X(redis_cluster_masters, GAUGE, "Redis Cluster (redis_cluster key): masters serving slots in the last slot map.") \
    X(redis_cluster_masters_up, GAUGE, "Redis Cluster: masters whose command and sharded pub/sub connections are ready.") \
    X(redis_cluster_slot_refreshes, COUNTER, "Redis Cluster: slot maps read (CLUSTER SLOTS): at start, after MOVED, a moved slot or a lost master.") \
    X(redis_cluster_moved, COUNTER, "Redis Cluster: MOVED or ASK answers, and channels whose slot moved away from their shard.") \
    X(cluster_gap_closed, COUNTER, "Subscribers closed (1012) because messages of their channel were lost.")

/* The protocol errors, grouped under "protocol_errors" in /stats (JSON key
 * second) and by a kind label in /metrics. */
#define STATS_PROTOCOL_FIELDS(X) \
    X(ws_close_1002, ws_1002) \
    X(ws_close_1003, ws_1003) \
    X(ws_close_1007, ws_1007) \
    X(ws_close_1009, ws_1009) \
    X(ws_bad_commands, bad_command)

/* Subscriptions refused, by the code the client got (WebSocket error
 * answers and SSE 4xx alike): "subscribe_refused" in /stats, a code label
 * in /metrics. Malformed commands stay under bad_command. */
#define STATS_REFUSED_FIELDS(X) \
    X(refused_forbidden, forbidden) \
    X(refused_expired, expired) \
    X(refused_invalid_channel, invalid_channel) \
    X(refused_too_many_subscriptions, too_many_subscriptions) \
    X(refused_not_subscribed, not_subscribed)

typedef struct stats {
#define STATS_MEMBER(name, ...) uint64_t name;
    STATS_FIELDS(STATS_MEMBER)
    STATS_PROTOCOL_FIELDS(STATS_MEMBER)
    STATS_REFUSED_FIELDS(STATS_MEMBER)
#undef STATS_MEMBER
} stats_t;

/* Count a refused subscription by its code; 0 if code is not one of
 * STATS_REFUSED_FIELDS (the caller counts it elsewhere). */
int stats_refused_count(stats_t *s, const char *code);

/* Count a WebSocket protocol close by its code. */
void stats_ws_close_count(stats_t *s, int code);

/* /stats: the totals of nloops loops' counters, then per loop the figures
 * that show how work spreads over them. Length or -1 (out too small). */
int stats_format_loops(const stats_t *each, size_t nloops, size_t channels, char *out,
                       size_t size);

#endif
