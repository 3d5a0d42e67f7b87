#include "emitredis.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An emit waiting for Redis. It outlives its connection if that closes
 * first (c is then NULL): the link always calls back. */
typedef struct emitredis_wait {
    conn_t *c;
    int kind;
    int keep_alive;
    char *held;           /* bytes read after the request, answered later */
    size_t nheld;
} emitredis_wait_t;

/* Every connection reads through conn.c's callbacks; they are taken from
 * the stream when reading stops and given back when it starts again. */
static uv_alloc_cb emitredis_alloc_cb;
static uv_read_cb emitredis_read_cb;

static emitredis_wait_t *emitredis_of(conn_t *c) { return c->session; }

/* Bytes after the held request (pipelining) wait with it; reading has
 * stopped, so they are at most one read's worth. */
static void emitredis_hold_feed(conn_t *c, char *data, size_t n) {
    emitredis_wait_t *w = emitredis_of(c);
    char *p = w ? realloc(w->held, w->nheld + n) : NULL;
    if (p == NULL) {
        conn_close(c);
        return;
    }
    memcpy(p + w->nheld, data, n);
    w->held = p;
    w->nheld += n;
}

/* Redis answers (or the link fails) within redis_timeout_ms. */
static void emitredis_hold_tick(conn_t *c, uint64_t now) {}

/* Shutdown: the answer still comes, and closes the connection after it. */
static void emitredis_hold_close(conn_t *c, uint16_t code, const char *reason) {}

static void emitredis_hold_free(conn_t *c) {
    emitredis_wait_t *w = emitredis_of(c);
    if (w) w->c = NULL;
    c->session = NULL;
}

static const conn_proto_t emitredis_hold_proto = {
    .kind = CONN_HTTP,
    .feed = emitredis_hold_feed,
    .tick = emitredis_hold_tick,
    .close = emitredis_hold_close,
    .free = emitredis_hold_free,
};

/* Repeats (a key Redis had seen, from any node) answer as on a single
 * node: the first id, "subscribers":0 and "repeated". */
static void emitredis_answer(emitredis_wait_t *w, int status, const uint64_t *ids,
                             const uint64_t *nodes, const unsigned char *repeated, size_t n) {
    conn_t *c = w->c;
    if (status != 0) {
        static const char why[] = "Redis is unavailable: nothing published (retry)\n";
        log_info("%s: emit 503: Redis unavailable", c->peer);
        conn_respond(c, 503, NULL, "Retry-After: 1\r\n", why, sizeof(why) - 1, w->keep_alive);
        return;
    }
    size_t nrep = 0;
    for (size_t i = 0; i < n; i++) nrep += repeated[i];
    c->loop->stats.messages_emitted += n - nrep;
    c->loop->stats.emits_repeated += nrep;
    if (w->kind == EMITREDIS_GET) {
        conn_respond(c, 200, "application/json", NULL, "\"OK\"", 4, w->keep_alive);
        return;
    }
    if (w->kind == EMITREDIS_PUSHER) { /* the Pusher HTTP API's answer */
        conn_respond(c, 200, "application/json", NULL, "{}", 2, w->keep_alive);
        return;
    }
    if (w->kind == EMITREDIS_SINGLE) {
        char out[96];
        int len = snprintf(out, sizeof(out), "{\"id\":%llu,\"subscribers\":%llu%s}",
                           (unsigned long long)ids[0], (unsigned long long)nodes[0],
                           repeated[0] ? ",\"repeated\":true" : "");
        conn_respond(c, 202, "application/json", NULL, out, (size_t)len, w->keep_alive);
        return;
    }
    size_t cap = n * 44 + 64, o = 0;
    char *out = malloc(cap);
    if (out == NULL) {
        conn_close(c);
        return;
    }
    o += (size_t)snprintf(out, cap, "{\"ids\":[");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%llu", i ? "," : "", (unsigned long long)ids[i]);
    o += (size_t)snprintf(out + o, cap - o, "],\"subscribers\":[");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%llu", i ? "," : "", (unsigned long long)nodes[i]);
    o += (size_t)snprintf(out + o, cap - o, "]");
    if (nrep) o += (size_t)snprintf(out + o, cap - o, ",\"repeated\":%zu", nrep);
    o += (size_t)snprintf(out + o, cap - o, "}");
    conn_respond(c, 202, "application/json", NULL, out, o, w->keep_alive);
    free(out);
}

/* The connection reads again and what was pipelined behind goes on (it
 * may be held in turn), after answer(w) has answered it. */
static void emitredis_release(emitredis_wait_t *w, void (*answer)(emitredis_wait_t *w, void *arg),
                              void *arg) {
    conn_t *c = w->c;
    if (c != NULL && c->state == CONN_CLOSING) { /* its free hook has not run yet */
        c->session = NULL;
    } else if (c != NULL) {
        c->session = NULL;
        conn_http_resume(c);
        if (conn_is_open(c) && emitredis_read_cb)
            uv_read_start(&c->h.stream, emitredis_alloc_cb, emitredis_read_cb);
        answer(w, arg);
        if (w->nheld && conn_is_open(c)) c->proto->feed(c, w->held, w->nheld);
    }
    free(w->held);
    free(w);
}

typedef struct emitredis_result {
    int status;
    const uint64_t *ids, *nodes;
    const unsigned char *repeated;
    size_t n;
} emitredis_result_t;

static void emitredis_answer_result(emitredis_wait_t *w, void *arg) {
    emitredis_result_t *r = arg;
    emitredis_answer(w, r->status, r->ids, r->nodes, r->repeated, r->n);
}

/* Redis answered: answer, read again, then go on. */
static void emitredis_on_published(void *arg, int status, const uint64_t *ids,
                                   const uint64_t *nodes, const unsigned char *repeated, size_t n) {
    emitredis_result_t r = {status, ids, nodes, repeated, n};
    emitredis_release(arg, emitredis_answer_result, &r);
}

/* Stop reading c until w is released. */
static void emitredis_hold_conn(conn_t *c, emitredis_wait_t *w) {
    if (c->h.stream.read_cb) {
        emitredis_alloc_cb = c->h.stream.alloc_cb;
        emitredis_read_cb = c->h.stream.read_cb;
        uv_read_stop(&c->h.stream);
    }
    c->session = w;
    conn_proto_set(c, &emitredis_hold_proto);
}

emitredis_wait_t *emitredis_hold(conn_t *c, http_req_t *req) {
    emitredis_wait_t *w = calloc(1, sizeof(*w));
    if (w == NULL) return NULL;
    w->c = c;
    w->keep_alive = http_req_keep_alive(req);
    emitredis_hold_conn(c, w);
    return w;
}

typedef struct emitredis_reply {
    int status;
    const char *type, *body;
    size_t len;
} emitredis_reply_t;

static void emitredis_answer_reply(emitredis_wait_t *w, void *arg) {
    emitredis_reply_t *r = arg;
    conn_respond(w->c, r->status, r->type, r->status == 503 ? "Retry-After: 1\r\n" : NULL, r->body,
                 r->len, w->keep_alive);
}

void emitredis_hold_answer(emitredis_wait_t *w, int status, const char *type, const char *body,
                           size_t len) {
    emitredis_reply_t r = {status, type, body, len};
    emitredis_release(w, emitredis_answer_reply, &r);
}

void emitredis_publish(conn_t *c, http_req_t *req, int kind, const redis_pub_t *msgs, size_t n,
                       const char *key, size_t klen) {
    redis_pub_t one;
    if (key && n == 1) { /* a single emit's key: Redis checks it, for every node */
        one = msgs[0];
        one.key = key;
        one.key_len = klen;
        msgs = &one;
    }
    emitredis_wait_t *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        conn_respond(c, 503, NULL, "Retry-After: 1\r\n", "out of memory\n", 14,
                     http_req_keep_alive(req));
        return;
    }
    w->c = c;
    w->kind = kind;
    w->keep_alive = http_req_keep_alive(req);
    int rc = redis_publish(c->loop->redis, msgs, n, emitredis_on_published, w);
    if (rc != 0) {
        c->loop->stats.redis_emit_failures++;
        emitredis_answer(w, rc, NULL, NULL, NULL, n);
        free(w);
        return;
    }
    emitredis_hold_conn(c, w);
}
