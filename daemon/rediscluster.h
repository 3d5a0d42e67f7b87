/* The cluster link on a Redis Cluster (the redis_cluster key; redis.c
 * starts it in place of the single-Redis link): the slot map, read with
 * CLUSTER SLOTS from a seed or a known master, and per master one command
 * connection (hiredis async on libuv: the publish and load scripts, sent
 * to the master serving the channel's slot) and one sharded pub/sub
 * connection (redisshard.c: SSUBSCRIBE while this node has subscribers of
 * a channel whose slot the master serves). A channel's keys and pub/sub
 * channel share one hash tag, so one master numbers, keeps and delivers
 * each of its messages; the channel logic (loads, order, recovery, gaps)
 * is redischan.c's, as for a single Redis.
 *
 * Failures: MOVED and ASK are followed (at most 3 times per emit) and
 * MOVED, a channel's slot moving away (Redis sends sunsubscribe) or a
 * master lost make the link read the map again; a lost master is
 * reconnected with backoff and its channels resubscribed and reloaded
 * from history, as the single link does. Emits to a slot whose master is
 * down answer 503; other shards go on. */
#ifndef HERALD_REDISCLUSTER_H
#define HERALD_REDISCLUSTER_H

#include <hiredis/async.h>
#include <uv.h>

#include "config.h"
#include "hub.h"
#include "redischan.h"
#include "stats.h"

typedef struct rediscluster rediscluster_t;

/* Start on loop 0's uv loop for cfg->redis_cluster; the hub goes into
 * cluster mode. NULL when out of memory or the seeds are invalid (logged). */
rediscluster_t *rediscluster_start(uv_loop_t *uv, hub_t *hub, const config_t *const *cfg,
                                   stats_t *stats);

/* Close every connection (in-flight publishes are called back with
 * REDIS_EFAIL); freed once libuv has closed the handles. */
void rediscluster_stop(rediscluster_t *rc);

/* Every master of the map is connected and every slot served. */
int rediscluster_is_up(const rediscluster_t *rc);

/* For the publish side (clusterpub.c). The command connection of the
 * master serving slot, NULL when none is up; *shard says which. */
redisAsyncContext *rediscluster_cmd_for(rediscluster_t *rc, unsigned slot, int *shard);

/* The command connection of the master at host:port (host "": the one of
 * shard from, which answered MOVED/ASK), NULL when unknown or down. */
redisAsyncContext *rediscluster_cmd_at(rediscluster_t *rc, int from, const char *host, int port,
                                       int *shard);

/* A MOVED (or ASK) was answered for slot: counted, the map is read again;
 * shard >= 0: the slot is that master's meanwhile (MOVED). */
void rediscluster_redirected(rediscluster_t *rc, unsigned slot, int shard);

/* A master's command connection is unusable (its scripts were flushed):
 * reconnected like a lost one. */
void rediscluster_shard_fail(rediscluster_t *rc, int shard, const char *why);

/* Every master's command connection, for a command each must answer
 * (clustercmd.c): how many, or -1 when the link is not up (a master down,
 * a slot unserved). */
int rediscluster_masters(rediscluster_t *rc, redisAsyncContext **out, size_t max);

/* Who else listens (redis.c's redis_link_hooks): up when every master is
 * up and every slot served, down when that ends (any master lost: its
 * member events may be lost), member events from the shards' smessages,
 * and the node entering or leaving a channel. */
void rediscluster_hooks(rediscluster_t *rc, const redis_hooks_t *h);

stats_t *rediscluster_stats(rediscluster_t *rc);
const config_t *rediscluster_cfg(rediscluster_t *rc);
/* The SPUBLISH script's SHA1, or (keyed) its idempotency-keyed variant's. */
const char *rediscluster_sha(rediscluster_t *rc, int keyed);

#endif
