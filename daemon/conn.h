/* One client connection: accept and admission, reading into the loop's
 * buffer through the connection's protocol (conn_proto_t: HTTP until an
 * upgrade), the write queue of shared buffers, subscriptions, delivery to
 * them, and closing. Protocols (wsconn.c, sse.c) and routes sit above. */
#ifndef HERALD_CONN_H
#define HERALD_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "channel.h"
#include "http.h"
#include "listen.h"
#include "loop.h"
#include "outq.h"
#include "peer.h"

typedef struct conn conn_t;

enum { CONN_HTTP = 0, CONN_WS = 1, CONN_SSE = 2, CONN_SIO = 3 };

/* Where a connection is in its life; it only moves forward. */
enum conn_state {
    CONN_OPEN = 0,     /* reading and writing */
    CONN_DRAINING,     /* no more reading: write what is queued, then FIN */
    CONN_FIN_SENT,     /* FIN sent: wait for the peer to close (the sweep ends it) */
    CONN_CLOSING,      /* uv_close called: on_close frees it */
};

/* What a protocol does with a connection, set when it takes it over (an
 * HTTP connection upgraded to WebSocket or SSE). A new protocol is one of
 * these, in its own file, and a route that installs it. */
typedef struct conn_proto {
    int kind;                                           /* CONN_* (counters) */
    void (*feed)(conn_t *c, char *data, size_t n);      /* bytes from the peer */
    /* queue message m of channel ch; 0, or -1 when not queued */
    int (*deliver)(conn_t *c, channel_t *ch, message_t *m);
    /* a command's JSON answer (subscribed, error...) in this protocol's framing */
    int (*answer)(conn_t *c, const char *json, size_t n);
    void (*tick)(conn_t *c, uint64_t now_ms);           /* the sweep: pings, timeouts */
    /* end the session with a goodbye (code: a WebSocket close code) */
    void (*close)(conn_t *c, uint16_t code, const char *reason);
    void (*free)(conn_t *c);                            /* release c->session; may be NULL */
    /* a connection without a socket writes its queue its own way; NULL:
     * the queue goes to the socket */
    void (*flush)(conn_t *c);
} conn_proto_t;

#define CONN_IOV_MAX 64    /* buffers coalesced into one writev (a held burst) */
#define CONN_CORK_BYTES 16384 /* a queue this large (or 1/4 of max_queue_bytes) is not held */
#define CONN_PENDING_MAX 32   /* answers awaited on one connection before it is not read */

/* Answers that come later than the requests after them (emitredis.c: an
 * emit waits for Redis while the connection reads on). While a connection
 * has one, conn_respond hands it each response (defer: 1 taken, to be sent
 * in request order with conn_respond_buf; 0 send now); release: the
 * connection is being freed. n: answers awaited; at CONN_PENDING_MAX the
 * connection is not read (conn_pending_resume reads again). */
typedef struct conn_pending_ops {
    int (*defer)(conn_t *c, buf_t *b, int keep_alive);
    void (*release)(conn_t *c);
} conn_pending_ops_t;
typedef struct conn_pending {
    const conn_pending_ops_t *ops;
    uint32_t n;
} conn_pending_t;

struct conn {
    stream_handle_t h;
    loop_t *loop;
    const conn_proto_t *proto;
    listener_t *l;         /* the listener it came through (routes, admit.c's count) */
    conn_t *prev, *next;
    conn_t *dirty_next;    /* in loop->out.dirty while dirty */
    uint8_t dirty;
    uint8_t state;         /* enum conn_state */
    uint8_t listener;      /* LISTEN_* */
    uint8_t head;          /* answering a HEAD request: no body */
    uint8_t ping_out;      /* a server ping awaits its pong */
    uint8_t nwriting;      /* queue entries in the uv_write in flight */
    uint8_t ip_counted;    /* counted in hub->peers */
    uint8_t served;        /* an HTTP request was answered (emit: idle from then on) */
    uint8_t handed;        /* its queue holds frames of handed-over messages (counters) */
    uint8_t ending;        /* a closing answer waits behind pending ones: read no more */
    uint32_t held_len;
    char *held;            /* emit backpressure: bytes read, not yet parsed (conn.c) */
    char peer[64];
    peer_addr_t ip;        /* the client's address (through trusted proxies) */
    peer_addr_t ip_key;    /* ... as counted in hub->peers (IPv6: its prefix) */
    http_req_t *req;       /* only while a request is unfinished */
    void *session;         /* the protocol's own state (e.g. the WebSocket parser) */
    conn_pending_t *pending; /* answers awaited, in request order (NULL: none) */
    sub_t **subs;
    uint32_t nsubs, subs_cap;
    sub_t *bcast;          /* in loop->bcast: gets every socketio_channels message */
    outq_t q;              /* bytes waiting to be written */
    uv_write_t *wr;        /* only while a uv_write is in flight (the loop's free list) */
    uint64_t last_rx_ms, ping_ms, hb_ms, drain_ms;
    uint64_t req_ms;       /* when the current HTTP request (or the connection) began */
    uint64_t cmd_ms;       /* last refill of the command bucket */
    uint32_t cmd_tokens;   /* in thousandths of a command */
    uint32_t cmd_refused;  /* commands refused in a row */
    uint32_t new_ch_credit; /* channel creations paid ahead (subscribe_reserve) */
    uint64_t new_ch_tokens, new_ch_ms; /* max_new_channels_per_second (quota.h) */
    uint32_t auth_gen;     /* loop->auth_gen its subscriptions were checked at */
    uint32_t renew_s;      /* earliest notice or expiry of its subscriptions (Unix s); 0 = none */
};

/* Reading, writing and a goodbye are still possible. */
static inline int conn_is_open(const conn_t *c) { return c->state == CONN_OPEN; }

/* The loop's view of connections (loop_conn_ops_t, assembled by
 * workers.c with accept.c's): write and unlink a dirty list; every
 * connection's timers; deliver to this loop's subscribers of a channel;
 * shutdown (a goodbye each, or close now). */
void conn_flush_list(conn_t **list);
void conn_sweep(loop_t *loop, uint64_t now);
size_t conn_deliver_local(loop_t *loop, const char *name, size_t len, message_t *m);
void conn_close_all(loop_t *loop, int now);

/* A new connection joins its loop (accept.c): HTTP first, linked and
 * counted; then reading starts. */
void conn_open(conn_t *c, loop_t *loop, listener_t *l, int public);
void conn_read_start(conn_t *c);

/* A protocol takes the connection over (from HTTP). */
void conn_proto_set(conn_t *c, const conn_proto_t *proto);

/* Queue b from offset off (takes its own reference); it is written when
 * the loop iteration ends, with whatever else was queued for c, in one
 * writev. Over max_queue_bytes the client is dropped (proto->close 1013).
 * 0, or -1 when the connection is (now) closing. */
int conn_send(conn_t *c, buf_t *b, size_t off);

/* The last bytes of a session (a close frame, a final event; may be none)
 * go out even past max_queue_bytes, after what is queued; then drain. */
void conn_end(conn_t *c, const void *last, size_t n);

/* Queue a copy of small bytes (answers, control frames). */
int conn_send_copy(conn_t *c, const void *p, size_t n);

/* Send an HTTP response; close after it unless keep_alive. */
void conn_respond(conn_t *c, int status, const char *ctype, const char *extra,
                  const void *body, size_t len, int keep_alive);

/* Send a built response b (conn_respond's, deferred); close after it
 * unless keep_alive. */
void conn_respond_buf(conn_t *c, buf_t *b, int keep_alive);

/* An awaited answer came: read again if the connection waited for room. */
void conn_pending_resume(conn_t *c);

/* A 4xx/5xx answer with a one-line reason; the connection then closes. */
void conn_http_error(conn_t *c, int status, const char *extra, const char *reason);

/* Close now (pending writes are dropped). */
void conn_close(conn_t *c);

/* Subscriptions of c: add (-1 when over max_subscriptions or out of
 * memory), remove (-1 when not subscribed), look up. */
int conn_subscribe(conn_t *c, channel_t *ch);
int conn_unsubscribe(conn_t *c, channel_t *ch);
int conn_is_subscribed(const conn_t *c, const channel_t *ch);

/* A protocol that held an HTTP connection (a parked long-poll) gives it
 * back: requests are read again, with a fresh request timeout. */
void conn_http_resume(conn_t *c);

/* c receives every message published to a channel matching
 * socketio_channels, on any loop (join), or no longer (leave). */
int conn_broadcast_join(conn_t *c);
void conn_broadcast_leave(conn_t *c);

/* Take back c's last conn_subscribe (to ch) that the hub then refused: it
 * was never counted there. */
void conn_subscribe_undo(conn_t *c, channel_t *ch);

/* Queue one message for c in its protocol's encoding. */
int conn_deliver(conn_t *c, channel_t *ch, message_t *m);

#endif
