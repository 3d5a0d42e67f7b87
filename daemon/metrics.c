#include "metrics.h"

#include "fdlimit.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct metrics_buf {
    char *p;
    size_t len, cap;
    int failed;
} metrics_buf_t;

/* The text grows with the number of loops; a failed allocation is
 * remembered and reported once at the end. */
static void metrics_printf(metrics_buf_t *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static void metrics_head(metrics_buf_t *b, const char *name, const char *type, const char *help) {
    metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One stats figure, one sample per loop: sum without(loop) is the total. */
static void metrics_field(metrics_buf_t *b, const stats_t *each, size_t nloops, const char *name,
                          size_t off, const char *suffix, const char *type, const char *help) {
    char full[96];
    snprintf(full, sizeof(full), "herald_%s%s", name, suffix);
    metrics_head(b, full, type, help);
    for (size_t i = 0; i < nloops; i++) {
        const uint64_t *v = (const uint64_t *)(const void *)((const char *)&each[i] + off);
        /* Prometheus wants base units: a figure kept in µs goes out in s */
        if (strcmp(suffix, "_seconds") == 0)
            metrics_printf(b, "%s{loop=\"%zu\"} %.6f\n", full, i, (double)*v / 1e6);
        else
            metrics_printf(b, "%s{loop=\"%zu\"} %llu\n", full, i, (unsigned long long)*v);
    }
}

/* Resident memory from /proc (pages), 0 when unknown. */
static unsigned long long metrics_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, rss = 0;
    if (f == NULL) return 0;
    if (fscanf(f, "%llu %llu", &size, &rss) != 2) rss = 0;
    fclose(f);
    return rss * (unsigned long long)sysconf(_SC_PAGESIZE);
}

int metrics_format(hub_t *hub, unsigned self, const stats_t *mine, char **out, size_t *len) {
    size_t nloops = hub->nloops, channels;
    stats_t *each = hub_stats_collect(hub, self, mine, &channels);
    if (each == NULL) return -1;
    metrics_buf_t b = {malloc(16384), 0, 16384, 0};
    if (b.p == NULL) {
        free(each);
        return -1;
    }
    metrics_head(&b, "herald_build_info", "gauge", "heraldd's version (always 1).");
    metrics_printf(&b, "herald_build_info{version=\"%s\"} 1\n", HERALD_VERSION);
    metrics_head(&b, "herald_workers", "gauge", "Event loops running (workers).");
    metrics_printf(&b, "herald_workers %zu\n", nloops);
    metrics_head(&b, "herald_channels", "gauge", "Channels held (with subscribers or history).");
    metrics_printf(&b, "herald_channels %zu\n", channels);
#define METRICS_COUNTER "_total", "counter"
#define METRICS_GAUGE "", "gauge"
#define METRICS_GAUGE_US "_seconds", "gauge"
#define METRICS_FIELD(name, kind, help) metrics_field(&b, each, nloops, #name, offsetof(stats_t, name), METRICS_##kind, help);
    STATS_FIELDS(METRICS_FIELD)
#undef METRICS_FIELD
    metrics_head(&b, "herald_protocol_errors_total", "counter",
                 "Protocol errors by kind: WebSocket close codes sent, error answers to commands.");
    for (size_t i = 0; i < nloops; i++) {
#define METRICS_PROTO(name, key) \
        metrics_printf(&b, "herald_protocol_errors_total{loop=\"%zu\",kind=\"" #key "\"} %llu\n", i, \
                       (unsigned long long)each[i].name);
        STATS_PROTOCOL_FIELDS(METRICS_PROTO)
#undef METRICS_PROTO
    }
    metrics_head(&b, "herald_subscribe_refused_total", "counter",
                 "Subscriptions refused, by the code the client was given.");
    for (size_t i = 0; i < nloops; i++) {
#define METRICS_REFUSED(name, key) \
        metrics_printf(&b, "herald_subscribe_refused_total{loop=\"%zu\",code=\"" #key "\"} %llu\n", i, \
                       (unsigned long long)each[i].name);
        STATS_REFUSED_FIELDS(METRICS_REFUSED)
#undef METRICS_REFUSED
    }
    free(each);

    struct rusage ru;
    double cpu = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
              ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    metrics_head(&b, "process_cpu_seconds_total", "counter", "User and system CPU time spent, seconds.");
    metrics_printf(&b, "process_cpu_seconds_total %.3f\n", cpu);
    metrics_head(&b, "process_resident_memory_bytes", "gauge", "Resident memory, bytes.");
    metrics_printf(&b, "process_resident_memory_bytes %llu\n", metrics_rss_bytes());
    metrics_head(&b, "process_open_fds", "gauge", "Open file descriptors (one per connection, plus listeners).");
    metrics_printf(&b, "process_open_fds %zu\n", fdlimit_open_count());
    uint64_t max = fdlimit_current();
    if (max != 0 && max != UINT64_MAX) {
        metrics_head(&b, "process_max_fds", "gauge", "The open-file limit (soft).");
        metrics_printf(&b, "process_max_fds %llu\n", (unsigned long long)max);
    }
    metrics_head(&b, "process_start_time_seconds", "gauge", "Start time, seconds since the epoch.");
    metrics_printf(&b, "process_start_time_seconds %.3f\n", (double)hub->start_ms / 1000.0);
    if (b.failed) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}
