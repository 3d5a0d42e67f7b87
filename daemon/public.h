/* The public listener's routes: the protocols browsers speak (/ws, /sse),
 * herald.js and a health check. */
#ifndef HERALD_PUBLIC_H
#define HERALD_PUBLIC_H

#include "route.h"

extern const route_table_t public_routes;

#endif
