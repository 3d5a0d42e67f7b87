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

/* Flat keys so a test or a scraper reads them without walking objects. */
int stats_format(const stats_t *s, size_t channels, char *out, size_t size) {
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
#undef STATS_JSON_PROTO
    len--; /* the last comma */
    STATS_APPEND("},\"channels\":%zu}\n", channels);
#undef STATS_APPEND
    return (int)len;
}
