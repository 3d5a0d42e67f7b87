/* Counters for /stats: kept per loop in the server struct, incremented on
 * the hot path as plain integers (no atomics, one loop owns them). */
#ifndef HERALD_STATS_H
#define HERALD_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct stats {
    uint64_t public_connections_accepted, public_connections_open;
    uint64_t emit_connections_accepted, emit_connections_open;
    uint64_t connections_refused;          /* over max_connections */
    uint64_t ws_connections_open, sse_connections_open;
    uint64_t messages_emitted;             /* accepted from the emit API */
    uint64_t frames_delivered;             /* messages queued to clients */
    uint64_t messages_handed_over;         /* received from another loop (workers) */
    uint64_t bytes_written;                /* to all sockets */
    uint64_t socket_writes;                /* write calls (writev) on all sockets */
    uint64_t slow_consumer_disconnects;    /* close 1013 */
    uint64_t ping_timeouts;
    uint64_t subscriptions;                /* currently active */
    uint64_t http_errors;                  /* 4xx answered */
    uint64_t emit_unauthorized;
    uint64_t origin_refused;               /* 403: Origin not in allowed_origins */
    uint64_t request_timeouts;             /* 408: slow or stalled requests */
    uint64_t commands_rate_limited;        /* rate_limited answers */
    uint64_t reloads;                      /* configurations applied by SIGHUP */
    uint64_t per_ip_refused;               /* 503: over max_connections_per_ip */
    uint64_t emit_idle_closed;             /* emit_idle_timeout_ms reached */
    uint64_t fd_limit_refused;             /* accepts failed: out of file descriptors */
    uint64_t ws_close_1002, ws_close_1003, ws_close_1007, ws_close_1009;
    uint64_t ws_bad_commands;              /* error answers to commands */
} stats_t;

/* Count a WebSocket protocol close by its code. */
void stats_ws_close_count(stats_t *s, int code);

/* Add every counter of b to a (totals over loops). */
void stats_add(stats_t *a, const stats_t *b);

/* JSON object of all counters plus the channel count; length or -1. */
int stats_format(const stats_t *s, size_t channels, char *out, size_t size);

#endif
