/* The emit listener's routes (README "Emit API"), served only on the
 * private listeners: single and batch publishes, the seed's GET route,
 * health, stats and metrics; every request needs the emit token if one is
 * set. */
#ifndef HERALD_EMIT_H
#define HERALD_EMIT_H

#include "route.h"

extern const route_table_t emit_routes;

#endif
