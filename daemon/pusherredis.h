/* The Pusher HTTP API's questions answered for the whole cluster, from
 * Redis (README "Several servers", "Presence across nodes"): a presence
 * channel's users and counts (presenceredis.c keeps them there), and the
 * channels some node has subscribers of. Loop 0 asks through its link. */
#ifndef HERALD_PUSHERREDIS_H
#define HERALD_PUSHERREDIS_H

#include <stddef.h>

#include "redis.h"

/* cb gets the users' ids as JSON ([{"id":…},…], list set) or how many
 * users and connections (every node's) the channel has, or a status
 * HUB_EDOWN / HUB_ENOMEM. 0 (cb follows) or HUB_EDOWN. */
typedef void (*pusherredis_users_cb)(void *arg, int status, const char *users_json,
                                     long long users, long long connections);
int pusherredis_users(redis_link_t *l, const char *name, size_t len, int list,
                      pusherredis_users_cb cb, void *arg);

/* The channels some node has subscribers of (PUBSUB CHANNELS: a node is
 * subscribed in Redis while it has any; a Redis Cluster: PUBSUB
 * SHARDCHANNELS on every master, HUB_EDOWN to cb when one is down), names
 * starting with prefix; the names are valid during cb only. 0 or HUB_EDOWN. */
typedef void (*pusherredis_channels_cb)(void *arg, int status, const char *const *names,
                                        size_t n, const size_t *lens);
int pusherredis_channels(redis_link_t *l, const char *prefix, size_t len,
                         pusherredis_channels_cb cb, void *arg);

#endif
