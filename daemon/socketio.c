#include "socketio.h"

#include "accept.h"
#include "log.h"
#include "sio.h"
#include "subscribe.h"
#include "wsconn.h"

#include <errno.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIO_SID_BYTES 15           /* 120 random bits: 20 base64url characters */
#define SIO_SID_LEN 21             /* and first, the loop holding the session */
#define SIO_BUCKETS 1024
#define SIO_CLIENT_JS_MAX (4 << 20)

/* One socket.io client: its Engine.IO session. Its connection (conn) is
 * the WebSocket, or for long-polling a connection without a socket whose
 * queue leaves through the GET request parked in poll. */
typedef struct sio_session {
    ws_parser_t ws;              /* first: the WebSocket transport's parser */
    char sid[SIO_SID_LEN + 1];
    conn_t *conn;                /* where subscriptions and the queue live */
    conn_t *poll;                /* polling: the GET waiting for packets */
    conn_t *probe;               /* a WebSocket probing to take over (upgrade) */
    struct sio_session *hnext;   /* in its loop's sid table */
    unsigned loop;
    uint8_t connected;           /* the client joined the default namespace */
    uint8_t has_ack;             /* answering an event with this ack id */
    uint64_t ack;
    uint64_t ping_ms;            /* when the last server ping went out */
    uint8_t ping_out;
    char cors[300];              /* the parked GET's CORS header line */
} sio_session_t;

static const char sio_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Each loop's sessions by sid: only that loop's thread touches its row. */
static sio_session_t *sio_table[HUB_LOOPS_MAX][SIO_BUCKETS];

static void sio_ws_feed(conn_t *c, char *data, size_t n);
static int sio_deliver(conn_t *c, channel_t *ch, message_t *m);
static int sio_answer(conn_t *c, const char *json, size_t n);
static void sio_tick(conn_t *c, uint64_t now);
static void sio_ws_close(conn_t *c, uint16_t code, const char *reason);
static void sio_ws_free(conn_t *c);
static void sio_poll_close(conn_t *c, uint16_t code, const char *reason);
static void sio_poll_free(conn_t *c);
static void sio_poll_flush(conn_t *c);
static void sio_wait_feed(conn_t *c, char *data, size_t n);
static void sio_wait_tick(conn_t *c, uint64_t now);
static void sio_wait_close(conn_t *c, uint16_t code, const char *reason);
static void sio_wait_free(conn_t *c);

/* The WebSocket transport: the connection is the session. */
static const conn_proto_t sio_ws_proto = {
    .kind = CONN_SIO,
    .feed = sio_ws_feed,
    .deliver = sio_deliver,
    .answer = sio_answer,
    .tick = sio_tick,
    .close = sio_ws_close,
    .free = sio_ws_free,
};

/* Long-polling: a connection without a socket holds the session. */
static const conn_proto_t sio_poll_proto = {
    .kind = CONN_SIO,
    .deliver = sio_deliver,
    .answer = sio_answer,
    .tick = sio_tick,
    .close = sio_poll_close,
    .free = sio_poll_free,
    .flush = sio_poll_flush,
};

/* An HTTP connection whose GET waits for a session's packets: no request
 * timeout while parked; the session's pings bound the wait. */
static const conn_proto_t sio_wait_proto = {
    .kind = CONN_HTTP,
    .feed = sio_wait_feed,
    .tick = sio_wait_tick,
    .close = sio_wait_close,
    .free = sio_wait_free,
};

static sio_session_t *sio_of(conn_t *c) { return c->session; }

/* A session id is bound to the address that opened it. */
static int sio_same_client(const conn_t *a, const conn_t *b) {
    return a->ip.family == b->ip.family && memcmp(&a->ip, &b->ip, sizeof(a->ip)) == 0;
}

static size_t sio_bucket(const char *sid, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)sid[i]) * 16777619u;
    return h % SIO_BUCKETS;
}

static sio_session_t *sio_find(unsigned loop, const char *sid, size_t n) {
    if (n != SIO_SID_LEN) return NULL;
    for (sio_session_t *s = sio_table[loop][sio_bucket(sid, n)]; s; s = s->hnext)
        if (memcmp(s->sid, sid, n) == 0) return s;
    return NULL;
}

/* Session ids are random (RAND_bytes), so knowing one session's id says
 * nothing about another's; an id is also bound to its client's address. */
static sio_session_t *sio_session_new(loop_t *loop) {
    sio_session_t *s = calloc(1, sizeof(*s));
    unsigned char raw[SIO_SID_BYTES];
    if (s == NULL || RAND_bytes(raw, sizeof(raw)) != 1) {
        free(s);
        return NULL;
    }
    s->sid[0] = sio_b64[loop->index];
    for (size_t i = 0, o = 1; i < SIO_SID_BYTES; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        for (int k = 3; k >= 0; k--) s->sid[o++] = sio_b64[(v >> (6 * k)) & 63];
    }
    s->loop = loop->index;
    size_t b = sio_bucket(s->sid, SIO_SID_LEN);
    s->hnext = sio_table[s->loop][b];
    sio_table[s->loop][b] = s;
    s->ping_ms = uv_now(loop->uv);
    return s;
}

static void sio_session_unlink(sio_session_t *s) {
    sio_session_t **pp = &sio_table[s->loop][sio_bucket(s->sid, SIO_SID_LEN)];
    while (*pp && *pp != s) pp = &(*pp)->hnext;
    if (*pp) *pp = s->hnext;
}

/* Query parameter value (not decoded: EIO, transport and sid need none). */
static const char *sio_param(http_req_t *req, const char *key, size_t *len) {
    size_t ulen, plen, qlen, kl = strlen(key);
    const char *url = http_req_url(req, &ulen), *path, *q;
    http_url_split(url, ulen, &path, &plen, &q, &qlen);
    const char *end = q ? q + qlen : NULL;
    for (const char *p = q; p && p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        if ((size_t)(e - p) > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
            *len = (size_t)(e - p - (ptrdiff_t)kl - 1);
            return p + kl + 1;
        }
        p = amp ? amp + 1 : end;
    }
    *len = 0;
    return NULL;
}

static int sio_param_is(http_req_t *req, const char *key, const char *want) {
    size_t n;
    const char *v = sio_param(req, key, &n);
    return v && n == strlen(want) && memcmp(v, want, n) == 0;
}

/* Engine.IO answers refusals with a JSON body and keeps HTTP semantics. */
static void sio_http_error(conn_t *c, http_req_t *req, int status, int code, const char *why) {
    char body[200], cors[512];
    subscribe_cors_header(c->loop, req, cors, sizeof(cors));
    int n = snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", code, why);
    log_info("%s: socket.io %d: %s", c->peer, status, why);
    conn_respond(c, status, "application/json", cors, body, (size_t)n, 0);
}

/* Queue one packet for the client, on whichever transport it is. */
static int sio_send(conn_t *c, const char *p, size_t n) {
    if (c->proto == &sio_ws_proto) return wsconn_text(c, p, n);
    return conn_send_copy(c, p, n);
}

static int sio_deliver(conn_t *c, channel_t *ch, message_t *m) {
    if (m->sio == NULL && (m->sio = sio_message_packet(m, &m->sio_off)) == NULL) return -1;
    if (c->proto == &sio_ws_proto) return conn_send(c, m->sio, m->sio_off);
    return conn_send(c, m->sio, WS_FRAME_HEADER_MAX);
}

/* subscribe_resume answers with Herald's JSON; socket.io wants it as the
 * argument of the event's ack (nothing when the client asked for none). */
static int sio_answer(conn_t *c, const char *json, size_t n) {
    sio_session_t *s = sio_of(c);
    if (!s->has_ack) return 0;
    char out[640];
    int k = snprintf(out, sizeof(out), "43%llu[%.*s]", (unsigned long long)s->ack, (int)n, json);
    if (k < 0 || (size_t)k >= sizeof(out)) return -1;
    return sio_send(c, out, (size_t)k);
}

static void sio_answer_error(conn_t *c, const char *code, const char *reason) {
    char json[320];
    int n = snprintf(json, sizeof(json), "{\"type\":\"error\",\"code\":\"%s\",\"reason\":\"%s\"}",
                     code, reason);
    sio_answer(c, json, (size_t)n);
}

/* socket.emit('subscribe', signedName, ack): the one event heraldd takes.
 * A channel every client gets anyway (socketio_channels) needs none. */
static void sio_subscribe(conn_t *c, const sio_packet_t *p) {
    const char *code, *reason, *plain;
    size_t plain_len;
    if (!p->has_arg) {
        sio_answer_error(c, "bad_request", "subscribe needs a channel name");
        return;
    }
    if (subscribe_authorize(c->loop, p->arg, strlen(p->arg), &plain, &plain_len, &code,
                            &reason) != 0) {
        log_info("%s: socket.io subscribe refused: %s", c->peer, code);
        sio_answer_error(c, code, reason);
        return;
    }
    if (channel_is_public(c->loop->cfg->socketio_channels, plain, plain_len)) {
        char json[320];
        int n = snprintf(json, sizeof(json), "{\"type\":\"subscribed\",\"channel\":\"%.*s\"}",
                         (int)plain_len, plain);
        sio_answer(c, json, (size_t)n);
        return;
    }
    if (subscribe_resume(c, plain, plain_len, 0, 0, NULL, &code, &reason) != 0)
        sio_answer_error(c, code, reason);
}

static void sio_session_close(sio_session_t *s) {
    conn_t *c = s->conn;
    if (c->proto == &sio_ws_proto) sio_ws_close(c, 1000, "");
    else sio_poll_close(c, 1000, "");
}

/* One Engine.IO packet from the client, whatever carried it. Browsers
 * never publish: an event other than subscribe is counted and dropped. */
static void sio_packet(conn_t *c, const char *data, size_t n) {
    sio_session_t *s = sio_of(c);
    sio_packet_t p;
    int rc = sio_packet_parse(data, n, &p);
    if (rc != 0) {
        log_info("%s: socket.io packet refused: %s", c->peer, sio_strerror(rc));
        c->loop->stats.ws_bad_commands++;
        sio_session_close(s);
        return;
    }
    switch (p.eio) {
    case EIO_PONG:
        s->ping_out = 0;
        return;
    case EIO_CLOSE:
        sio_session_close(s);
        return;
    case EIO_MESSAGE:
        break;
    default: /* pings and upgrades belong to the WebSocket probe (sio_probe) */
        return;
    }
    int rate = subscribe_rate_take(c);
    if (rate == SUBSCRIBE_RATE_CLOSE) {
        sio_session_close(s);
        return;
    }
    if (rate != SUBSCRIBE_RATE_OK) return;
    if (p.sio == SIO_CONNECT && !s->connected) {
        char out[64];
        int k = snprintf(out, sizeof(out), "40{\"sid\":\"%s\"}", s->sid);
        if (conn_broadcast_join(c) != 0) {
            sio_send(c, "44{\"message\":\"out of memory\"}", 29);
            return;
        }
        s->connected = 1;
        sio_send(c, out, (size_t)k);
    } else if (p.sio == SIO_DISCONNECT) {
        sio_session_close(s);
    } else if (p.sio == SIO_EVENT && s->connected && strcmp(p.event, "subscribe") == 0) {
        s->has_ack = (uint8_t)p.has_ack;
        s->ack = p.ack;
        sio_subscribe(c, &p);
        s->has_ack = 0;
    } else {
        c->loop->stats.socketio_events_ignored++;
    }
}

/* Server pings (Engine.IO 4: the server pings, the client answers); no
 * pong within pong_timeout_ms ends the session. */
static void sio_tick(conn_t *c, uint64_t now) {
    sio_session_t *s = sio_of(c);
    const config_t *cfg = c->loop->cfg;
    if (s->ping_out && now - s->ping_ms >= cfg->pong_timeout_ms) {
        c->loop->stats.ping_timeouts++;
        log_info("%s: socket.io client did not answer a ping: closing", c->peer);
        sio_session_close(s);
    } else if (!s->ping_out && now - s->ping_ms >= cfg->ping_interval_ms) {
        s->ping_out = 1;
        s->ping_ms = now;
        sio_send(c, "2", 1);
    }
}

/* ---- WebSocket transport ------------------------------------------------ */

static void sio_poll_release(sio_session_t *s, const char *packet);

/* The probe of an upgrade: "2probe" is answered "3probe" and the parked
 * GET is released with a noop; "5" moves the session onto this socket. */
static void sio_probe(conn_t *w, const char *data, size_t n) {
    sio_session_t *s = sio_of(w);
    if (n == 6 && memcmp(data, "2probe", 6) == 0) {
        wsconn_text(w, "3probe", 6);
        sio_poll_release(s, "6");
        return;
    }
    if (n != 1 || data[0] != '5') return;
    conn_t *v = s->conn;
    sio_poll_release(s, "6");
    /* Subscriptions and broadcast membership move with their sub_t. */
    w->subs = v->subs;
    w->nsubs = v->nsubs;
    w->subs_cap = v->subs_cap;
    for (uint32_t i = 0; i < w->nsubs; i++) w->subs[i]->conn = w;
    v->subs = NULL;
    v->nsubs = v->subs_cap = 0;
    w->bcast = v->bcast;
    if (w->bcast) w->bcast->conn = w;
    v->bcast = NULL;
    /* What the session had queued goes out framed on the WebSocket. */
    while (v->q.len) {
        outq_entry_t *e = &v->q.ring[v->q.head];
        wsconn_text(w, (const char *)e->buf->data + e->off, e->buf->len - e->off);
        outq_pop(&v->q);
    }
    s->conn = w;
    s->probe = NULL;
    v->session = NULL;
    conn_close(v);
}

static int sio_ws_on_message(void *ctx, int opcode, const unsigned char *data, size_t len) {
    conn_t *c = ctx;
    if (!conn_is_open(c)) return 1;
    if (opcode != WS_OP_TEXT) return wsconn_control(c, opcode, data, len);
    sio_session_t *s = sio_of(c);
    if (s->conn != c) sio_probe(c, (const char *)data, len);
    else sio_packet(c, (const char *)data, len);
    return conn_is_open(c) ? 0 : 1;
}

static void sio_ws_feed(conn_t *c, char *data, size_t n) {
    wsconn_feed_with(c, &sio_of(c)->ws, data, n, sio_ws_on_message);
}

static void sio_ws_close(conn_t *c, uint16_t code, const char *reason) {
    wsconn_close(c, code, reason);
}

/* The session's parser is the WebSocket's (a polling session has none
 * until a probe takes it). A probe that goes away leaves the polling
 * session as it was; the session's own socket takes the session along. */
static void sio_ws_free(conn_t *c) {
    sio_session_t *s = sio_of(c);
    if (s == NULL) return;
    ws_parser_free(&s->ws);
    c->session = NULL;
    if (s->conn != c) {
        s->probe = NULL;
        return;
    }
    sio_session_unlink(s);
    free(s);
}

/* The open packet: the session id and the timing the client must keep. */
static int sio_open_packet(const loop_t *loop, const sio_session_t *s, int upgrades, char *out,
                           size_t size) {
    const config_t *cfg = loop->cfg;
    return snprintf(out, size,
                    "0{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%llu,"
                    "\"pingTimeout\":%llu,\"maxPayload\":%llu}",
                    s->sid, upgrades ? "\"websocket\"" : "",
                    (unsigned long long)cfg->ping_interval_ms,
                    (unsigned long long)cfg->pong_timeout_ms,
                    (unsigned long long)cfg->max_client_message_bytes);
}

/* GET /socket.io/?EIO=4&transport=websocket: a new session on this socket,
 * or (with sid) a probe to upgrade a polling session from this address. */
static void sio_ws_start(conn_t *c, http_req_t *req) {
    size_t sl;
    const char *sid = sio_param(req, "sid", &sl);
    if (sid) {
        sio_session_t *s = sio_find(c->loop->index, sid, sl);
        if (s == NULL || s->probe || s->conn->proto != &sio_poll_proto ||
            !sio_same_client(s->conn, c)) {
            sio_http_error(c, req, 400, 1, "Session ID unknown");
            return;
        }
        if (wsconn_handshake(c, req, &s->ws) != 0) return;
        s->probe = c;
        c->session = s;
        conn_proto_set(c, &sio_ws_proto);
        return;
    }
    sio_session_t *s = sio_session_new(c->loop);
    if (s == NULL) {
        conn_close(c);
        return;
    }
    if (wsconn_handshake(c, req, &s->ws) != 0) {
        sio_session_unlink(s);
        free(s);
        return;
    }
    s->conn = c;
    c->session = s;
    conn_proto_set(c, &sio_ws_proto);
    char open[256];
    int n = sio_open_packet(c->loop, s, 0, open, sizeof(open));
    wsconn_text(c, open, (size_t)n);
}

/* ---- long-polling transport -------------------------------------------- */

/* Hand the parked GET back to HTTP with one packet as its answer. */
static void sio_poll_release(sio_session_t *s, const char *packet) {
    conn_t *g = s->poll;
    if (g == NULL) return;
    s->poll = NULL;
    g->session = NULL;
    conn_http_resume(g);
    conn_respond(g, 200, "text/plain; charset=UTF-8", s->cors, packet, strlen(packet), 1);
}

/* The session's queue is the answer of the parked GET: the packets as
 * they are (shared buffers), separated by SIO_RS, in one response. */
static void sio_poll_flush(conn_t *v) {
    sio_session_t *s = sio_of(v);
    if (s == NULL || s->poll == NULL || v->q.len == 0) return;
    conn_t *g = s->poll;
    size_t total = v->q.bytes + v->q.len - 1;
    s->poll = NULL;
    g->session = NULL;
    conn_http_resume(g);
    buf_t *head = http_response(200, "text/plain; charset=UTF-8", s->cors, NULL, total,
                                1, 1);
    buf_t *rs = buf_from("\x1e", 1);
    if (head == NULL || rs == NULL || conn_send(g, head, 0) != 0) {
        buf_unref(head);
        buf_unref(rs);
        conn_close(g);
        return;
    }
    buf_unref(head);
    for (uint32_t i = 0; v->q.len; i++) {
        if (i) conn_send(g, rs, 0);
        outq_entry_t *e = &v->q.ring[v->q.head];
        conn_send(g, e->buf, e->off);
        outq_pop(&v->q);
    }
    buf_unref(rs);
}

/* Bytes on a parked GET's connection: a client that sends a request while
 * its poll waits is not a socket.io client; end it. */
static void sio_wait_feed(conn_t *c, char *data, size_t n) {
    log_info("%s: socket.io: a request while a poll waits: closing", c->peer);
    conn_close(c);
}

/* The session's pings bound the wait (sio_tick), not handshake_timeout_ms. */
static void sio_wait_tick(conn_t *c, uint64_t now) {}

/* Shutdown: the poll gets a close packet; the client reconnects later. */
static void sio_wait_close(conn_t *c, uint16_t code, const char *reason) {
    sio_session_t *s = sio_of(c);
    if (s) sio_poll_release(s, "1");
}

static void sio_wait_free(conn_t *c) {
    sio_session_t *s = sio_of(c);
    if (s && s->poll == c) s->poll = NULL;
    c->session = NULL;
}

static void sio_poll_close(conn_t *v, uint16_t code, const char *reason) {
    sio_session_t *s = sio_of(v);
    if (s) sio_poll_release(s, "1");
    conn_close(v);
}

/* The polling session ends with its connection: a probe still attached
 * loses its session too (it is closed), and its id is forgotten. */
static void sio_poll_free(conn_t *v) {
    sio_session_t *s = sio_of(v);
    if (s == NULL) return; /* upgraded: the session lives on the WebSocket */
    v->session = NULL;
    sio_poll_release(s, "1");
    if (s->probe) {
        conn_t *w = s->probe;
        ws_parser_free(&s->ws);
        w->session = NULL;
        conn_close(w);
    }
    sio_session_unlink(s);
    free(s);
}

/* GET without sid: the handshake. The session lives on a connection of
 * its own (conn_virtual_new), bound by the same limits as a browser's. */
static void sio_poll_open(conn_t *c, http_req_t *req) {
    if (subscribe_origin_refuse(c, req)) return;
    sio_session_t *s = sio_session_new(c->loop);
    conn_t *v = s ? conn_virtual_new(c, &sio_poll_proto) : NULL;
    if (v == NULL) {
        if (s) {
            sio_session_unlink(s);
            free(s);
        }
        sio_http_error(c, req, 503, 0, "too many connections");
        return;
    }
    s->conn = v;
    v->session = s;
    subscribe_rate_init(v);
    char open[256], cors[300];
    int n = sio_open_packet(c->loop, s, 1, open, sizeof(open));
    subscribe_cors_header(c->loop, req, cors, sizeof(cors));
    conn_respond(c, 200, "text/plain; charset=UTF-8", cors, open, (size_t)n,
                 http_req_keep_alive(req));
}

/* POST: the client's packets; GET: wait for the server's (parked until
 * there are some: a message, an answer, or the next ping). */
static void sio_poll(conn_t *c, http_req_t *req) {
    size_t sl;
    const char *sid = sio_param(req, "sid", &sl);
    int get = http_req_method(req) == HTTP_M_GET;
    if (sid == NULL) {
        if (get) sio_poll_open(c, req);
        else sio_http_error(c, req, 400, 1, "Session ID unknown");
        return;
    }
    sio_session_t *s = sio_find(c->loop->index, sid, sl);
    if (s == NULL || s->conn->proto != &sio_poll_proto || !sio_same_client(s->conn, c)) {
        sio_http_error(c, req, 400, 1, "Session ID unknown");
        return;
    }
    conn_t *v = s->conn;
    subscribe_cors_header(c->loop, req, s->cors, sizeof(s->cors));
    if (!get) {
        size_t blen, pos = 0, pn;
        const char *body = http_req_body(req, &blen), *pkt;
        char cors[300];
        memcpy(cors, s->cors, sizeof(cors));
        while (sio_payload_next(body, blen, &pos, &pkt, &pn) && conn_is_open(v) && v->session == s)
            sio_packet(v, pkt, pn);
        conn_respond(c, 200, "text/html", cors, "ok", 2, http_req_keep_alive(req));
        return;
    }
    if (s->probe) { /* upgrading: polls end at once so the client can send "5" */
        conn_respond(c, 200, "text/plain; charset=UTF-8", s->cors, "6", 1, http_req_keep_alive(req));
        return;
    }
    if (s->poll) { /* two GETs at once: the client is confused; end it */
        sio_http_error(c, req, 400, 3, "Bad request");
        sio_poll_close(v, 1000, "");
        return;
    }
    s->poll = c;
    c->session = s;
    conn_proto_set(c, &sio_wait_proto);
    sio_poll_flush(v);
}

/* socket.io-client's build, read once (a restart-only key) and served
 * from memory: the 2013 page loads it from the push server itself. */
static pthread_mutex_t sio_js_lock = PTHREAD_MUTEX_INITIALIZER;
static char *sio_js;
static size_t sio_js_len;

void socketio_client_js(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    const char *path = c->loop->cfg->socketio_client_js;
    if (path[0] == '\0') {
        conn_http_error(c, 404, NULL, "socket.io.js is not served: set socketio_client_js");
        return;
    }
    pthread_mutex_lock(&sio_js_lock);
    if (sio_js == NULL) {
        FILE *f = fopen(path, "rb");
        char *buf = f ? malloc(SIO_CLIENT_JS_MAX) : NULL;
        size_t len = buf ? fread(buf, 1, SIO_CLIENT_JS_MAX, f) : 0;
        if (buf && len > 0 && len < SIO_CLIENT_JS_MAX) {
            sio_js = buf;
            sio_js_len = len;
        } else {
            log_error("socketio_client_js %s: %s", path, f ? "empty or larger than 4 MiB" : strerror(errno));
            free(buf);
        }
        if (f) fclose(f);
    }
    pthread_mutex_unlock(&sio_js_lock);
    if (sio_js == NULL) {
        conn_http_error(c, 500, NULL, "socketio_client_js cannot be read (see heraldd's log)");
        return;
    }
    conn_respond(c, 200, "application/javascript; charset=utf-8",
                 "Cache-Control: public, max-age=300\r\nAccess-Control-Allow-Origin: *\r\n",
                 sio_js, sio_js_len, http_req_keep_alive(req));
}

void socketio_route(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    if (!sio_param_is(req, "EIO", "4")) {
        sio_http_error(c, req, 400, 5, "Unsupported protocol version");
        return;
    }
    /* With workers, the kernel spreads a client's connections over the
     * loops; a request for a session on another loop moves there. */
    size_t sl;
    const char *sid = sio_param(req, "sid", &sl);
    const char *at = sid && sl == SIO_SID_LEN ? memchr(sio_b64, sid[0], 64) : NULL;
    if (at && (unsigned)(at - sio_b64) != c->loop->index &&
        accept_handoff(c, req, (unsigned)(at - sio_b64)) == 0)
        return;
    if (subscribe_admit(c, req) != 0) return;
    if (sio_param_is(req, "transport", "websocket") && http_req_method(req) == HTTP_M_GET)
        sio_ws_start(c, req);
    else if (sio_param_is(req, "transport", "polling"))
        sio_poll(c, req);
    else
        sio_http_error(c, req, 400, 0, "Transport unknown");
}
