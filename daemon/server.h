/* heraldd's loop-local state and its listeners. Everything one event loop
 * owns (connections, channel table, stats, read buffer) is in server_t and
 * passed around, so several loops could run side by side later. */
#ifndef HERALD_SERVER_H
#define HERALD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "channel.h"
#include "config.h"
#include "http.h"
#include "hub.h"
#include "mpsc.h"
#include "signed.h"
#include "peer.h"
#include "stats.h"

enum { LISTEN_PUBLIC = 0, LISTEN_EMIT = 1 };

typedef struct server server_t;
typedef struct conn conn_t;

/* A TCP or Unix stream socket, listening or connected: the one handle
 * a listener or a connection (conn.h) owns. */
typedef union stream_handle {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
} stream_handle_t;

typedef struct listener {
    stream_handle_t h;
    server_t *srv;
    int kind;                  /* LISTEN_PUBLIC or LISTEN_EMIT */
    char addr[CONFIG_PATH_MAX];
    char unix_path[CONFIG_PATH_MAX]; /* non-empty for a Unix socket */
    int open;
} listener_t;

#define SERVER_LISTENERS_MAX (1 + CONFIG_EMIT_MAX)
#define SERVER_READ_BUF (64 * 1024)
#define SERVER_EMIT_SECRET_MAX 512

struct server {
    uv_loop_t *loop;
    const config_t *cfg;
    listener_t listeners[SERVER_LISTENERS_MAX];
    size_t nlisteners;
    conn_t *conns;             /* every open connection (doubly linked) */
    size_t nconns;
    channel_table_t channels;
    stats_t stats;
    http_limits_t public_limits, emit_limits;
    unsigned char *rbuf;       /* the one read buffer of this loop */
    int rbuf_busy;
    herald_secret_t *secrets;
    size_t nsecrets;
    peer_cidr_t trusted[PEER_CIDR_MAX];
    size_t ntrusted;
    unsigned char emit_secret[SERVER_EMIT_SECRET_MAX];
    size_t emit_secret_len;
    conn_t *dirty;             /* subscribers with queued bytes to flush */
    conn_t *dirty_now;         /* emit and HTTP answers: flushed every turn */
    uv_timer_t cork;           /* ends a cork (conn_flush_dirty) */
    uint64_t publish_ns;       /* the last publish to this loop's subscribers */
    uint64_t check_ns;         /* the last flush turn (check phase) */
    uint64_t delivered_ns;     /* end of the last turn that published or flushed */
    uint64_t cork_ns;          /* when subscriber flushes were first held; 0 = not */
    int cork_break;            /* a client's queue grew large: flush this turn */
    uv_check_t flush;          /* flushes them once per loop iteration */
    uv_timer_t sweep;
    uv_timer_t shutdown_timer;
    uv_signal_t sigterm, sigint, sighup;
    int argc;                  /* the command line, re-read on SIGHUP */
    char **argv;
    config_t *cfg_owned;       /* the config a reload installed (freed here) */
    int shutting_down;
    uint64_t sweep_ms;
    uint64_t refused_logged_ms; /* the last "connection refused" log line */
    /* workers: this loop's place among the others (hub.h) */
    hub_t *hub;
    unsigned index;            /* 0: the main thread, signals and emit */
    mpsc_t inbox;              /* messages other loops hand to this one */
    uv_async_t wake;
    int inbox_open;            /* others may push (changed under hub->lock) */
    atomic_int pending;        /* HUB_SHUTDOWN / HUB_RELOAD requests */
    uv_write_t *wr_free;       /* write requests for full sockets, reused */
    pthread_mutex_t snap_lock;
    stats_t snap;              /* a copy of stats for /stats on loop 0 */
};

/* Set up state from a loaded config; loads secrets (refusing bad ones). */
int server_init(server_t *srv, uv_loop_t *loop, const config_t *cfg);

/* Re-read the configuration (the same command line and file) and the
 * secret files; apply secrets and limits to every connection without
 * dropping any. On any error the running configuration stays. 0 or -1. */
int server_reload(server_t *srv);

/* Open the listeners, signal handlers and the sweep timer. */
int server_start(server_t *srv);

/* A message was queued for this loop's subscribers (corking, conn.c). */
static inline void server_published(server_t *srv, uint64_t now_ns) {
    srv->publish_ns = now_ns;
}

/* Refusals come in floods: 1 when one may be logged now (at most one
 * line a second per loop; the counters in /stats have them all). */
int server_log_throttle(server_t *srv);

/* The public listener of a loop when several share the port. */
int server_listen_reuseport(server_t *srv, listener_t *l, const char *hostport);

/* Stop accepting, say goodbye to clients, and let the loop end. */
void server_shutdown(server_t *srv);

void server_free(server_t *srv);

/* Wall-clock milliseconds (message ids, history age). */
uint64_t server_wall_ms(void);

/* Load secrets from a file (README "Signed channel names"). 0 or -1 with a
 * reason (never the secret) in err. */
int server_secrets_load(const char *path, herald_secret_t **out, size_t *n,
                        char *err, size_t err_size);

/* Route a complete request on the public listener. */
void server_public_route(conn_t *c, http_req_t *req);

/* Is this browser Origin allowed (allowed_origins)? */
int server_origin_allowed(const server_t *srv, const char *origin, size_t len);

#endif
