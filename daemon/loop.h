/* One event loop: its handles (listeners, sweep and cork timers, the flush
 * check, the wake-up from other loops), its channel table of subscriber
 * lists, its counters and the configuration and secrets it runs with.
 * Several loops run side by side (workers.c); what they share is the
 * hub's. The loop never names a connection: what it needs of them goes
 * through loop_conn_ops_t, which conn.c provides. */
#ifndef HERALD_LOOP_H
#define HERALD_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "channel.h"
#include "config.h"
#include "cork.h"
#include "http.h"
#include "hub.h"
#include "idem.h"
#include "listen.h"
#include "peer.h"
#include "secrets.h"
#include "stats.h"

enum { LISTEN_PUBLIC = 0, LISTEN_EMIT = 1 };

typedef struct loop loop_t;
struct conn;
struct route_table;
struct redis_link;
struct presenceredis;

typedef struct listener {
    stream_handle_t h;
    loop_t *loop;
    int kind;                  /* LISTEN_PUBLIC or LISTEN_EMIT */
    char addr[CONFIG_PATH_MAX];
    char unix_path[CONFIG_PATH_MAX]; /* non-empty for a Unix socket */
    int open;
    int made_dir;              /* its directory is ours to remove at exit */
    uint32_t nconns;           /* emit: connections open (admit.c; loop 0 only) */
    const struct route_table *routes; /* what its requests may ask (route.h) */
    void (*on_request)(struct conn *c, http_req_t *req); /* answers them (route_dispatch) */
} listener_t;

/* The connection layer, as callbacks set once (libuv style), so that
 * dependencies point one way: conn.c uses the loop, not the reverse. */
typedef struct loop_conn_ops {
    void (*accept)(listener_t *l);                 /* a connection is waiting */
    void (*flush)(struct conn **list);             /* write and unlink a dirty list */
    void (*sweep)(loop_t *loop, uint64_t now_ms);  /* every connection's timers */
    /* queue m for this loop's subscribers of the channel; how many got it */
    size_t (*deliver)(loop_t *loop, const char *name, size_t len, message_t *m);
    void (*close_all)(loop_t *loop, int now);      /* shutdown: goodbye, or close now */
    void (*adopt)(loop_t *loop, hub_handoff_t *h); /* a connection moved here */
    /* a presence member came or went: tell this loop's subscribers (may be NULL) */
    void (*presence)(loop_t *loop, const hub_note_t *n);
} loop_conn_ops_t;

/* Subscribers' frames are held while emits stream in, so a burst leaves
 * in one writev per client (loop_flush); answers are never held. */
typedef struct loop_output {
    struct conn *dirty;        /* subscribers with queued bytes to flush */
    size_t ndirty;             /* how many: the cork holds Redis streams for many */
    struct conn *dirty_now;    /* emit and HTTP answers: flushed every turn */
    uv_check_t flush;          /* runs loop_flush once per loop iteration */
    uv_timer_t cork;           /* ends a cork when the stream pauses */
    cork_t hold;               /* whether frames are held (cork.h) */
    uv_write_t *wr_free;       /* write requests for full sockets, reused */
    /* emits on this loop, and what other loops were handed (workers) */
    uint64_t emit_ns;          /* the last emit accepted here */
    uint64_t emitted_ns;       /* end of the last turn that accepted an emit */
    uint64_t to_wake;          /* loops handed messages this turn (bits): woken at its end */
    uint8_t handing;           /* delivering handed-over messages (counters) */
} loop_output_t;

/* Who may subscribe and publish: applied whole by a reload. */
typedef struct loop_auth {
    secrets_t secrets;
    peer_cidr_t trusted[PEER_CIDR_MAX];
    size_t ntrusted;
} loop_auth_t;

/* How a reload finds the configuration again. */
typedef struct loop_reload_src {
    int argc;
    char **argv;
    config_t *owned;           /* the config a reload installed (freed here) */
} loop_reload_src_t;

enum loop_state { LOOP_RUNNING = 0, LOOP_STOPPING, LOOP_STOPPED };

#define LOOP_LISTENERS_MAX (1 + CONFIG_EMIT_MAX)
#define LOOP_READ_BUF (64 * 1024)

#define LOOP_CORK_NS CORK_GAP_NS /* emits this close together are a stream */


struct loop {
    uv_loop_t *uv;
    const config_t *cfg;
    hub_t *hub;
    unsigned index;            /* 0: the main thread, signals and emit */
    const loop_conn_ops_t *ops;
    listener_t listeners[LOOP_LISTENERS_MAX];
    size_t nlisteners;
    struct conn *conns;        /* every open connection (doubly linked) */
    size_t nconns;
    sub_t *bcast;              /* connections given every socketio_channels message */
    channel_table_t channels;
    stats_t stats;
    http_limits_t public_limits, emit_limits;
    unsigned char *rbuf;       /* the one read buffer of this loop */
    loop_auth_t auth;
    uint32_t auth_gen;         /* counts reloads of auth: subscriptions re-check their keys */
    idem_t idem;               /* emits' idempotency keys (loop 0: the emit listeners') */
    loop_output_t out;
    uv_async_t wake;           /* other loops: a message or a request waits */
    uv_timer_t sweep;
    uv_timer_t shutdown_timer;
    loop_reload_src_t src;
    enum loop_state state;
    uint64_t refused_logged_ms; /* the last "connection refused" log line */
    void (*stopped_cb)(loop_t *loop); /* its handles are closing: uv_run will return */
    /* cluster: a channel's notice from the hub (HUB_MSG_READY / _GAP), set
     * by the owner (subscribe_on_channel) */
    void (*on_channel)(loop_t *loop, int kind, const char *name, size_t len);
    struct redis_link *redis;  /* loop 0 with the redis key: the cluster link */
    struct presenceredis *presence; /* beside it: presence members across nodes */
    void *data;                /* the owner's, as in libuv's handles */
};

/* Set up state from a loaded config; loads secrets (refusing bad ones).
 * argv is kept for reloads. 0 or -1 (logged). */
int loop_init(loop_t *loop, uv_loop_t *uv, const config_t *cfg, hub_t *hub, unsigned index,
              const loop_conn_ops_t *ops, int argc, char **argv);

/* Start the timers, the flush check and the wake-up handle. */
int loop_start(loop_t *loop);

/* Add a listener of kind on addr whose requests on_request answers by
 * the routes table. 0 or -1. */
int loop_listen(loop_t *loop, int kind, const char *addr, const struct route_table *routes,
                void (*on_request)(struct conn *c, http_req_t *req));

/* Re-read the configuration (the same command line and file) and the
 * secret files; apply secrets and limits without dropping any connection.
 * On any error the running configuration stays. 0 or -1. */
int loop_reload(loop_t *loop);

/* Publish from this loop: the hub assigns the id and hands the message to
 * other loops, this loop's subscribers get it here. 0, HUB_EINVAL,
 * HUB_ENOMEM, or HUB_ECLUSTER with redis set (emitredis.h publishes). */
int loop_publish(loop_t *loop, const char *channel, size_t channel_len, const char *data,
                 size_t len, uint64_t *id, size_t *subscribers);

/* A message was queued for this loop's subscribers (corking). */
static inline void loop_published(loop_t *loop, uint64_t now_ns) {
    cork_published(&loop->out.hold, now_ns);
}

/* Refusals come in floods: 1 when one may be logged now (at most one
 * line a second per loop; the counters in /stats have them all). */
int loop_log_throttle(loop_t *loop);

/* Stop accepting, say goodbye to clients, and let the loop end; called
 * again (by conn.c) when the last connection has closed. */
void loop_shutdown(loop_t *loop);

void loop_free(loop_t *loop);

#endif
