#include "conn.h"

#include "fdlimit.h"
#include "admit.h"
#include "log.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONN_DRAIN_MS 2000   /* a closing client has this long to go away */
#define CONN_EMIT_ANSWERS_MAX 16384 /* answers queued before an emit connection is not read */

static void conn_on_close(uv_handle_t *h);
static void conn_flush(conn_t *c);
static void conn_resume(conn_t *c);
static void conn_http_feed(conn_t *c, char *data, size_t n);
static void conn_http_tick(conn_t *c, uint64_t now);
static void conn_http_close(conn_t *c, uint16_t code, const char *reason);

/* Every connection starts here: requests until a route upgrades it. */
static const conn_proto_t conn_http_proto = {
    .kind = CONN_HTTP,
    .feed = conn_http_feed,
    .tick = conn_http_tick,
    .close = conn_http_close,
};

static uv_stream_t *conn_stream(conn_t *c) { return &c->h.stream; }

/* The loop's one read buffer: libuv reads one stream at a time and every
 * read is processed before the next, so it can be shared by all. What an
 * unfinished request needs is copied out by its parser. */
static void conn_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out) {
    conn_t *c = h->data;
    out->base = (char *)c->loop->rbuf;
    out->len = LOOP_READ_BUF;
}

static void conn_unsubscribe_all(conn_t *c) {
    loop_t *loop = c->loop;
    hub_unsubscribe(loop->hub, loop->index, c->subs, c->nsubs);
    for (uint32_t i = 0; i < c->nsubs; i++) {
        sub_t *s = c->subs[i];
        channel_sub_remove(s->ch, s);
        channel_release(&loop->channels, s->ch);
        free(s);
        loop->stats.subscriptions--;
    }
    c->nsubs = 0;
    free(c->subs);
    c->subs = NULL;
    c->subs_cap = 0;
}

static void conn_kind_count(conn_t *c, int delta) {
    stats_t *st = &c->loop->stats;
    if (c->proto->kind == CONN_WS) st->ws_connections_open += (uint64_t)delta;
    if (c->proto->kind == CONN_SSE) st->sse_connections_open += (uint64_t)delta;
    if (c->proto->kind == CONN_SIO) st->socketio_clients_open += (uint64_t)delta;
}

void conn_proto_set(conn_t *c, const conn_proto_t *proto) {
    conn_kind_count(c, -1);
    c->proto = proto;
    conn_kind_count(c, 1);
}

/* Unregister everything a connection holds; the memory goes in on_close. */
void conn_close(conn_t *c) {
    if (c->state == CONN_CLOSING) return;
    c->state = CONN_CLOSING;
    loop_t *loop = c->loop;
    conn_unsubscribe_all(c);
    conn_broadcast_leave(c);
    if (c->listener == LISTEN_PUBLIC) loop->stats.public_connections_open--;
    else loop->stats.emit_connections_open--;
    conn_kind_count(c, -1);
    uv_close(&c->h.handle, conn_on_close);
}

static void conn_on_close(uv_handle_t *h) {
    conn_t *c = h->data;
    loop_t *loop = c->loop;
    if (c->dirty) { /* normally flushed before close callbacks run */
        conn_t **pp = c->listener == LISTEN_PUBLIC ? &loop->out.dirty : &loop->out.dirty_now;
        while (*pp && *pp != c) pp = &(*pp)->dirty_next;
        if (*pp) {
            *pp = c->dirty_next;
            if (c->listener == LISTEN_PUBLIC) loop->out.ndirty--;
        }
    }
    outq_free(&c->q);
    free(c->held);
    if (c->req) {
        http_req_free(c->req);
        free(c->req);
    }
    if (c->proto->free) c->proto->free(c);
    if (c->pending) c->pending->ops->release(c);
    if (c->ip_counted) hub_peer_decr(loop->hub, &c->ip_key);
    if (c->prev) c->prev->next = c->next;
    else loop->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    loop->nconns--;
    admit_release(loop, c->l);
    free(c);
    if (loop->state == LOOP_STOPPING && loop->nconns == 0) loop_shutdown(loop);
}

static void conn_on_shutdown(uv_shutdown_t *req, int status) { free(req); }

/* Once a draining connection's queue is written, send FIN and wait for the
 * peer to close (reading and discarding), so it sees the last bytes rather
 * than a reset; the sweep ends it if it does not. */
static void conn_drain_finish(conn_t *c) {
    if (c->state != CONN_DRAINING || c->q.len || c->nwriting) return;
    c->state = CONN_FIN_SENT;
    uv_shutdown_t *req = malloc(sizeof(*req));
    if (req == NULL || uv_shutdown(req, conn_stream(c), conn_on_shutdown) != 0) {
        free(req);
        conn_close(c);
    }
}

/* Stop reading, write what is queued, then close (conn_drain_finish). */
static void conn_drain(conn_t *c) {
    if (c->state != CONN_OPEN) return;
    c->state = CONN_DRAINING;
    c->drain_ms = uv_now(c->loop->uv);
    conn_unsubscribe_all(c);
    conn_broadcast_leave(c);
    conn_drain_finish(c);
}

/* A write request is needed only while a socket is full, so connections
 * borrow one from the loop's free list instead of each carrying 192 bytes. */
static uv_write_t *conn_wr_get(loop_t *loop) {
    uv_write_t *w = loop->out.wr_free;
    if (w) loop->out.wr_free = w->data;
    else w = malloc(sizeof(*w));
    return w;
}

static void conn_wr_put(loop_t *loop, uv_write_t *w) {
    w->data = loop->out.wr_free;
    loop->out.wr_free = w;
}

static void conn_on_write(uv_write_t *req, int status) {
    conn_t *c = req->data;
    c->wr = NULL;
    conn_wr_put(c->loop, req);
    for (uint8_t i = 0; i < c->nwriting; i++) outq_pop(&c->q);
    c->nwriting = 0;
    if (status < 0) {
        if (c->state != CONN_CLOSING) {
            log_debug("%s: write failed: %s", c->peer, uv_strerror(status));
            conn_close(c);
        }
        return;
    }
    if (c->state == CONN_CLOSING) return;
    conn_flush(c);
}

/* Coalesce: everything queued (up to CONN_IOV_MAX buffers) is tried with
 * one non-blocking writev; only what the socket did not take goes through
 * uv_write, whose callback continues with the rest. */
static void conn_flush(conn_t *c) {
    if (c->proto->flush) {
        c->proto->flush(c);
        return;
    }
    uv_buf_t iov[CONN_IOV_MAX];
    stats_t *st = &c->loop->stats;
    while (!c->nwriting && c->q.len && c->state != CONN_CLOSING) {
        size_t total;
        uint32_t n = outq_iov(&c->q, iov, CONN_IOV_MAX, &total);
        int w = uv_try_write(conn_stream(c), iov, n);
        st->socket_writes++;
        st->handover_writes += c->handed;
        if (w < 0 && w != UV_EAGAIN && w != UV_ENOSYS) {
            log_debug("%s: write failed: %s", c->peer, uv_strerror(w));
            conn_close(c);
            return;
        }
        size_t done = w > 0 ? (size_t)w : 0;
        st->bytes_written += done;
        outq_consume(&c->q, done);
        if (c->q.len == 0) break;
        if (w > 0 && (size_t)w == total) continue; /* more than one batch queued */
        /* the socket is full: uv_write takes the rest and calls back */
        size_t bytes;
        n = outq_iov(&c->q, iov, CONN_IOV_MAX, &bytes);
        c->wr = conn_wr_get(c->loop);
        if (c->wr == NULL) {
            conn_close(c);
            return;
        }
        c->wr->data = c;
        if (uv_write(c->wr, conn_stream(c), iov, n, conn_on_write) != 0) {
            conn_wr_put(c->loop, c->wr);
            c->wr = NULL;
            conn_close(c);
            return;
        }
        c->nwriting = (uint8_t)n;
        st->socket_writes++; /* libuv tries once at once, then on POLLOUT */
        st->handover_writes += c->handed;
        st->bytes_written += bytes;
    }
    if (c->q.len == 0) c->handed = 0;
    if (c->state == CONN_DRAINING && c->q.len == 0 && !c->nwriting) conn_drain_finish(c);
    if (c->held && c->state == CONN_OPEN && c->q.bytes < CONN_EMIT_ANSWERS_MAX / 2 &&
        !(c->pending && c->pending->n >= CONN_PENDING_MAX))
        conn_resume(c);
}

static void conn_dirty_mark(conn_t *c) {
    if (c->dirty) return;
    conn_t **list = c->listener == LISTEN_PUBLIC ? &c->loop->out.dirty : &c->loop->out.dirty_now;
    if (c->listener == LISTEN_PUBLIC) c->loop->out.ndirty++;
    c->dirty = 1;
    c->dirty_next = *list;
    *list = c;
}

/* The last bytes of a session (a close frame, a final event) go out even
 * past max_queue_bytes, after what is queued; then the connection drains. */
void conn_end(conn_t *c, const void *last, size_t n) {
    if (c->state != CONN_OPEN) return;
    if (n > 0) {
        buf_t *b = buf_from(last, n);
        if (b == NULL || outq_push(&c->q, b, 0) != 0) {
            buf_unref(b);
            conn_close(c);
            return;
        }
        buf_unref(b);
        conn_dirty_mark(c);
    }
    conn_drain(c);
}

/* A client that cannot keep up loses its backlog, not everyone's memory:
 * unsent messages are dropped, a 1013 close follows what is already on its
 * way, and it resumes from history when it comes back. */
static void conn_slow_consumer(conn_t *c) {
    loop_t *loop = c->loop;
    loop->stats.slow_consumer_disconnects++;
    log_warn("%s: slow consumer, %zu bytes queued (max_queue_bytes %llu): disconnecting",
             c->peer, c->q.bytes, (unsigned long long)loop->cfg->max_queue_bytes);
    uint32_t keep = c->nwriting;
    if (keep == 0 && c->q.len) keep = 1; /* the head may be half written */
    outq_truncate(&c->q, keep);
    c->proto->close(c, 1013, "slow consumer");
    conn_flush(c);
}

int conn_send(conn_t *c, buf_t *b, size_t off) {
    if (c->state != CONN_OPEN) return -1;
    size_t n = b->len - off;
    loop_t *loop = c->loop;
    /* The limit is on what waits behind the frame being written, so one
     * large message reaches a reader that keeps up; emit answers are bound
     * by backpressure instead (conn_http_feed). */
    size_t waiting = c->q.len ? c->q.bytes - outq_head_bytes(&c->q) + n : 0;
    if (c->listener == LISTEN_PUBLIC && waiting > loop->cfg->max_queue_bytes) {
        conn_slow_consumer(c);
        return -1;
    }
    if (outq_push(&c->q, b, off) != 0) {
        conn_close(c);
        return -1;
    }
    /* Corking is for many small frames; holding big ones would only bring
     * a client nearer max_queue_bytes. */
    if (c->q.bytes >= CONN_CORK_BYTES || c->q.bytes * 4 >= loop->cfg->max_queue_bytes)
        loop->out.hold.brk = 1;
    conn_dirty_mark(c);
    return 0;
}

void conn_flush_list(conn_t **list) {
    while (*list) {
        conn_t *c = *list;
        *list = c->dirty_next;
        if (list == &c->loop->out.dirty) c->loop->out.ndirty--;
        c->dirty = 0;
        c->dirty_next = NULL;
        conn_flush(c);
    }
}

int conn_send_copy(conn_t *c, const void *p, size_t n) {
    buf_t *b = buf_from(p, n);
    if (b == NULL) {
        conn_close(c);
        return -1;
    }
    int rc = conn_send(c, b, 0);
    buf_unref(b);
    return rc;
}

void conn_respond(conn_t *c, int status, const char *ctype, const char *extra,
                  const void *body, size_t len, int keep_alive) {
    if (status >= 400) c->loop->stats.http_errors++;
    if (c->loop->state != LOOP_RUNNING) keep_alive = 0;
    buf_t *b = http_response(status, ctype, extra, body, len, keep_alive, c->head);
    if (b == NULL) {
        conn_close(c);
        return;
    }
    if (c->pending && c->pending->ops->defer(c, b, keep_alive)) {
        if (!keep_alive) { /* the last answer: nothing after it is read */
            c->ending = 1;
            uv_read_stop(conn_stream(c));
        }
        buf_unref(b);
        return;
    }
    conn_respond_buf(c, b, keep_alive);
    buf_unref(b);
}

void conn_respond_buf(conn_t *c, buf_t *b, int keep_alive) {
    conn_send(c, b, 0);
    if (!keep_alive) conn_drain(c);
}

void conn_http_error(conn_t *c, int status, const char *extra, const char *reason) {
    char body[256];
    int n = snprintf(body, sizeof(body), "%s\n", reason);
    if (n < 0 || (size_t)n >= sizeof(body)) n = (int)sizeof(body) - 1;
    log_info("%s: HTTP %d: %s", c->peer, status, reason);
    conn_respond(c, status, NULL, extra, body, (size_t)n, 0);
}

int conn_is_subscribed(const conn_t *c, const channel_t *ch) {
    for (uint32_t i = 0; i < c->nsubs; i++)
        if (c->subs[i]->ch == ch) return 1;
    return 0;
}

int conn_subscribe(conn_t *c, channel_t *ch) {
    loop_t *loop = c->loop;
    if (c->nsubs >= loop->cfg->max_subscriptions) return -1;
    /* Grown on demand: most clients hold one or two subscriptions, and a
     * reload may raise max_subscriptions under open connections. */
    if (c->nsubs == c->subs_cap) {
        uint32_t cap = c->subs_cap ? c->subs_cap * 2 : 2;
        sub_t **subs = realloc(c->subs, cap * sizeof(*subs));
        if (subs == NULL) return -1;
        c->subs = subs;
        c->subs_cap = cap;
    }
    sub_t *s = calloc(1, sizeof(*s));
    if (s == NULL) return -1;
    s->conn = c;
    channel_sub_add(ch, s);
    c->subs[c->nsubs++] = s;
    loop->stats.subscriptions++;
    return 0;
}

int conn_unsubscribe(conn_t *c, channel_t *ch) {
    for (uint32_t i = 0; i < c->nsubs; i++) {
        sub_t *s = c->subs[i];
        if (s->ch != ch) continue;
        hub_unsubscribe(c->loop->hub, c->loop->index, &s, 1);
        channel_sub_remove(ch, s);
        channel_release(&c->loop->channels, ch);
        free(s);
        c->subs[i] = c->subs[--c->nsubs];
        c->loop->stats.subscriptions--;
        return 0;
    }
    return -1;
}

void conn_subscribe_undo(conn_t *c, channel_t *ch) {
    sub_t *s = c->subs[c->nsubs - 1];
    assert(s->ch == ch);
    channel_sub_remove(ch, s);
    channel_release(&c->loop->channels, ch);
    free(s);
    c->nsubs--;
    c->loop->stats.subscriptions--;
}

int conn_deliver(conn_t *c, channel_t *ch, message_t *m) {
    loop_t *loop = c->loop;
    loop->stats.frames_delivered++;
    if (loop->out.handing) { /* frames per write for hand-overs (stats.h) */
        loop->stats.handover_frames++;
        c->handed = 1;
    }
    return c->proto->deliver(c, ch, m);
}

/* The per-subscription last id makes a delivery idempotent: a message a
 * resume already replayed (or one queued before the subscription began)
 * is skipped with one compare. */
size_t conn_deliver_local(loop_t *loop, const char *name, size_t len, message_t *m) {
    channel_t *ch = channel_find(&loop->channels, name, len);
    size_t n = 0;
    sub_t *next;
    if (ch && ch->subs) {
        loop_published(loop, uv_hrtime());
        ch->busy++;
        for (sub_t *s = ch->subs; s; s = next) {
            next = s->next; /* a slow consumer leaves the list while we walk */
            if (s->last_id >= m->id) continue;
            s->last_id = m->id;
            if (conn_deliver(s->conn, ch, m) == 0) n++;
        }
        ch->busy--;
        channel_release(&loop->channels, ch); /* slow consumers may all have gone */
    }
    /* io.sockets.emit(channel, message): every socket.io client, no resume */
    if (loop->bcast && channel_is_public(loop->cfg->socketio_channels, name, len)) {
        loop_published(loop, uv_hrtime());
        for (sub_t *s = loop->bcast; s; s = next) {
            next = s->next;
            if (conn_deliver(s->conn, NULL, m) == 0) n++;
        }
    }
    /* the other protocols' encodings are built once per loop, when it has such clients */
    buf_unref(m->sse);
    buf_unref(m->sio);
    buf_unref(m->pusher);
    m->sse = m->sio = m->pusher = NULL;
    return n;
}

int conn_broadcast_join(conn_t *c) {
    loop_t *loop = c->loop;
    if (c->bcast) return 0;
    sub_t *s = calloc(1, sizeof(*s));
    if (s == NULL) return -1;
    s->conn = c;
    s->next = loop->bcast;
    if (loop->bcast) loop->bcast->prev = s;
    loop->bcast = s;
    c->bcast = s;
    hub_broadcast_member(loop->hub, loop->index, 1);
    return 0;
}

void conn_broadcast_leave(conn_t *c) {
    sub_t *s = c->bcast;
    if (s == NULL) return;
    loop_t *loop = c->loop;
    if (s->prev) s->prev->next = s->next;
    else loop->bcast = s->next;
    if (s->next) s->next->prev = s->prev;
    free(s);
    c->bcast = NULL;
    hub_broadcast_member(loop->hub, loop->index, -1);
}

/* Backpressure on emit connections: while answers are queued past
 * CONN_EMIT_ANSWERS_MAX the socket is not read, and what the last read
 * brought beyond the answered requests waits here (one read buffer at
 * most) until conn_flush has written enough (conn_resume). A client that
 * pipelines faster than it reads is slowed down, never dropped, so every
 * request it sent is answered. 0, or -1 when c was closed. */
static int conn_hold(conn_t *c, const char *data, size_t n) {
    c->held = malloc(n);
    if (c->held == NULL) {
        conn_close(c);
        return -1;
    }
    memcpy(c->held, data, n);
    c->held_len = (uint32_t)n;
    c->last_rx_ms = uv_now(c->loop->uv); /* the idle clock starts now */
    uv_read_stop(conn_stream(c));
    return 0;
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

static void conn_resume(conn_t *c) {
    if (c->held == NULL) return;
    char *held = c->held;
    size_t n = c->held_len;
    c->held = NULL;
    c->held_len = 0;
    if (c->req) c->req_ms = uv_now(c->loop->uv); /* its clock stopped while held */
    c->proto->feed(c, held, n);
    free(held);
    if (c->held == NULL && conn_is_open(c) && !c->ending)
        uv_read_start(conn_stream(c), conn_on_alloc, conn_on_read);
}

void conn_pending_resume(conn_t *c) {
    if (c->state == CONN_OPEN && c->q.bytes < CONN_EMIT_ANSWERS_MAX) conn_resume(c);
}

/* The interim answer goes behind the answers still awaited (emitredis.c),
 * not before them, where the client would take it for an earlier one's. */
static void conn_http_continue(conn_t *c) {
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (c->pending == NULL) {
        conn_send_copy(c, cont, sizeof(cont) - 1);
        return;
    }
    buf_t *b = buf_from(cont, sizeof(cont) - 1);
    if (b == NULL) {
        conn_close(c);
        return;
    }
    if (!c->pending->ops->defer(c, b, 1)) conn_send(c, b, 0);
    buf_unref(b);
}

/* Requests are parsed straight from the shared read buffer; pipelined ones
 * are answered in order, and bytes after an upgrade go to the protocol
 * that took the connection over. */
static void conn_http_feed(conn_t *c, char *data, size_t n) {
    loop_t *loop = c->loop;
    while (n > 0 && c->state == CONN_OPEN && !c->ending && c->proto == &conn_http_proto) {
        if ((c->listener != LISTEN_PUBLIC && c->q.bytes >= CONN_EMIT_ANSWERS_MAX) ||
            (c->pending && c->pending->n >= CONN_PENDING_MAX)) {
            conn_hold(c, data, n);
            return;
        }
        if (c->req == NULL) {
            c->req = malloc(sizeof(*c->req));
            if (c->req == NULL) {
                conn_close(c);
                return;
            }
            http_req_init(c->req, c->listener == LISTEN_PUBLIC ? &loop->public_limits
                                                               : &loop->emit_limits);
            if (c->listener != LISTEN_PUBLIC) c->req_ms = uv_now(loop->uv);
        }
        size_t used;
        int rc = http_req_feed(c->req, data, n, &used);
        if (rc == HTTP_REQ_AGAIN && http_req_wants_continue(c->req)) {
            c->req->expect_continue = 0; /* RFC 9110 10.1.1: the client waits for it */
            conn_http_continue(c);
        }
        if (rc == HTTP_REQ_AGAIN) return;
        if (rc == HTTP_REQ_ERROR) {
            conn_http_error(c, c->req->status, NULL, c->req->reason);
            return;
        }
        data += used;
        n -= used;
        http_req_t *req = c->req;
        c->req = NULL;
        c->served = 1;
        c->l->on_request(c, req);
        c->req_ms = uv_now(loop->uv); /* a kept-alive connection's next request gets its own time */
        http_req_free(req);
        free(req);
    }
    if (n > 0 && c->state == CONN_OPEN && !c->ending && c->proto != &conn_http_proto)
        c->proto->feed(c, data, n);
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
    conn_t *c = s->data;
    if (nread == 0) return;
    if (nread < 0) {
        if (nread != UV_EOF) log_debug("%s: read: %s", c->peer, uv_strerror((int)nread));
        conn_close(c);
        return;
    }
    c->last_rx_ms = uv_now(c->loop->uv);
    c->ping_out = 0;
    if (c->state != CONN_OPEN) return; /* waiting for the peer to close: discard */
    if (c->proto->feed) c->proto->feed(c, b->base, (size_t)nread);
}

void conn_http_resume(conn_t *c) {
    conn_proto_set(c, &conn_http_proto);
    c->req_ms = uv_now(c->loop->uv);
}

/* A new connection joins its loop: HTTP first, linked and counted. */
void conn_open(conn_t *c, loop_t *loop, listener_t *l, int public) {
    c->loop = loop;
    c->l = l;
    c->proto = &conn_http_proto;
    c->listener = (uint8_t)l->kind;
    c->next = loop->conns;
    if (loop->conns) loop->conns->prev = c;
    loop->conns = c;
    loop->nconns++;
    if (public) {
        loop->stats.public_connections_accepted++;
        loop->stats.public_connections_open++;
    } else {
        loop->stats.emit_connections_accepted++;
        loop->stats.emit_connections_open++;
    }
    c->last_rx_ms = c->hb_ms = c->req_ms = uv_now(loop->uv);
}

void conn_read_start(conn_t *c) { uv_read_start(&c->h.stream, conn_on_alloc, conn_on_read); }

/* Slowloris: a public connection is only a doorway to a protocol, so it
 * gets handshake_timeout_ms from accept to be upgraded (or answered and
 * closed); an emit connection may idle between requests (the extension
 * keeps one open per worker) but not dawdle inside one, and not idle past
 * emit_idle_timeout_ms: then it is closed without an answer, since a 408
 * could cross a request the client sends at that moment. Until its first
 * request it is held to request_timeout_ms too (whichever ends first),
 * and while it is not read (backpressure) only to emit_idle_timeout_ms. */
static void conn_http_tick(conn_t *c, uint64_t now) {
    loop_t *loop = c->loop;
    int pub = c->listener == LISTEN_PUBLIC;
    uint64_t idle = loop->cfg->emit_idle_timeout_ms;
    int idle_over = idle && now - c->last_rx_ms >= idle;
    if (!pub && (c->held || (c->req == NULL && (c->served || idle_over)))) {
        if (idle_over) {
            loop->stats.emit_idle_closed++;
            log_debug("%s: emit connection idle for %llu ms: closing", c->peer,
                      (unsigned long long)idle);
            conn_close(c);
        }
        return;
    }
    uint64_t limit = pub ? loop->cfg->handshake_timeout_ms : loop->cfg->request_timeout_ms;
    if (now - c->req_ms < limit) return;
    loop->stats.request_timeouts++;
    log_info("%s: no complete request within %llu ms: closing", c->peer,
             (unsigned long long)limit);
    conn_http_error(c, 408, NULL, pub ? "request not completed in time (handshake_timeout_ms)"
                                      : "request not completed in time (request_timeout_ms)");
}

/* Shutdown: an answer on its way is finished, an idle one just closed. */
static void conn_http_close(conn_t *c, uint16_t code, const char *reason) {
    if (c->pending) return; /* the awaited answers come, and the first closes it */
    if (c->q.len || c->nwriting) conn_drain(c);
    else conn_close(c);
}

/* One timer for all connections instead of one per connection. */
void conn_sweep(loop_t *loop, uint64_t now) {
    conn_t *next;
    for (conn_t *c = loop->conns; c; c = next) {
        next = c->next;
        if (c->state == CONN_CLOSING) continue;
        if (!c->nwriting) outq_trim(&c->q); /* idle: hold no queue */
        if (c->state != CONN_OPEN) {
            if (now - c->drain_ms >= CONN_DRAIN_MS) conn_close(c);
            continue;
        }
        c->proto->tick(c, now);
    }
}

/* Shutdown, first call: every protocol says goodbye its own way (1001 to
 * WebSocket clients); with now set, whatever is left is closed. */
void conn_close_all(loop_t *loop, int now) {
    conn_t *next;
    for (conn_t *c = loop->conns; c; c = next) {
        next = c->next;
        if (now) conn_close(c);
        else if (c->state == CONN_OPEN) c->proto->close(c, 1001, "server shutting down");
    }
}
