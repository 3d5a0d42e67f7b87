/* Logging to stderr with a timestamp and a level. Not on the hot path:
 * it is called for start-up, failures and per-connection events. */
#ifndef HERALD_LOG_H
#define HERALD_LOG_H

enum { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* The process-wide threshold; messages below it are dropped. */
void log_level_set(int level);
int log_level_get(void);

/* "debug"/"info"/"warn"/"error" -> level, or -1. */
int log_level_parse(const char *s);

void log_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) do { if (log_level_get() <= LOG_DEBUG) log_write(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
