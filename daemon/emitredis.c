#include "emitredis.h"

#include "hub.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One answer of a connection's pipeline: an emit or query waiting for
 * Redis (b NULL until answered), or a response already built behind one.
 * It outlives its connection if that closes first (p is then NULL): the
 * link always calls back. */
typedef struct emitredis_wait {
    struct emitredis_pipe *p;
    struct emitredis_wait *next;
    int kind;
    int keep_alive;      /* the request's; then the response's */
    int done;
    buf_t *b;            /* the response, in request order after those before */
} emitredis_wait_t;

/* A connection's answers in request order (conn.h's conn_pending_t):
 * Redis Cluster answers from different masters in any order, so each
 * waits here until it and all before it are done. */
typedef struct emitredis_pipe {
    conn_pending_t base;
    conn_t *c;
    emitredis_wait_t *head, *tail;
    emitredis_wait_t *answering; /* conn_respond's response is this one's */
} emitredis_pipe_t;

static emitredis_pipe_t *emitredis_pipe_of(conn_t *c) { return (emitredis_pipe_t *)c->pending; }

static emitredis_wait_t *emitredis_wait_push(emitredis_pipe_t *p, int kind, int keep_alive) {
    emitredis_wait_t *w = calloc(1, sizeof(*w));
    if (w == NULL) return NULL;
    w->p = p;
    w->kind = kind;
    w->keep_alive = keep_alive;
    if (p->tail) p->tail->next = w;
    else p->head = w;
    p->tail = w;
    p->base.n++;
    p->c->loop->stats.emit_answers_awaited++;
    return w;
}

/* A response while answers are awaited goes behind them: the one being
 * answered, or a request answered at once (an error, a 503) after them. */
static int emitredis_pipe_defer(conn_t *c, buf_t *b, int keep_alive) {
    emitredis_pipe_t *p = emitredis_pipe_of(c);
    emitredis_wait_t *w = p->answering;
    if (w == NULL) {
        if (p->head == NULL) return 0;
        w = emitredis_wait_push(p, EMITREDIS_SINGLE, keep_alive);
        if (w == NULL) {
            conn_close(c);
            return 1;
        }
    }
    if (w->b) buf_unref(w->b); /* one response a request */
    w->b = buf_ref(b);
    w->keep_alive = keep_alive;
    w->done = 1;
    return 1;
}

/* The connection goes: what Redis still owes it is dropped when it comes. */
static void emitredis_pipe_release(conn_t *c) {
    emitredis_pipe_t *p = emitredis_pipe_of(c);
    c->loop->stats.emit_answers_awaited -= p->base.n;
    emitredis_wait_t *w = p->head, *next;
    for (; w; w = next) {
        next = w->next;
        if (w->b) buf_unref(w->b);
        w->b = NULL;
        w->p = NULL;
        w->next = NULL;
        if (w->done) free(w);
    }
    free(p);
    c->pending = NULL;
}

static const conn_pending_ops_t emitredis_pipe_ops = {
    .defer = emitredis_pipe_defer,
    .release = emitredis_pipe_release,
};

/* The pipeline of c, made when its first answer has to wait. */
static emitredis_pipe_t *emitredis_pipe_get(conn_t *c) {
    if (c->pending) return emitredis_pipe_of(c);
    emitredis_pipe_t *p = calloc(1, sizeof(*p));
    if (p == NULL) return NULL;
    p->base.ops = &emitredis_pipe_ops;
    p->c = c;
    c->pending = &p->base;
    return p;
}

/* Write every answer whose turn has come; an idle connection keeps no
 * pipeline; one that waited for room reads again. */
static void emitredis_pipe_flush(emitredis_pipe_t *p) {
    conn_t *c = p->c;
    int full = p->base.n >= CONN_PENDING_MAX;
    while (p->head && p->head->done) {
        emitredis_wait_t *w = p->head;
        p->head = w->next;
        if (p->head == NULL) p->tail = NULL;
        p->base.n--;
        c->loop->stats.emit_answers_awaited--;
        if (w->b) {
            conn_respond_buf(c, w->b, w->keep_alive);
            buf_unref(w->b);
        }
        free(w);
    }
    if (p->head == NULL) {
        free(p);
        c->pending = NULL;
    }
    if (full && (c->pending == NULL || c->pending->n < CONN_PENDING_MAX)) conn_pending_resume(c);
}

/* answer(w) responds with conn_respond, which puts the response in w;
 * then what is in order goes. */
static void emitredis_complete(emitredis_wait_t *w, void (*answer)(emitredis_wait_t *w, void *arg),
                               void *arg) {
    emitredis_pipe_t *p = w->p;
    if (p == NULL) { /* its connection closed */
        free(w);
        return;
    }
    p->answering = w;
    answer(w, arg);
    p->answering = NULL;
    w->done = 1; /* answered, or its connection is closing */
    emitredis_pipe_flush(p);
}

/* Repeats (a key Redis had seen, from any node) answer as on a single
 * node: the first id, "subscribers":0 and "repeated". */
static void emitredis_answer(conn_t *c, emitredis_wait_t *w, int status, const uint64_t *ids,
                             const uint64_t *nodes, const unsigned char *repeated, size_t n) {
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

typedef struct emitredis_result {
    int status;
    const uint64_t *ids, *nodes;
    const unsigned char *repeated;
    size_t n;
} emitredis_result_t;

static void emitredis_answer_result(emitredis_wait_t *w, void *arg) {
    emitredis_result_t *r = arg;
    emitredis_answer(w->p->c, w, r->status, r->ids, r->nodes, r->repeated, r->n);
}

/* Redis answered: answer in turn. */
static void emitredis_on_published(void *arg, int status, const uint64_t *ids,
                                   const uint64_t *nodes, const unsigned char *repeated, size_t n) {
    emitredis_result_t r = {status, ids, nodes, repeated, n};
    emitredis_complete(arg, emitredis_answer_result, &r);
}

/* An answer that waits for Redis, last in c's pipeline; a request that
 * closes the connection is the last read. NULL when out of memory. */
static emitredis_wait_t *emitredis_wait_new(conn_t *c, http_req_t *req, int kind) {
    emitredis_pipe_t *p = emitredis_pipe_get(c);
    emitredis_wait_t *w = p ? emitredis_wait_push(p, kind, http_req_keep_alive(req)) : NULL;
    if (w == NULL) {
        if (p && p->head == NULL) emitredis_pipe_flush(p); /* frees it */
        return NULL;
    }
    if (!w->keep_alive) {
        c->ending = 1;
        uv_read_stop(&c->h.stream);
    }
    return w;
}

emitredis_wait_t *emitredis_hold(conn_t *c, http_req_t *req) {
    return emitredis_wait_new(c, req, EMITREDIS_PUSHER);
}

typedef struct emitredis_reply {
    int status;
    const char *type, *body;
    size_t len;
} emitredis_reply_t;

static void emitredis_answer_reply(emitredis_wait_t *w, void *arg) {
    emitredis_reply_t *r = arg;
    conn_respond(w->p->c, r->status, r->type, r->status == 503 ? "Retry-After: 1\r\n" : NULL, r->body,
                 r->len, w->keep_alive);
}

void emitredis_hold_answer(emitredis_wait_t *w, int status, const char *type, const char *body,
                           size_t len) {
    emitredis_reply_t r = {status, type, body, len};
    emitredis_complete(w, emitredis_answer_reply, &r);
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
    int rc = HUB_ENOMEM;
    emitredis_wait_t *w = emitredis_wait_new(c, req, kind);
    if (w != NULL) rc = redis_publish(c->loop->redis, msgs, n, emitredis_on_published, w);
    if (rc == 0) return;
    if (w == NULL) { /* out of memory: answered in turn all the same */
        conn_respond(c, 503, NULL, "Retry-After: 1\r\n", "out of memory\n", 14,
                     http_req_keep_alive(req));
        return;
    }
    c->loop->stats.redis_emit_failures++;
    emitredis_result_t r = {rc, NULL, NULL, NULL, n};
    emitredis_complete(w, emitredis_answer_result, &r);
}
