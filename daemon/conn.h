/* One client connection: accept, read dispatch (HTTP, WebSocket, SSE), the
 * write queue of shared buffers, subscriptions, and closing. */
#ifndef HERALD_CONN_H
#define HERALD_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "channel.h"
#include "http.h"
#include "server.h"
#include "ws.h"

enum { CONN_HTTP = 0, CONN_WS = 1, CONN_SSE = 2 };

typedef struct conn_out {
    buf_t *buf;
    uint32_t off;          /* first byte not yet written */
} conn_out_t;

#define CONN_IOV_MAX 16    /* buffers coalesced into one uv_write */
#define CONN_CORK_NS 1000000 /* longest a burst's frames are held (conn_flush_dirty) */
#define CONN_CORK_BYTES 16384 /* a queue this large (or 1/4 of max_queue_bytes) is not held */

struct conn {
    stream_handle_t h;
    server_t *srv;
    conn_t *prev, *next;
    conn_t *dirty_next;    /* in srv->dirty while dirty */
    uint8_t dirty;
    uint8_t kind;          /* CONN_* */
    uint8_t listener;      /* LISTEN_* */
    uint8_t closing;       /* uv_close called */
    uint8_t draining;      /* close once the queue is written */
    uint8_t ping_out;      /* a server ping awaits its pong */
    uint8_t nwriting;      /* queue entries in the uv_write in flight */
    char peer[64];
    peer_addr_t ip;        /* the client's address (through trusted proxies) */
    uint8_t ip_counted;    /* counted in hub->peers */
    http_req_t *req;       /* only while a request is unfinished */
    ws_parser_t *ws;
    sub_t **subs;
    uint32_t nsubs, subs_cap;
    conn_out_t *q;         /* ring of queued buffers */
    uint32_t qcap, qhead, qlen;
    size_t qbytes;
    uv_write_t *wr;        /* only while a uv_write is in flight (server's free list) */
    uint64_t last_rx_ms, ping_ms, hb_ms, drain_ms;
    uint64_t req_ms;       /* when the current HTTP request (or the connection) began */
    uint64_t cmd_ms;       /* last refill of the command bucket */
    uint32_t cmd_tokens;   /* in thousandths of a command */
    uint32_t cmd_refused;  /* commands refused in a row */
};

/* Accept a connection on listener l (on_connection callback). */
void conn_accept(listener_t *l);

/* Queue b from offset off (takes its own reference); it is written when
 * the loop iteration ends, with whatever else was queued for c, in one
 * writev. Over max_queue_bytes the client is dropped (1013).
 * 0, or -1 when the connection is (now) closing. */
int conn_send(conn_t *c, buf_t *b, size_t off);

/* Queue a copy of small bytes (answers, control frames). */
int conn_send_copy(conn_t *c, const void *p, size_t n);

/* Queue a text frame holding p[0..n). */
int conn_send_text(conn_t *c, const char *p, size_t n);

/* Send an HTTP response; close after it unless keep_alive. */
void conn_respond(conn_t *c, int status, const char *ctype, const char *extra,
                  const void *body, size_t len, int keep_alive);

/* A 4xx/5xx answer with a one-line reason; the connection then closes. */
void conn_http_error(conn_t *c, int status, const char *extra, const char *reason);

/* max_connections_per_ip (README): count c under address a, or answer 503. */
int conn_admit(conn_t *c, const peer_addr_t *a);

/* allowed_origins on /ws and /sse: 1 when c was answered 403. */
int conn_origin_refuse(conn_t *c, http_req_t *req);

/* Re-count c under the client a trusted proxy names; 0, or -1 if refused. */
int conn_admit_forwarded(conn_t *c, http_req_t *req);

/* Close now (pending writes are dropped). */
void conn_close(conn_t *c);

/* Stop reading, write what is queued, then close. */
void conn_drain(conn_t *c);

/* WebSocket: send a close frame with code and reason, then close. */
void conn_ws_close(conn_t *c, uint16_t code, const char *reason);

/* Subscribe c to ch (SSE or WS); -1 when over max_subscriptions. */
int conn_subscribe(conn_t *c, channel_t *ch);
int conn_unsubscribe(conn_t *c, channel_t *ch);
int conn_is_subscribed(const conn_t *c, const channel_t *ch);

/* Queue one message for c in its encoding (WS frame or SSE event). */
int conn_deliver(conn_t *c, channel_t *ch, message_t *m);

/* Resolve a subscribe request's name: the plain channel (pointing into
 * name) or an error code and reason as in README. */
int conn_channel_authorize(server_t *srv, const char *name, size_t len,
                           const char **plain, size_t *plain_len,
                           const char **code, const char **reason);

/* Subscribe with optional resume: answer (WS) / announce (SSE), then
 * replay history after since. Returns 0 or -1 (code/reason set). */
int conn_subscribe_resume(conn_t *c, const char *plain, size_t plain_len,
                          int has_since, uint64_t since, const void *cmd,
                          const char **code, const char **reason);

/* Write what every connection queued during this loop iteration. */
void conn_flush_dirty(server_t *srv);

/* The periodic sweep: pings, pong timeouts, SSE heartbeats, drain limits. */
void conn_sweep(server_t *srv, uint64_t now);

/* Upgrade an HTTP connection to WebSocket after a valid handshake. */
void conn_ws_upgrade(conn_t *c, http_req_t *req);

#endif
