/* The open-file limit: every connection is a descriptor, so this limit,
 * not max_connections alone, decides how many clients heraldd can hold. */
#ifndef HERALD_FDLIMIT_H
#define HERALD_FDLIMIT_H

#include <stddef.h>
#include <stdint.h>

/* Descriptors kept free beyond the connections: a secret file read on
 * reload, libuv's reserve, a log file being reopened. */
#define FDLIMIT_SPARE 8

/* Connections the public listener leaves to the emit listeners when the
 * open-file limit is what binds (at most a quarter of the room). */
#define FDLIMIT_EMIT_KEEP 64

/* Descriptors open now (taken once at start, after the listeners: what
 * heraldd holds besides its connections). */
size_t fdlimit_open_count(void);

/* Raise the soft limit as far as max_connections needs on top of base open
 * descriptors (never past the hard limit) and warn, with the numbers, when
 * even that cannot hold them. Returns how many connections fit. */
size_t fdlimit_fit(uint64_t max_connections, size_t base);

/* The soft limit in force (UINT64_MAX: none, 0: unknown). */
uint64_t fdlimit_current(void);

#endif
