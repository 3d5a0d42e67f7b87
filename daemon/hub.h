/* Several event loops, one per thread (workers): what they share. Channel
 * ids and history live in one table under one lock, taken once per emit
 * and once per subscribe, never per delivery. Each loop keeps its own
 * subscriber lists; an emit is encoded once and the same buffer is handed
 * to every other loop through that loop's MPSC inbox and a uv_async wake. */
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
#include "stats.h"

#define HUB_LOOPS_MAX 64 /* a bit each in channel_t.loops */

typedef struct server server_t;
typedef struct hub hub_t;

/* One emit on its way to the other loops: refs counts the loops that have
 * not yet delivered it; the last one frees it with its buffer reference. */
typedef struct hub_msg hub_msg_t;
typedef struct hub_node {
    mpsc_node_t node;
    hub_msg_t *msg;
} hub_node_t;

struct hub_msg {
    atomic_uint refs;
    message_t m;          /* ws holds one reference; sse stays NULL */
    const char *name;     /* after nodes[], in the same allocation */
    uint16_t name_len;
    hub_node_t nodes[];   /* one per loop */
};

struct hub {
    pthread_mutex_t lock;      /* channels below: ids, history, totals */
    channel_table_t channels;  /* nsubs = subscribers on every loop */
    size_t nloops;
    server_t *loops;           /* [0] runs on the main thread and owns emit */
    uv_loop_t *uvloops;
    uv_thread_t *threads;
    int started;               /* threads running */
    uint64_t start_ms;         /* wall clock at start (process_start_time_seconds) */
    atomic_size_t nconns;      /* open connections on every loop, all listeners */
    atomic_size_t npublic;     /* of which public ones (max_connections) */
    size_t fd_base;            /* descriptors open besides connections (fdlimit.h) */
    atomic_size_t fd_room;     /* connections the open-file limit leaves room for */
    pthread_mutex_t peers_lock;
    peer_table_t peers;        /* public connections per client address, every loop */
};

/* workers: 0 means one per CPU. */
size_t hub_workers_resolve(uint64_t workers);

/* Create nloops servers from cfg (argv kept for reloads). 0 or -1. */
int hub_init(hub_t *hub, const config_t *cfg, int argc, char **argv);

/* Open every loop's listeners and run loops 1.. in threads, then loop 0 on
 * the calling thread until shutdown; joins the others. 0 or 1. */
int hub_run(hub_t *hub);

void hub_free(hub_t *hub);

/* Publish data on channel from srv's loop: assign the next id, keep it in
 * history, deliver to this loop's subscribers and hand it to the others.
 * -1 bad channel name, -2 out of memory. */
int hub_publish(server_t *srv, const char *channel, size_t channel_len,
                const char *data, size_t len, uint64_t *id, size_t *subscribers);

/* Resume point for a new subscription of srv to plain: under the lock,
 * count the subscriber, and copy (with references) the history after
 * since. *last is the channel's last id. *replay is malloc'd (free it after
 * releasing each message). Returns 1 resume ok, 0 gap, -1 out of memory. */
int hub_subscribe(server_t *srv, const char *plain, size_t len, int counted,
                  int has_since, uint64_t since, uint64_t *last,
                  message_t **replay, size_t *nreplay);

/* A loop's subscriptions ended (each is counted off its channel). */
void hub_unsubscribe(server_t *srv, sub_t *const *subs, size_t n);

/* Deliver m to srv's subscribers of channel name; how many got it. */
size_t hub_deliver_local(server_t *srv, const char *name, size_t len, message_t *m);

/* Ask every other loop to shut down / reload (from loop 0's signals). */
void hub_broadcast(server_t *from, int what);

enum { HUB_SHUTDOWN = 1, HUB_RELOAD = 2 };

/* The async callback of a loop's wake handle. */
void hub_on_wake(uv_async_t *a);

/* Close a loop's wake handle, dropping what is still queued for it. */
void hub_loop_close(server_t *srv);

/* Expire history and free idle shared channels (loop 0's sweep). */
void hub_sweep(hub_t *hub, uint64_t now_ms, uint64_t ttl_ms);

/* max_connections_per_ip holds across loops: the count of a's connections
 * after adding one (0 when out of memory: not counted), and its release. */
uint32_t hub_peer_incr(hub_t *hub, const peer_addr_t *a);
void hub_peer_decr(hub_t *hub, const peer_addr_t *a);

/* Every loop's counters (calloc'd, *nloops of them; free it) and the
 * channel count. NULL when out of memory. */
stats_t *hub_stats_collect(server_t *srv, size_t *nloops, size_t *channels);

/* /stats: totals over the loops plus per-loop connections and frames. */
int hub_stats_format(server_t *srv, char *out, size_t size);

#endif
