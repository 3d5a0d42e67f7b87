/* The Redis link's channels (redis.c keeps the connections): the set of
 * channels this node is subscribed to in Redis, each loaded (last id and
 * history) when subscribed and applied to the hub in id order; a hole or
 * a lost link is recovered from history, or reported as a gap. */
#ifndef HERALD_REDISCHAN_H
#define HERALD_REDISCHAN_H

#include <hiredis/async.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "hubremote.h"
#include "stats.h"

struct rchan;

/* The first member of the link (redis.c), so a connection's data, the
 * link, is also its set. */
typedef struct redischan_set {
    hub_t *hub;
    const config_t *const *cfg;
    stats_t *stats;
    unsigned db;                   /* in pub/sub channel names (pub/sub ignores SELECT) */
    redisAsyncContext *cmd, *sub;  /* the link's connections; NULL while down */
    int up;                        /* both connections answer */
    char sha_load[41];             /* the load script (redis.c loads it) */
    /* the link gives up on its connections (outside hiredis callbacks) */
    void (*fail)(struct redischan_set *s, const char *why);
    /* a payload that is a member event, not a message (presencewire.h) */
    void (*event)(struct redischan_set *s, const char *name, size_t len, const char *p, size_t n);
    /* the node subscribes to a channel in Redis (on) or leaves it */
    void (*occupy)(struct redischan_set *s, const char *name, size_t len, int on);
    struct rchan **buckets;
    size_t nbuckets, count;
    size_t held;                   /* bytes held while channels load */
    uint64_t applied_ns;           /* the last message handed to the loops */
} redischan_set_t;

/* Messages from Redis closer than this stream in: the loops hold their
 * frames as for a stream of emits (loop.h's LOOP_CORK_NS). */
#define REDISCHAN_STREAM_NS 1000000

/* An empty set. 0 or -1 (out of memory). */
int redischan_init(redischan_set_t *s);
void redischan_free(redischan_set_t *s);

/* The link is up: subscribe to every channel of the set (each then loads
 * and recovers what the outage skipped). */
void redischan_subscribe_all(redischan_set_t *s);

/* The link is down: forget what was held; everything reloads when up. */
void redischan_reset(redischan_set_t *s);

/* Act on the channels that gained their first or lost their last
 * subscriber here (hub_interest_take). */
void redischan_interest(redischan_set_t *s);

/* How long a channel's keys live after its last message. */
uint64_t redischan_key_ttl(const config_t *cfg);

#endif
