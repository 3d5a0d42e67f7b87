/* /metrics: the counters in Prometheus' text exposition format (0.0.4). */
#ifndef HERALD_METRICS_H
#define HERALD_METRICS_H

#include <stddef.h>

struct server;

/* Every stats figure per event loop (label loop), the channel count, and
 * the process figures an operator graphs beside them: descriptors against
 * their limit, memory, CPU, start time. *out is malloc'd; 0 or -1. */
int metrics_format(struct server *srv, char **out, size_t *len);

#endif
