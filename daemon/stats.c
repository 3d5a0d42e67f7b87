#include "stats.h"

#include <stdio.h>

void stats_ws_close_count(stats_t *s, int code) {
    switch (code) {
    case 1002: s->ws_close_1002++; break;
    case 1003: s->ws_close_1003++; break;
    case 1007: s->ws_close_1007++; break;
    case 1009: s->ws_close_1009++; break;
    default: break;
    }
}

/* stats_t is all uint64_t counters, so a sum is field by field. */
void stats_add(stats_t *a, const stats_t *b) {
    uint64_t *pa = (uint64_t *)(void *)a;
    const uint64_t *pb = (const uint64_t *)(const void *)b;
    for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++) pa[i] += pb[i];
}

#define F(name) "\"" #name "\":%llu,"
#define V(name) (unsigned long long)s->name

/* Flat keys so a test or a scraper reads them without walking objects. */
int stats_format(const stats_t *s, size_t channels, char *out, size_t size) {
    int n = snprintf(out, size,
        "{" F(public_connections_accepted) F(public_connections_open)
        F(emit_connections_accepted) F(emit_connections_open) F(connections_refused)
        F(ws_connections_open) F(sse_connections_open) F(messages_emitted)
        F(frames_delivered) F(messages_handed_over) F(bytes_written) F(socket_writes) F(slow_consumer_disconnects)
        F(ping_timeouts) F(subscriptions) F(http_errors) F(emit_unauthorized)
        F(origin_refused) F(request_timeouts) F(commands_rate_limited) F(reloads) F(per_ip_refused)
        F(emit_idle_closed) F(fd_limit_refused)
        "\"protocol_errors\":{\"ws_1002\":%llu,\"ws_1003\":%llu,\"ws_1007\":%llu,"
        "\"ws_1009\":%llu,\"bad_command\":%llu},\"channels\":%zu}\n",
        V(public_connections_accepted), V(public_connections_open),
        V(emit_connections_accepted), V(emit_connections_open), V(connections_refused),
        V(ws_connections_open), V(sse_connections_open), V(messages_emitted),
        V(frames_delivered), V(messages_handed_over), V(bytes_written), V(socket_writes), V(slow_consumer_disconnects),
        V(ping_timeouts), V(subscriptions), V(http_errors), V(emit_unauthorized),
        V(origin_refused), V(request_timeouts), V(commands_rate_limited), V(reloads), V(per_ip_refused),
        V(emit_idle_closed), V(fd_limit_refused),
        V(ws_close_1002), V(ws_close_1003), V(ws_close_1007), V(ws_close_1009),
        V(ws_bad_commands), channels);
    return n < 0 || (size_t)n >= size ? -1 : n;
}
