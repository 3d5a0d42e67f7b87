/* The Redis link's channels (redis.c keeps the connections): the set of
 * channels this node is subscribed to in Redis, each loaded (last id and
 * history) when subscribed and applied to the hub in id order; a hole or
 * a lost link is recovered from history, or reported as a gap. */
#ifndef HERALD_REDISCHAN_H
#define HERALD_REDISCHAN_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "cork.h"
#include "hubremote.h"
#include "stats.h"

struct rchan;
struct redischan_set;

/* How a Redis Cluster's set (rediscluster.c) reaches its shards; a single
 * Redis's set has none and uses cmd and sub. A shard is a small index. */
typedef struct redischan_ops {
    /* The shard serving the channel if it is up, else -1. */
    int (*owner)(struct redischan_set *s, const char *name, size_t len);
    /* Subscribe on the owner: the shard used, or -1 (the channel waits). */
    int (*subscribe)(struct redischan_set *s, const char *name, size_t len);
    void (*unsubscribe)(struct redischan_set *s, int shard, const char *name, size_t len);
    /* The command connection of a shard, or NULL when it is down. */
    redisAsyncContext *(*cmd)(struct redischan_set *s, int shard);
    /* A shard said the channel is not its own any more (a slot moved, a
     * redirection or an error answer): the map is read again, and the
     * channel is subscribed on its new owner by redischan_reroute. */
    void (*moved)(struct redischan_set *s);
    /* A shard's connections cannot be trusted (a malformed answer, its
     * scripts flushed): renewed, its channels resubscribed. */
    void (*fail)(struct redischan_set *s, int shard, const char *why);
} redischan_ops_t;

/* Results of a publish, negative as in libuv (both links). */
enum {
    REDIS_EDOWN = -1,   /* the link is down: nothing was sent */
    REDIS_EFAIL = -2,   /* Redis answered an error or the link broke: not published */
};

/* A message to publish (both links). */
typedef struct redis_pub {
    const char *channel;
    size_t channel_len;
    const char *data;
    size_t len;
    const char *key;       /* its idempotency key (checked: 1-64 bytes), or NULL */
    size_t key_len;
} redis_pub_t;

/* Called once per publish that returned 0: status 0 with the ids Redis
 * assigned and how many nodes each reached, or REDIS_EFAIL. A message
 * whose key Redis had seen within idempotency_window_ms (on any node) was
 * not published: repeated[i] is 1, ids[i] the first one's id, nodes[i] 0. */
typedef void (*redis_publish_cb)(void *arg, int status, const uint64_t *ids,
                                 const uint64_t *nodes, const unsigned char *repeated, size_t n);

/* Who else listens to the link, either (presenceredis.c): up once both
 * connections answer (a cluster: every master's, every slot served),
 * down when it is lost (a cluster: any master; pub/sub may have dropped
 * messages), the pub/sub payloads that are member events (presencewire.h)
 * rather than messages, and the node subscribing to a channel in Redis
 * (on: its first subscriber here; again for every channel when the link
 * comes back) or leaving it (its last). */
typedef struct redis_hooks {
    void (*up)(void *arg);
    void (*down)(void *arg);
    void (*event)(void *arg, const char *channel, size_t len, const char *p, size_t n);
    void (*occupy)(void *arg, const char *channel, size_t len, int on);
    /* a Redis Cluster: the channel's slot moved to another master, so
     * what was published there before the node subscribed may be lost */
    void (*lost)(void *arg, const char *channel, size_t len);
    void *arg;
} redis_hooks_t;

/* The first member of the link (redis.c, rediscluster.c), so a
 * connection's data, the link, is also its set. */
typedef struct redischan_set {
    const redischan_ops_t *ops;    /* NULL: one Redis, cmd and sub */
    hub_t *hub;
    const config_t *const *cfg;
    stats_t *stats;
    unsigned db;                   /* in pub/sub channel names (pub/sub ignores SELECT) */
    redisAsyncContext *cmd, *sub;  /* the link's connections; NULL while down */
    int up;                        /* both connections answer */
    char sha_load[41];             /* the load script (redis.c loads it) */
    /* the link gives up on its connections (outside hiredis callbacks);
     * one Redis only (a cluster's shards: ops->fail) */
    void (*fail)(struct redischan_set *s, const char *why);
    /* a payload that is a member event, not a message (presencewire.h) */
    void (*event)(struct redischan_set *s, const char *name, size_t len, const char *p, size_t n);
    /* the node subscribes to a channel in Redis (on) or leaves it */
    void (*occupy)(struct redischan_set *s, const char *name, size_t len, int on);
    /* a cluster: the channel left its shard (its slot moved) */
    void (*lost)(struct redischan_set *s, const char *name, size_t len);
    struct rchan **buckets;
    size_t nbuckets, count;
    size_t held;                   /* bytes held while channels load */
    uint32_t routes;               /* the last channel route number given */
    uint64_t applied_ns;           /* the last message handed to the loops */
} redischan_set_t;

/* Messages from Redis closer than this stream in: the hand-over carries
 * it (HUB_STREAM_REMOTE), and the loops hold their frames by cork.c's rule
 * for a stream from Redis (the same gap, so the two cannot drift apart). */
#define REDISCHAN_STREAM_NS CORK_REMOTE_GAP_NS

/* An empty set. 0 or -1 (out of memory). */
int redischan_init(redischan_set_t *s);
void redischan_free(redischan_set_t *s);

/* The link is up: subscribe to every channel of the set (each then loads
 * and recovers what the outage skipped). */
void redischan_subscribe_all(redischan_set_t *s);

/* A cluster came up (every master): occupy every channel subscribed on a
 * shard again, for the node's presence id may be new (those on shards
 * that were down occupy as they subscribe). */
void redischan_occupy_all(redischan_set_t *s);

/* The link is down: forget what was held; everything reloads when up. */
void redischan_reset(redischan_set_t *s);

/* Act on the channels that gained their first or lost their last
 * subscriber here (hub_interest_take). */
void redischan_interest(redischan_set_t *s);

/* A pub/sub reply or push from shard (0 for a single Redis): a
 * confirmation loads the channel, a message is applied in id order, and
 * a sunsubscribe Redis sends by itself (its slot moved) asks ops->moved. */
void redischan_on_push(redischan_set_t *s, const redisReply *r, int shard);

/* A shard is down: its channels wait, and reload when subscribed again. */
void redischan_reset_shard(redischan_set_t *s, int shard);

/* The slot map changed or a shard came up: every channel not subscribed
 * on its owner leaves its old shard and subscribes on the owner. */
void redischan_reroute(redischan_set_t *s);

/* How long a channel's keys live after its last message. */
uint64_t redischan_key_ttl(const config_t *cfg);

#endif
