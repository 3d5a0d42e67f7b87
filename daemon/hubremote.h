/* The hub's cluster side (README "Several servers"), used by the Redis
 * link on loop 0 (redis.c, redischan.c): with a Redis link the hub no
 * longer numbers messages: the link loads a channel's last id and history
 * from Redis when the node gains its first subscriber (until then
 * hub_subscribe answers HUB_PENDING), and applies every message of it
 * that Redis sends, in id order. */
#ifndef HERALD_HUBREMOTE_H
#define HERALD_HUBREMOTE_H

#include "hub.h"

/* From now on channels are numbered by Redis; wake is signalled (with the
 * lock held) whenever a channel gains its first or loses its last
 * subscriber on this node. Called before the loops start. */
void hub_cluster_enable(hub_t *hub, uv_async_t *wake);

/* The names queued since the last call (each and the array malloc'd,
 * NULL when none): their count. */
size_t hub_interest_take(hub_t *hub, char ***names);

/* Does the node still have subscribers of the channel (*ready: its state
 * is loaded)? */
int hub_remote_wanted(hub_t *hub, const char *name, size_t len, int *ready);

/* The link leaves the channel if nobody came back: 1 (it is no longer
 * ready), or 0 when it has subscribers again. */
int hub_remote_drop(hub_t *hub, const char *name, size_t len);

typedef struct hub_entry {
    uint64_t id, ms;
    const char *data;
    size_t len;
} hub_entry_t;

/* The channel's state as Redis has it: last id and history (ids
 * ascending); it becomes ready and waiting subscriptions are answered.
 * gap: live subscribers missed messages (their loops are told). 0 or
 * HUB_ENOMEM. */
int hub_remote_load(hub_t *hub, const config_t *cfg, const char *name, size_t len,
                    uint64_t last, const hub_entry_t *e, size_t n, int gap);

/* The message after the channel's last: into history and to every loop
 * with subscribers (loop 0 too, through its mailbox), which are woken
 * (hub_wake: once per batch they drain). stream: it came in a stream from
 * Redis, so the loops hold its frames as hub_publish's would be held. 0,
 * 1 when the channel is not loaded here (dropped), HUB_ENOMEM. */
int hub_remote_apply(hub_t *hub, const config_t *cfg, const char *name, size_t len,
                     const hub_entry_t *e, int stream);

#endif
