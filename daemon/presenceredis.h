/* Pusher presence across nodes (README "Several servers"): with `redis`,
 * a presence channel's members live in Redis under the channel's hash
 * tag, counted per node and user, so one user with connections on
 * several nodes is one member. Loop 0 runs it beside the link: each
 * connection's join and leave (queued by the loops through the hub) is one
 * Lua call that decides, atomically, whether it is the user's first or
 * last connection anywhere and then publishes member_added / member_removed
 * on the channel, which every node relays in order. Each node renews its
 * liveness every presence_node_ttl_ms / 3; the others remove the members
 * of a node that stopped renewing (killed) within 2 x presence_node_ttl_ms.
 * A node takes a new id whenever its link comes back, since what it missed
 * meanwhile cannot be told: its presence subscribers are closed (4200) and
 * join again. Webhooks' occupancy is decided the same way: a node joins a
 * channel's set of occupying nodes when it subscribes to the channel in
 * Redis and leaves it when it unsubscribes, so channel_occupied and
 * channel_vacated are sent once for the cluster. */
#ifndef HERALD_PRESENCEREDIS_H
#define HERALD_PRESENCEREDIS_H

#include <uv.h>

#include "config.h"
#include "hub.h"
#include "redis.h"

typedef struct presenceredis presenceredis_t;

/* Start beside link l on loop 0 (loops' joins are taken from now on).
 * NULL when out of memory (presence subscribes are then refused). */
presenceredis_t *presenceredis_start(uv_loop_t *uv, hub_t *hub, redis_link_t *l,
                                     const config_t *const *cfg);

/* Before the link stops: no more ops; freed once its handles closed. */
void presenceredis_stop(presenceredis_t *p);

#endif
