/* What every event loop shares, and only that: channel ids and history
 * under one lock (taken once per emit and once per subscribe, never per
 * delivery), the per-address connection table, one mailbox per loop for
 * messages and requests handed over, copies of each loop's counters,
 * Pusher presence members and the webhook events waiting for loop 0.
 * It knows no loop and no connection: a loop is an index here. */
#ifndef HERALD_HUB_H
#define HERALD_HUB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "channel.h"
#include "config.h"
#include "mpsc.h"
#include "peer.h"
#include "quota.h"
#include "presence.h"
#include "stats.h"
#include "webhookwire.h"

#define HUB_LOOPS_MAX 64 /* a bit each in channel_t.loops */

/* Results, negative as in libuv. */
enum {
    HUB_OK = 0,
    HUB_EINVAL = -1,  /* not a valid channel name */
    HUB_ENOMEM = -2,  /* out of memory: nothing was published */
    HUB_EFULL = -3,   /* full: max_channels held for a new channel, or a presence
                       * channel has max_presence_members */
    HUB_ENOENT = -4,  /* no such channel, and the caller did not ask to create it */
    HUB_ECLUSTER = -5, /* with redis, ids are Redis's: publish through the link */
    HUB_EDOWN = -6,   /* cluster: Redis is unreachable */
    HUB_PENDING = 2,  /* cluster: the channel's state is on its way from Redis */
};

/* What a handed-over hub_msg_t carries (cluster notices have no message). */
enum { HUB_MSG_DATA = 0, HUB_MSG_READY = 1, HUB_MSG_GAP = 2 };

/* The sweep's work per tick: at most HUB_SWEEP_CHUNKS chunks of
 * HUB_SWEEP_BUCKETS buckets, each chunk under the lock on its own, so an
 * emit waits for one chunk at most, however many channels there are. */
#define HUB_SWEEP_BUCKETS 256
#define HUB_SWEEP_CHUNKS 128

/* What a mailbox's owner is asked to do besides delivering (bits). */
enum { HUB_SHUTDOWN = 1, HUB_RELOAD = 2 };

/* One emit on its way to other loops: refs counts the loops that have not
 * yet delivered it; the last one frees it with its buffer reference. */
typedef struct hub_msg hub_msg_t;
typedef struct hub_node {
    mpsc_node_t node;
    hub_msg_t *msg;
} hub_node_t;

/* A handed-over message is one of a stream of local emits (held on the
 * sending loop, so on the others too) or of a stream from Redis, held
 * longer (cork.h). */
enum { HUB_STREAM_NONE = 0, HUB_STREAM_LOCAL = 1, HUB_STREAM_REMOTE = 2 };

struct hub_msg {
    atomic_uint refs;
    message_t m;          /* ws holds one reference; sse stays NULL */
    const char *name;     /* after nodes[], in the same allocation */
    uint16_t name_len;
    uint8_t stream;       /* HUB_STREAM_*: one of a stream, held on every loop */
    uint8_t kind;         /* HUB_MSG_* */
    hub_node_t nodes[];   /* one per loop */
};

/* A presence member coming or going, on its way to the loops with
 * subscribers of its channel: the event frame its origin built once,
 * shared by them all, and its place in the presence sequence. */
typedef struct hub_note hub_note_t;
typedef struct hub_note_node {
    mpsc_node_t node;
    hub_note_t *note;
} hub_note_node_t;

/* What a note says: a member came or went (frame, seq), or, with redis
 * (hubremote.h), a join's answer for one connection (token, status, seq,
 * roll), or "the channel's members are no longer known here" (reset). */
enum { HUB_NOTE_EVENT = 0, HUB_NOTE_JOINED, HUB_NOTE_RESET };

struct hub_note {
    atomic_uint refs;          /* loops that have not yet delivered it */
    uint64_t seq;
    uint8_t kind;              /* HUB_NOTE_* */
    int8_t status;             /* JOINED: 0, HUB_EFULL, or HUB_EDOWN */
    uint64_t token;            /* JOINED: the seat it answers */
    char *roll;                /* JOINED: subscription_succeeded's data (malloc'd) */
    buf_t *frame;              /* one reference */
    size_t frame_off;          /* the frame starts here */
    const char *name;          /* after nodes[], in the same allocation */
    uint16_t name_len;
    hub_note_node_t nodes[];   /* one per loop */
};

/* A client connection moving to another loop, where its session lives:
 * the socket's descriptor and what the sender had read of it. drop
 * releases both when the receiver is gone. */
typedef struct hub_handoff {
    mpsc_node_t node;
    int fd;
    void *data;
    void (*drop)(struct hub_handoff *h);
} hub_handoff_t;

/* A loop's door: others push messages and set pending bits, then wake it.
 * Messages wake it once per batch: a sender wakes the owner only if it
 * takes the asleep flag (hub_wake), which the owner sets once its inbox is
 * empty (hub_mailbox_drain); while it is awake it finds new messages itself. */
typedef struct hub_mailbox {
    mpsc_t inbox;
    mpsc_t handoffs;           /* hub_handoff_t: connections moving here */
    mpsc_t notes;              /* hub_note_t: presence members coming and going */
    uv_async_t *wake;          /* the owner's handle, while open */
    int open;                  /* others may push (changed under hub->lock) */
    atomic_int asleep;         /* 1: the owner will not look at its inbox unless woken */
    atomic_int pending;        /* HUB_SHUTDOWN / HUB_RELOAD */
    pthread_mutex_t snap_lock;
    stats_t snap;              /* the owner's counters at its last sweep */
    uint32_t bcast;            /* its broadcast members (under hub->lock) */
} hub_mailbox_t;

typedef struct hub {
    pthread_mutex_t lock;      /* channels below: ids, history, totals */
    channel_table_t channels;  /* nsubs = subscribers on every loop */
    presence_table_t presence; /* presence members of every loop */
    size_t nloops;
    hub_mailbox_t *boxes;      /* [nloops] */
    uint64_t bcast_loops;      /* bit i: loop i has broadcast members (socketio_channels) */
    size_t nbcast;             /* broadcast members on every loop */
    uint64_t start_ms;         /* wall clock at start (process_start_time_seconds) */
    atomic_size_t nconns;      /* open connections on every loop, all listeners */
    atomic_size_t npublic;     /* of which public ones (max_connections) */
    size_t fd_base;            /* descriptors open besides connections (fdlimit.h) */
    atomic_size_t fd_room;     /* connections the open-file limit leaves room for */
    int cluster;               /* ids and history come from Redis (redis.c) */
    uv_async_t *interest_wake; /* the Redis link: a channel gained or lost its last subscriber */
    char **interest;           /* those channels' names, until the link takes them */
    size_t ninterest, interest_cap;
    pthread_mutex_t peers_lock;
    peer_table_t peers;        /* public connections per client address, every loop */
    pthread_mutex_t creators_lock;
    quota_table_t creators;    /* channel creation per client address (quota.h) */
    /* Pusher webhook events for loop 0's sender (webhook.c), under lock */
    uv_async_t *hooks_wake;    /* NULL: no app has a webhook URL, nothing is queued */
    webhook_event_t *hooks, **hooks_tail;
    size_t hooks_max;          /* webhook_queue_size */
    size_t hooks_held;         /* queued here or being sent */
    uint64_t hooks_dropped;    /* over hooks_max since the sender last took */
    /* cluster presence: joins and leaves for the Redis link (hubremote.h) */
    mpsc_t presence_ops;
    uv_async_t *presence_wake; /* NULL: no link takes them */
    atomic_uint_least64_t presence_tokens;
    atomic_int presence_up;    /* the link is up: joins can be answered */
} hub_t;

/* Wall-clock milliseconds (message ids, history age, expiry). */
uint64_t hub_wall_ms(void);

/* nloops mailboxes and empty tables. 0 or HUB_ENOMEM. */
int hub_init(hub_t *hub, size_t nloops);
void hub_free(hub_t *hub);

/* Publish data on channel from loop `from`: assign the next id, keep it in
 * history (within the history_* keys) and hand it to every other loop with
 * subscribers of it (stream: loop `from` holds its own subscribers' frames
 * for it, and so will they). *m gets the message (its ws buffer holds one
 * reference for the caller, who delivers it to its own subscribers);
 * *everywhere the subscriber count on every loop; *handed gets the loops it
 * was handed to (bits), which the caller wakes with hub_wake once its
 * turn's emits are in. A channel left with nothing to hold is freed before
 * returning. 0, HUB_EINVAL, HUB_EFULL (a message that history would keep
 * needs a new channel past max_channels) or HUB_ENOMEM. */
int hub_publish(hub_t *hub, unsigned from, const config_t *cfg, const char *channel,
                size_t channel_len, const char *data, size_t len, int stream, message_t *m,
                size_t *everywhere, uint64_t *handed);

/* Wake the loops (bits) that were handed messages and may be asleep; one
 * wake-up per batch, however many messages. Not under the hub lock. */
void hub_wake(hub_t *hub, uint64_t loops);

/* Resume point for a new subscription of loop `from` to plain: under the
 * lock, count the subscriber, and copy (with references) the history after
 * since. *last is the channel's last id. *replay is malloc'd (free it after
 * releasing each message). A missing channel is created only when create
 * is set (the caller has charged the creation to the client). 1 resume
 * ok, 0 gap, HUB_ENOENT, HUB_EFULL or HUB_ENOMEM. */
int hub_subscribe(hub_t *hub, unsigned from, const config_t *cfg, const char *plain,
                  size_t len, int counted, int create, int has_since, uint64_t since,
                  uint64_t *last, message_t **replay, size_t *nreplay);

/* How many of the n channels do not exist yet (*missing), under one lock;
 * HUB_EFULL when creating them would pass max_channels, else 0. */
int hub_channels_missing(hub_t *hub, const config_t *cfg, const char *const *names,
                         const size_t *lens, size_t n, size_t *missing);

/* Charge n channel creations to client address a
 * (max_new_channels_per_ip_per_second). 0, or -1 when over. */
int hub_creators_take(hub_t *hub, const config_t *cfg, const peer_addr_t *a, size_t n,
                      uint64_t now_ms);

/* ---- for hubremote.c (the cluster's side of the hub) ---- */

/* The hub's lock (never taken twice by one thread). */
void hub_lock(hub_t *hub);
void hub_unlock(hub_t *hub);

/* Under the lock: hand m (kind HUB_MSG_*, stream as in hub_publish) to
 * the loops in `others` that still take messages; the loops it went to,
 * which the caller wakes with hub_wake once the lock is released. */
uint64_t hub_hand_over_kind(hub_t *hub, uint64_t others, const message_t *m,
                            const char *channel, size_t channel_len, int stream, int kind);

/* Loop `from` gained (+1) or lost (-1) a client that receives every
 * message of the channels matching socketio_channels, wherever published. */
void hub_broadcast_member(hub_t *hub, unsigned from, int delta);

/* Loop `from`'s subscriptions ended (each is counted off its channel). */
void hub_unsubscribe(hub_t *hub, unsigned from, sub_t *const *subs, size_t n);

/* Open loop i's mailbox with its wake handle; close it, dropping what is
 * still queued (no producer pushes once it is closed under the lock, so the
 * handle may then be closed safely). */
void hub_mailbox_open(hub_t *hub, unsigned i, uv_async_t *wake);
void hub_mailbox_close(hub_t *hub, unsigned i);

/* Loop i's wake callback (its owner only): deliver(ctx, hm) every message
 * handed to it, in order, until its inbox stays empty (each is released
 * after); then it waits for the next wake-up. How many were delivered. */
typedef void (*hub_deliver_cb)(void *ctx, hub_msg_t *hm);
size_t hub_mailbox_drain(hub_t *hub, unsigned i, hub_deliver_cb deliver, void *ctx);
void hub_msg_release(hub_msg_t *hm);

/* Move a connection to loop `to` (woken). 0, or -1 when that loop takes
 * no more (the caller still owns h). */
int hub_handoff_push(hub_t *hub, unsigned to, hub_handoff_t *h);

/* The next connection handed to loop i (its owner only), or NULL. */
hub_handoff_t *hub_handoff_pop(hub_t *hub, unsigned i);

/* Presence: one member per user on a channel, whichever loops its
 * connections are on. Join as user_id (info: its user_info as JSON): when
 * the user is new, frame (from frame_off) is handed to every loop with
 * subscribers of the channel, each once. each (may be NULL) is then called
 * under the lock for every member (it must not call the hub), and *seq
 * gets the snapshot's place: a note with a larger seq came after it.
 * 1 added, 0 counted, HUB_EFULL (a new member past max), HUB_ENOMEM. */
int hub_presence_join(hub_t *hub, const char *name, size_t len, const char *user_id,
                      const char *info, size_t max, buf_t *frame, size_t frame_off,
                      void (*each)(void *arg, const char *user_id, const char *info),
                      void *arg, uint64_t *seq);

/* One connection of user_id left: on its last, frame goes out as on a
 * join. 1 removed, 0 still a member, -1 not a member. */
int hub_presence_leave(hub_t *hub, const char *name, size_t len, const char *user_id,
                       buf_t *frame, size_t frame_off);

/* The channel's members now (each as for a join; may be NULL): how many. */
size_t hub_presence_each(hub_t *hub, const char *name, size_t len,
                         void (*each)(void *arg, const char *user_id, const char *info),
                         void *arg);

/* The next presence note handed to loop i (its owner only), or NULL.
 * Deliver it, then hub_note_release(n). */
hub_note_t *hub_note_pop(hub_t *hub, unsigned i);
void hub_note_release(hub_note_t *n);

/* Hand a presence note to the open loops in loops (under the hub's lock,
 * so notes keep their order); the note owns roll from here. */
void hub_note_post(hub_t *hub, uint64_t loops, int kind, const char *name, size_t len,
                   uint64_t seq, buf_t *frame, size_t frame_off, uint64_t token, int status,
                   char *roll);

/* Queue a webhook event decided elsewhere (with redis: the node whose
 * Redis call made the change sends it, once per cluster). */
void hub_hook_queue(hub_t *hub, int kind, const char *name, size_t len, const char *user_id);

/* Webhooks: from now on channels going occupied / vacated (subscribers on
 * every loop going 0 -> 1 -> 0) and presence members coming and going are
 * queued as events, at most max held at once (queued or being sent: more
 * are dropped and counted), and wake is signalled. A NULL wake stops that
 * and drops what is queued. */
void hub_hooks_open(hub_t *hub, uv_async_t *wake, size_t max);

/* The queued events (a list, oldest first) for the sender, and how many
 * were dropped since it last took. */
webhook_event_t *hub_hooks_take(hub_t *hub, uint64_t *dropped);

/* The sender is done with n events (sent or given up). */
void hub_hooks_done(hub_t *hub, size_t n);

/* Ask every loop but `from` to shut down / reload (HUB_* bits). */
void hub_broadcast(hub_t *hub, unsigned from, int what);

/* The HUB_* bits asked of loop i since it last looked. */
int hub_pending_take(hub_t *hub, unsigned i);

/* Call fn for every channel with subscribers on any loop whose name
 * starts with prefix, under the lock (fn must not call the hub). */
void hub_channels_each(hub_t *hub, const char *prefix, size_t prefix_len,
                       void (*fn)(const channel_t *ch, void *arg), void *arg);

/* Subscribers of one channel on every loop (0 when it has none). */
size_t hub_channel_subscribers(hub_t *hub, const char *name, size_t len);


/* Expire history and free shared channels nobody holds, a bounded part of
 * the table per call (HUB_SWEEP_*); forget idle creator addresses (loop
 * 0's sweep). */
void hub_sweep(hub_t *hub, uint64_t now_ms, const config_t *cfg);

/* max_connections_per_ip holds across loops: the count of a's connections
 * after adding one (0 when out of memory: not counted), and its release. */
uint32_t hub_peer_incr(hub_t *hub, const peer_addr_t *a);
void hub_peer_decr(hub_t *hub, const peer_addr_t *a);

/* Loop i's counters as of now, for the others to read. */
void hub_stats_publish(hub_t *hub, unsigned i, const stats_t *s);

/* Every loop's counters (calloc'd, nloops of them; free it): loop self's
 * live ones, the others' last published copies; and the channel count.
 * NULL when out of memory. */
stats_t *hub_stats_collect(hub_t *hub, unsigned self, const stats_t *mine, size_t *channels);

#endif
