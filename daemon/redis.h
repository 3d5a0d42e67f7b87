/* The cluster link: this node's connection to Redis, one per process, on
 * loop 0 (where the emit listeners are). Two hiredis connections on the
 * libuv adapter: one for commands (publishes through a Lua script, loads
 * of a channel's state), one for pub/sub. The link keeps the hub's
 * channels in step with Redis: it subscribes to a channel while this node
 * has subscribers of it, loads its last id and history, applies what
 * Redis sends in id order (the hub hands it to every loop as a local emit
 * would be), and recovers what a lost link or a lost message skipped.
 *
 * Why one link per process and not one per loop: every emit arrives on
 * loop 0 already, and one pub/sub subscription per node means each
 * message crosses the network once per node, not once per loop; the hub's
 * mailboxes spread it over the loops as they do for local emits. */
#ifndef HERALD_REDIS_H
#define HERALD_REDIS_H

#include <hiredis/async.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "hub.h"
#include "redischan.h"
#include "stats.h"

typedef struct redis_link redis_link_t;

/* Start the link for cfg->redis (or cfg->redis_cluster: rediscluster.h)
 * on loop 0's uv loop; the hub goes into
 * cluster mode. *cfg is read again at each use (reloads). stats are loop
 * 0's. The link connects in the background and reconnects with backoff.
 * NULL when out of memory or the address is invalid (logged). */
redis_link_t *redis_link_start(uv_loop_t *uv, hub_t *hub, const config_t *const *cfg,
                               stats_t *stats);

/* Close the connections (in-flight publishes are called back with
 * REDIS_EFAIL) and the handles; the link is freed when they are closed. */
void redis_link_stop(redis_link_t *l);

int redis_link_is_up(const redis_link_t *l);

/* redis_pub_t, redis_publish_cb and the REDIS_E* results are in
 * redischan.h (both links share them). */

/* Publish n messages (n > 1: one MULTI/EXEC transaction, all or none,
 * pipelined in one write). 0 (cb follows), REDIS_EDOWN or UV_ENOMEM. */
int redis_publish(redis_link_t *l, const redis_pub_t *msgs, size_t n, redis_publish_cb cb,
                  void *arg);

/* Send a command about a channel (tag: the channel name, or another hash
 * tag a key holds in {}) on the link's command connection; with a Redis
 * Cluster, the command connection of the master serving the tag's slot
 * (clustercmd.c: MOVED and ASK followed). cb gets NULL when the link
 * breaks first. 0, or REDIS_EDOWN (cb is not called). */
int redis_command_for(redis_link_t *l, const char *tag, size_t tag_len, redisCallbackFn *cb,
                      void *priv, int argc, const char **argv, const size_t *lens);

/* Send one command to every node that must answer it (one Redis: once;
 * a Redis Cluster: every master, as PUBSUB SHARDCHANNELS needs): each gets
 * every answer (NULL: a connection lost), then done once (failed: a
 * master lost or an error answered). 0, or REDIS_EDOWN (no callback). */
int redis_command_all(redis_link_t *l, redisCallbackFn *each, void (*done)(void *priv, int failed),
                      void *priv, int argc, const char **argv, const size_t *lens);

/* 1 with a Redis Cluster: scripts publish with SPUBLISH, channels are
 * listed with PUBSUB SHARDCHANNELS. */
int redis_link_sharded(const redis_link_t *l);

/* redis_hooks_t (who else listens to the link) is in redischan.h. */
void redis_link_hooks(redis_link_t *l, const redis_hooks_t *h);

/* The db of the `redis` URL (pub/sub channel names carry it). */
unsigned redis_link_db(const redis_link_t *l);

#endif
