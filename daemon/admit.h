/* Admission by count, before any work is spent on a connection: the open
 * files, max_connections for browsers, max_emit_connections for each emit
 * listener. Below conn.c: it sees the loop and its listeners, never a
 * connection. */
#ifndef HERALD_ADMIT_H
#define HERALD_ADMIT_H

#include "loop.h"

/* Claim a slot for a connection accepted on l: 0, or -1 when it must be
 * closed at once (counted, and logged at most once a second). */
int admit_count(loop_t *loop, listener_t *l);

/* Give back the slot of a connection of listener l (kind public or emit). */
void admit_release(loop_t *loop, listener_t *l);

#endif
