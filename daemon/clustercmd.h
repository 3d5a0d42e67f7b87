/* Commands other than emits on a Redis Cluster (the redis_cluster key):
 * Pusher presence's scripts and queries (presenceredis.c, pusherredis.c)
 * name a hash tag, and go to the master serving the tag's slot on its
 * command connection (rediscluster.c), so one node's commands about one
 * tag run in the order sent. MOVED and ASK are followed as emits' are
 * (clusterpub.c: the command is kept formatted and sent again, at most 3
 * times); any other error, or a connection lost, reaches the caller's
 * callback as for a single Redis. */
#ifndef HERALD_CLUSTERCMD_H
#define HERALD_CLUSTERCMD_H

#include <hiredis/async.h>
#include <stddef.h>

#include "rediscluster.h"

/* The slot of every key whose hash tag is tag (keys "herald:{tag}:…"),
 * or -1 for a tag over CLUSTERCMD_TAG_MAX bytes (no channel's is). */
#define CLUSTERCMD_TAG_MAX 512
int clustercmd_slot(const char *tag, size_t tag_len);

/* Send a command about tag's slot. cb gets the answer (NULL: the
 * connection was lost first). 0, or -1 (no master up for the slot, out
 * of memory; cb is not called). */
int clustercmd_send(rediscluster_t *rc, const char *tag, size_t tag_len, redisCallbackFn *cb,
                    void *priv, int argc, const char **argv, const size_t *lens);

/* Send one command to every master of the map (PUBSUB SHARDCHANNELS: each
 * knows its own shard's channels). each gets every master's answer (NULL
 * for a master lost meanwhile), then done once, failed 1 when a master
 * was down, lost or answered an error. 0, or -1 (nothing sent: a master
 * down, out of memory; no callback). */
typedef void clustercmd_done_fn(void *priv, int failed);
int clustercmd_send_all(rediscluster_t *rc, redisCallbackFn *each, clustercmd_done_fn *done,
                        void *priv, int argc, const char **argv, const size_t *lens);

#endif
