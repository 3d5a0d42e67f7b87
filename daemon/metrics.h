/* /metrics: the counters in Prometheus' text exposition format (0.0.4). */
#ifndef HERALD_METRICS_H
#define HERALD_METRICS_H

#include <stddef.h>

#include "hub.h"
#include "stats.h"

/* Every stats figure per event loop (label loop), the channel count, and
 * the process figures an operator graphs beside them: descriptors against
 * their limit, memory, CPU, start time; loop self's counters are mine.
 * *out is malloc'd; 0 or -1. */
int metrics_format(hub_t *hub, unsigned self, const stats_t *mine, char **out, size_t *len);

#endif
