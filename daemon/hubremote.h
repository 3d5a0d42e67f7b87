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

/* ---- presence across nodes (presenceredis.c on loop 0, pusher.c) ---- */

/* A presence join or leave of one connection, from its loop to the link.
 * One allocation: the strings follow the struct. */
typedef struct hub_presence_op {
    mpsc_node_t node;
    uint8_t join;          /* 1 join (answered with a JOINED note), 0 leave */
    uint8_t loop;          /* the connection's loop */
    uint32_t max;          /* join: max_presence_members */
    uint64_t token;        /* join: the seat the answer is for */
    const char *name, *user_id, *info; /* NUL-terminated; info: join only */
    size_t name_len;
} hub_presence_op_t;

/* A number no other seat of this process has (JOINED notes find theirs). */
uint64_t hub_presence_token(hub_t *hub);

/* The link takes ops from now on (wake is signalled at each push); NULL:
 * it stops, and what is queued is freed. */
void hub_presence_ops_open(hub_t *hub, uv_async_t *wake);

/* From any loop: a new op, queued in order for the link. 0, or HUB_EDOWN
 * (no link: nothing queued) or HUB_ENOMEM. */
int hub_presence_op_push(hub_t *hub, int join, unsigned loop, const char *name, size_t len,
                         const char *user_id, const char *info, uint32_t max, uint64_t token);

/* Can joins be answered now (the link is up)? Set by the link. */
int hub_presence_is_up(hub_t *hub);
void hub_presence_set_up(hub_t *hub, int up);

/* The link's side: the next op (free() it), or NULL. */
hub_presence_op_t *hub_presence_op_pop(hub_t *hub);

/* Hand a note to loops: kind HUB_NOTE_EVENT (frame from frame_off, seq)
 * and HUB_NOTE_RESET go to every loop with subscribers of the channel;
 * HUB_NOTE_JOINED (token, status, seq, roll, which the note then owns) to
 * loop `to` only. */
void hub_presence_note(hub_t *hub, int kind, const char *name, size_t len, uint64_t seq,
                       buf_t *frame, size_t frame_off, unsigned to, uint64_t token, int status,
                       char *roll);

/* The link lost what pub/sub carried: a HUB_NOTE_RESET for every
 * presence- channel with subscribers here (their seats close, 4200). */
void hub_presence_reset_all(hub_t *hub);

#endif
