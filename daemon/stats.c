#include "stats.h"

#include <stdio.h>
#include <string.h>

void stats_ws_close_count(stats_t *s, int code) {
    switch (code) {
    case 1002: s->ws_close_1002++; break;
    case 1003: s->ws_close_1003++; break;
    case 1007: s->ws_close_1007++; break;
    case 1009: s->ws_close_1009++; break;
    default: break;
    }
}

int stats_refused_count(stats_t *s, const char *code) {
#define STATS_REFUSED_MATCH(name, key) \
    if (strcmp(code, #key) == 0) { s->name++; return 1; }
    STATS_REFUSED_FIELDS(STATS_REFUSED_MATCH)
#undef STATS_REFUSED_MATCH
    return 0;
}

/* stats_t is all uint64_t counters, so a sum is field by field. */
static void stats_add(stats_t *a, const stats_t *b) {
    uint64_t *pa = (uint64_t *)(void *)a;
    const uint64_t *pb = (const uint64_t *)(const void *)b;
    for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++) pa[i] += pb[i];
}

/* Flat keys so a test or a scraper reads them without walking objects. */
static int stats_format(const stats_t *s, size_t channels, char *out, size_t size) {
    size_t len = 0;
    int n;
#define STATS_APPEND(...)                                                      \
    do {                                                                       \
        n = snprintf(out + len, size - len, __VA_ARGS__);                      \
        if (n < 0 || (size_t)n >= size - len) return -1;                       \
        len += (size_t)n;                                                      \
    } while (0)
    STATS_APPEND("{");
#define STATS_JSON(name, ...) STATS_APPEND("\"" #name "\":%llu,", (unsigned long long)s->name);
    STATS_FIELDS(STATS_JSON)
#undef STATS_JSON
    STATS_APPEND("\"protocol_errors\":{");
#define STATS_JSON_PROTO(name, key) STATS_APPEND("\"" #key "\":%llu,", (unsigned long long)s->name);
    STATS_PROTOCOL_FIELDS(STATS_JSON_PROTO)
    len--; /* the last comma */
    STATS_APPEND("},\"subscribe_refused\":{");
    STATS_REFUSED_FIELDS(STATS_JSON_PROTO)
#undef STATS_JSON_PROTO
    len--;
    STATS_APPEND("},\"channels\":%zu}\n", channels);
#undef STATS_APPEND
    return (int)len;
}

/* /stats: totals over the loops plus per-loop connections and frames. */
int stats_format_loops(const stats_t *each, size_t nloops, size_t channels, char *out,
                       size_t size) {
    stats_t total;
    memset(&total, 0, sizeof(total));
    for (size_t i = 0; i < nloops; i++) stats_add(&total, &each[i]);
    int n = stats_format(&total, channels, out, size);
    if (n < 0 || (size_t)n < 2) return -1;
    size_t len = (size_t)n - 2; /* reopen the object before its "}\n" */
    int k = snprintf(out + len, size - len, ",\"workers\":%zu,\"loops\":[", nloops);
    for (size_t i = 0; k >= 0 && (size_t)k < size - len && i < nloops; i++) {
        len += (size_t)k;
        k = snprintf(out + len, size - len,
                     "%s{\"connections\":%llu,\"connections_accepted\":%llu,\"ws_connections\":%llu,"
                     "\"frames_delivered\":%llu,\"socket_writes\":%llu,\"messages_emitted\":%llu,"
                     "\"messages_handed_over\":%llu,\"handover_frames\":%llu,"
                     "\"handover_writes\":%llu}",
                     i ? "," : "",
                     (unsigned long long)(each[i].public_connections_open + each[i].emit_connections_open),
                     (unsigned long long)each[i].public_connections_accepted,
                     (unsigned long long)each[i].ws_connections_open,
                     (unsigned long long)each[i].frames_delivered,
                     (unsigned long long)each[i].socket_writes,
                     (unsigned long long)each[i].messages_emitted,
                     (unsigned long long)each[i].messages_handed_over,
                     (unsigned long long)each[i].handover_frames,
                     (unsigned long long)each[i].handover_writes);
    }
    if (k < 0 || (size_t)k >= size - len) return -1;
    len += (size_t)k;
    k = snprintf(out + len, size - len, "]}\n");
    if (k < 0 || (size_t)k >= size - len) return -1;
    return (int)(len + (size_t)k);
}
