/* Emits on a Redis Cluster (the redis_cluster key): each message goes to
 * the master serving its channel's slot, through that master's command
 * connection (rediscluster.c), as the SPUBLISH variant of the publish
 * script. A batch is pipelined per master, one MULTI/EXEC per slot: it is
 * atomic per channel, not across shards. MOVED and ASK are followed (the
 * commands are kept formatted, so a redirection sends the same bytes). */
#ifndef HERALD_CLUSTERPUB_H
#define HERALD_CLUSTERPUB_H

#include <stddef.h>

#include "rediscluster.h"

/* Publish n messages. 0 (cb follows, REDIS_EFAIL if any slot's part
 * failed: the others may have been published), REDIS_EDOWN when a master
 * needed is down (nothing sent), or UV_ENOMEM. */
int clusterpub_publish(rediscluster_t *rc, const redis_pub_t *msgs, size_t n,
                       redis_publish_cb cb, void *arg);

#endif
