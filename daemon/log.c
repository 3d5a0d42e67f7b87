#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* Atomic: every event loop's thread logs, and a reload may change it. */
static _Atomic int log_threshold = LOG_INFO;
static const char *const log_names[] = {"debug", "info", "warn", "error"};

/* Set once at start-up from log_level; tests raise it to debug. */
void log_level_set(int level) { log_threshold = level; }
int log_level_get(void) { return log_threshold; }

/* The config key takes the same words the log lines print. */
int log_level_parse(const char *s) {
    for (int i = 0; i < 4; i++)
        if (strcmp(s, log_names[i]) == 0) return i;
    return -1;
}

/* One line per event, UTC with milliseconds, so lines from several
 * processes in a test log can be ordered. */
void log_write(int level, const char *fmt, ...) {
    if (level < log_threshold) return;
    struct timeval tv;
    struct tm tm;
    char ts[32];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s.%03dZ heraldd %s: %s\n", ts, (int)(tv.tv_usec / 1000),
            log_names[level < 0 ? 0 : level > 3 ? 3 : level], line);
}
