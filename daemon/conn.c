#include "conn.h"

#include "command.h"
#include "emit.h"
#include "fdlimit.h"
#include "log.h"
#include "sse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONN_DRAIN_MS 2000   /* a closing client has this long to go away */

static void conn_on_close(uv_handle_t *h);
static void conn_flush(conn_t *c);
static void conn_ws_feed(conn_t *c, unsigned char *data, size_t n);

static uv_stream_t *conn_stream(conn_t *c) { return &c->h.stream; }

/* The loop's one read buffer: libuv reads one stream at a time and every
 * read is processed before the next, so it can be shared by all. What an
 * unfinished request needs is copied out by its parser. */
static void conn_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out) {
    conn_t *c = h->data;
    out->base = (char *)c->srv->rbuf;
    out->len = SERVER_READ_BUF;
}

static void conn_unsubscribe_all(conn_t *c) {
    server_t *srv = c->srv;
    hub_unsubscribe(srv, c->subs, c->nsubs);
    for (uint32_t i = 0; i < c->nsubs; i++) {
        sub_t *s = c->subs[i];
        channel_t *ch = s->ch;
        channel_sub_remove(ch, s, c->kind == CONN_SSE);
        free(s);
        srv->stats.subscriptions--;
    }
    c->nsubs = 0;
    free(c->subs);
    c->subs = NULL;
    c->subs_cap = 0;
}

static void conn_q_pop(conn_t *c) {
    conn_out_t *e = &c->q[c->qhead];
    c->qbytes -= e->buf->len - e->off;
    buf_unref(e->buf);
    c->qhead = (c->qhead + 1) % c->qcap;
    c->qlen--;
}

/* Unregister everything a connection holds; the memory goes in on_close. */
void conn_close(conn_t *c) {
    if (c->closing) return;
    c->closing = 1;
    server_t *srv = c->srv;
    conn_unsubscribe_all(c);
    if (c->listener == LISTEN_PUBLIC) srv->stats.public_connections_open--;
    else srv->stats.emit_connections_open--;
    if (c->kind == CONN_WS) srv->stats.ws_connections_open--;
    if (c->kind == CONN_SSE) srv->stats.sse_connections_open--;
    uv_close(&c->h.handle, conn_on_close);
}

static void conn_on_close(uv_handle_t *h) {
    conn_t *c = h->data;
    server_t *srv = c->srv;
    if (c->dirty) { /* normally flushed before close callbacks run */
        conn_t **pp = c->listener == LISTEN_PUBLIC ? &srv->dirty : &srv->dirty_now;
        while (*pp && *pp != c) pp = &(*pp)->dirty_next;
        if (*pp) *pp = c->dirty_next;
    }
    while (c->qlen) conn_q_pop(c);
    free(c->q);
    if (c->req) {
        http_req_free(c->req);
        free(c->req);
    }
    if (c->ws) {
        ws_parser_free(c->ws);
        free(c->ws);
    }
    if (c->ip_counted) hub_peer_decr(srv->hub, &c->ip);
    if (c->prev) c->prev->next = c->next;
    else srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    srv->nconns--;
    atomic_fetch_sub(&srv->hub->nconns, 1);
    if (c->listener == LISTEN_PUBLIC) atomic_fetch_sub(&srv->hub->npublic, 1);
    free(c);
    if (srv->shutting_down && srv->nconns == 0) server_shutdown(srv);
}

static void conn_on_shutdown(uv_shutdown_t *req, int status) { free(req); }

/* Once a draining connection's queue is written, send FIN and wait for the
 * peer to close (reading and discarding), so it sees the last bytes rather
 * than a reset; the sweep ends it if it does not. */
static void conn_drain_finish(conn_t *c) {
    if (c->closing || c->qlen || c->nwriting || c->draining != 1) return;
    c->draining = 2;
    uv_shutdown_t *req = malloc(sizeof(*req));
    if (req == NULL || uv_shutdown(req, conn_stream(c), conn_on_shutdown) != 0) {
        free(req);
        conn_close(c);
    }
}

void conn_drain(conn_t *c) {
    if (c->closing || c->draining) return;
    c->draining = 1;
    c->drain_ms = uv_now(c->srv->loop);
    conn_unsubscribe_all(c);
    conn_drain_finish(c);
}

/* A write request is needed only while a socket is full, so connections
 * borrow one from the loop's free list instead of each carrying 192 bytes. */
static uv_write_t *conn_wr_get(server_t *srv) {
    uv_write_t *w = srv->wr_free;
    if (w) srv->wr_free = w->data;
    else w = malloc(sizeof(*w));
    return w;
}

static void conn_wr_put(server_t *srv, uv_write_t *w) {
    w->data = srv->wr_free;
    srv->wr_free = w;
}

static void conn_on_write(uv_write_t *req, int status) {
    conn_t *c = req->data;
    c->wr = NULL;
    conn_wr_put(c->srv, req);
    for (uint8_t i = 0; i < c->nwriting; i++) conn_q_pop(c);
    c->nwriting = 0;
    if (status < 0) {
        if (!c->closing) {
            log_debug("%s: write failed: %s", c->peer, uv_strerror(status));
            conn_close(c);
        }
        return;
    }
    if (c->closing) return;
    conn_flush(c);
}

/* Coalesce: everything queued (up to CONN_IOV_MAX buffers) is tried with
 * one non-blocking writev; only what the socket did not take goes through
 * uv_write, whose callback continues with the rest. */
static void conn_flush(conn_t *c) {
    uv_buf_t iov[CONN_IOV_MAX];
    while (!c->nwriting && c->qlen && !c->closing) {
        uint32_t n = c->qlen < CONN_IOV_MAX ? c->qlen : CONN_IOV_MAX;
        for (uint32_t i = 0; i < n; i++) {
            conn_out_t *e = &c->q[(c->qhead + i) % c->qcap];
            iov[i] = uv_buf_init((char *)e->buf->data + e->off, (unsigned)(e->buf->len - e->off));
        }
        int w = uv_try_write(conn_stream(c), iov, n);
        c->srv->stats.socket_writes++;
        if (w < 0 && w != UV_EAGAIN && w != UV_ENOSYS) {
            log_debug("%s: write failed: %s", c->peer, uv_strerror(w));
            conn_close(c);
            return;
        }
        size_t total = 0;
        for (uint32_t i = 0; i < n; i++) total += iov[i].len;
        size_t done = w > 0 ? (size_t)w : 0;
        c->srv->stats.bytes_written += done;
        while (done > 0) {
            conn_out_t *e = &c->q[c->qhead];
            size_t left = e->buf->len - e->off;
            if (done < left) {
                e->off += (uint32_t)done;
                c->qbytes -= done;
                break;
            }
            done -= left;
            conn_q_pop(c);
        }
        if (c->qlen == 0) break;
        if (w > 0 && (size_t)w == total) continue; /* more than one batch queued */
        /* the socket is full: uv_write takes the rest and calls back */
        n = c->qlen < CONN_IOV_MAX ? c->qlen : CONN_IOV_MAX;
        size_t bytes = 0;
        for (uint32_t i = 0; i < n; i++) {
            conn_out_t *e = &c->q[(c->qhead + i) % c->qcap];
            iov[i] = uv_buf_init((char *)e->buf->data + e->off, (unsigned)(e->buf->len - e->off));
            bytes += e->buf->len - e->off;
        }
        c->wr = conn_wr_get(c->srv);
        if (c->wr == NULL) {
            conn_close(c);
            return;
        }
        c->wr->data = c;
        if (uv_write(c->wr, conn_stream(c), iov, n, conn_on_write) != 0) {
            conn_wr_put(c->srv, c->wr);
            c->wr = NULL;
            conn_close(c);
            return;
        }
        c->nwriting = (uint8_t)n;
        c->srv->stats.socket_writes++; /* libuv tries once at once, then on POLLOUT */
        c->srv->stats.bytes_written += bytes;
    }
    if (c->draining && c->qlen == 0 && !c->nwriting) conn_drain_finish(c);
}

/* The ring grows by doubling and is kept: it is sized by the burst a
 * client has seen, not allocated per message. */
static int conn_q_push(conn_t *c, buf_t *b, size_t off) {
    if (c->qlen == c->qcap) {
        uint32_t cap = c->qcap ? c->qcap * 2 : 8;
        conn_out_t *q = malloc(cap * sizeof(*q));
        if (q == NULL) return -1;
        for (uint32_t i = 0; i < c->qlen; i++) q[i] = c->q[(c->qhead + i) % c->qcap];
        free(c->q);
        c->q = q;
        c->qcap = cap;
        c->qhead = 0;
    }
    conn_out_t *e = &c->q[(c->qhead + c->qlen) % c->qcap];
    e->buf = buf_ref(b);
    e->off = (uint32_t)off;
    c->qlen++;
    c->qbytes += b->len - off;
    return 0;
}

/* A client that cannot keep up loses its backlog, not everyone's memory:
 * unsent messages are dropped, a 1013 close follows what is already on its
 * way, and it resumes from history when it comes back. */
static void conn_slow_consumer(conn_t *c) {
    server_t *srv = c->srv;
    srv->stats.slow_consumer_disconnects++;
    log_warn("%s: slow consumer, %zu bytes queued (max_queue_bytes %llu): disconnecting",
             c->peer, c->qbytes, (unsigned long long)srv->cfg->max_queue_bytes);
    uint32_t keep = c->nwriting;
    if (keep == 0 && c->qlen) keep = 1; /* the head may be half written */
    while (c->qlen > keep) {
        uint32_t last = (c->qhead + c->qlen - 1) % c->qcap;
        c->qbytes -= c->q[last].buf->len - c->q[last].off;
        buf_unref(c->q[last].buf);
        c->qlen--;
    }
    if (c->kind == CONN_WS) {
        unsigned char f[WS_FRAME_HEADER_MAX + WS_CONTROL_MAX];
        size_t n = ws_close_frame(f, WS_CLOSE_TRY_AGAIN, "slow consumer");
        buf_t *b = buf_from(f, n);
        if (b) {
            conn_q_push(c, b, 0);
            buf_unref(b);
        }
    }
    conn_flush(c);
    conn_drain(c);
}

int conn_send(conn_t *c, buf_t *b, size_t off) {
    if (c->closing || c->draining) return -1;
    size_t n = b->len - off;
    if (c->qbytes + n > c->srv->cfg->max_queue_bytes) {
        conn_slow_consumer(c);
        return -1;
    }
    if (conn_q_push(c, b, off) != 0) {
        conn_close(c);
        return -1;
    }
    /* Corking is for many small frames; holding big ones would only bring
     * a client nearer max_queue_bytes. */
    if (c->qbytes >= CONN_CORK_BYTES || c->qbytes * 4 >= c->srv->cfg->max_queue_bytes)
        c->srv->cork_break = 1;
    if (!c->dirty) {
        conn_t **list = c->listener == LISTEN_PUBLIC ? &c->srv->dirty : &c->srv->dirty_now;
        c->dirty = 1;
        c->dirty_next = *list;
        *list = c;
    }
    return 0;
}

static void conn_flush_list(conn_t **list) {
    while (*list) {
        conn_t *c = *list;
        *list = c->dirty_next;
        c->dirty = 0;
        c->dirty_next = NULL;
        conn_flush(c);
    }
}

static void conn_on_cork(uv_timer_t *t) {
    server_t *srv = t->data;
    srv->cork_ns = 1; /* long ago: the next flush writes everything */
    conn_flush_dirty(srv);
}

/* Runs in the loop's check phase, after all reads of this iteration were
 * handled. Answers go out at once. Subscribers' frames too, unless emits
 * are streaming in (this one came within CONN_CORK_NS of the end of the
 * previous delivering turn): then they are held for at most CONN_CORK_NS
 * (a timer ends the cork if no emit follows), so the frames of a burst
 * leave in one writev per client instead of one syscall per frame, which
 * is what a frame costs here (bench/RESULTS.md). A message that comes
 * alone is never held. */
void conn_flush_dirty(server_t *srv) {
    conn_flush_list(&srv->dirty_now);
    uint64_t now = uv_hrtime();
    int published = srv->publish_ns > srv->check_ns;
    int hot = published && srv->publish_ns - srv->delivered_ns < CONN_CORK_NS;
    srv->check_ns = now;
    if (published) srv->delivered_ns = now;
    if (srv->dirty == NULL) return;
    if (!srv->shutting_down && !srv->cork_break &&
        (srv->cork_ns ? now - srv->cork_ns < CONN_CORK_NS : hot)) {
        if (srv->cork_ns == 0) {
            srv->cork_ns = now;
            uv_timer_start(&srv->cork, conn_on_cork, CONN_CORK_NS / 1000000 + 1, 0);
        }
        return;
    }
    if (srv->cork_ns) {
        srv->cork_ns = 0;
        uv_timer_stop(&srv->cork);
    }
    srv->cork_break = 0;
    conn_flush_list(&srv->dirty);
    srv->delivered_ns = uv_hrtime();
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

int conn_send_text(conn_t *c, const char *p, size_t n) {
    buf_t *b = buf_new(WS_FRAME_HEADER_MAX + n);
    if (b == NULL) {
        conn_close(c);
        return -1;
    }
    size_t h = ws_frame_header_write(b->data, WS_OP_TEXT, n);
    memcpy(b->data + h, p, n);
    b->len = h + n;
    int rc = conn_send(c, b, 0);
    buf_unref(b);
    return rc;
}

void conn_respond(conn_t *c, int status, const char *ctype, const char *extra,
                  const void *body, size_t len, int keep_alive) {
    if (status >= 400) c->srv->stats.http_errors++;
    if (c->srv->shutting_down) keep_alive = 0;
    buf_t *b = http_response(status, ctype, extra, body, len, keep_alive);
    if (b == NULL) {
        conn_close(c);
        return;
    }
    conn_send(c, b, 0);
    buf_unref(b);
    if (!keep_alive) conn_drain(c);
}

void conn_http_error(conn_t *c, int status, const char *extra, const char *reason) {
    char body[256];
    int n = snprintf(body, sizeof(body), "%s\n", reason);
    if (n < 0 || (size_t)n >= sizeof(body)) n = (int)sizeof(body) - 1;
    log_info("%s: HTTP %d: %s", c->peer, status, reason);
    conn_respond(c, status, NULL, extra, body, (size_t)n, 0);
}

void conn_ws_close(conn_t *c, uint16_t code, const char *reason) {
    if (c->closing || c->draining) return;
    unsigned char f[WS_FRAME_HEADER_MAX + WS_CONTROL_MAX];
    size_t n = ws_close_frame(f, code, reason);
    conn_send_copy(c, f, n);
    conn_drain(c);
}

int conn_is_subscribed(const conn_t *c, const channel_t *ch) {
    for (uint32_t i = 0; i < c->nsubs; i++)
        if (c->subs[i]->ch == ch) return 1;
    return 0;
}

int conn_subscribe(conn_t *c, channel_t *ch) {
    server_t *srv = c->srv;
    if (c->nsubs >= srv->cfg->max_subscriptions) return -1;
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
    channel_sub_add(ch, s, c->kind == CONN_SSE);
    c->subs[c->nsubs++] = s;
    srv->stats.subscriptions++;
    return 0;
}

int conn_unsubscribe(conn_t *c, channel_t *ch) {
    for (uint32_t i = 0; i < c->nsubs; i++) {
        sub_t *s = c->subs[i];
        if (s->ch != ch) continue;
        hub_unsubscribe(c->srv, &s, 1);
        channel_sub_remove(ch, s, c->kind == CONN_SSE);
        free(s);
        c->subs[i] = c->subs[--c->nsubs];
        c->srv->stats.subscriptions--;
        return 0;
    }
    return -1;
}

int conn_deliver(conn_t *c, channel_t *ch, message_t *m) {
    c->srv->stats.frames_delivered++;
    if (c->kind == CONN_SSE) {
        buf_t *b = channel_message_sse(m, ch);
        if (b == NULL) return -1;
        return conn_send(c, b, 0);
    }
    return conn_send(c, m->ws, m->ws_off);
}

int conn_channel_authorize(server_t *srv, const char *name, size_t len,
                           const char **plain, size_t *plain_len,
                           const char **code, const char **reason) {
    if (memchr(name, '~', len) == NULL) {
        if (herald_channel_check(name, len) != 0) {
            *code = "invalid_channel";
            *reason = "channel names are 1-200 bytes of A-Z a-z 0-9 _ - . : @";
            return -1;
        }
        if (!channel_is_public(srv->cfg->public_channels, name, len)) {
            *code = "forbidden";
            *reason = "this channel needs a signed name";
            return -1;
        }
        *plain = name;
        *plain_len = len;
        return 0;
    }
    herald_signed_t out;
    int rc = srv->nsecrets == 0 ? HERALD_SIGNED_EKID
             : herald_verify(srv->secrets, srv->nsecrets, name, len,
                             server_wall_ms() / 1000, &out);
    if (rc == 0) {
        *plain = out.channel;
        *plain_len = out.channel_len;
        return 0;
    }
    *code = rc == HERALD_SIGNED_EEXPIRED ? "expired"
            : rc == HERALD_SIGNED_ECHANNEL ? "invalid_channel" : "forbidden";
    *reason = srv->nsecrets == 0 ? "no secret is configured for signed names"
                                 : herald_signed_strerror(rc);
    return -1;
}

/* The answer, the replay from history and the first live message are
 * ordered by the hub's lock: hub_subscribe reads history and the last id
 * in one critical section, and the subscription then takes only ids after
 * it (sub->last_id), so an emit on another loop racing this resume gives
 * neither a gap nor a duplicate. */
int conn_subscribe_resume(conn_t *c, const char *plain, size_t plain_len,
                          int has_since, uint64_t since, const void *cmd,
                          const char **code, const char **reason) {
    server_t *srv = c->srv;
    uint64_t now = server_wall_ms();
    channel_t *ch = channel_get(&srv->channels, plain, plain_len, now, 0);
    if (ch == NULL) {
        *code = "bad_request";
        *reason = "out of memory";
        return -1;
    }
    int already = conn_is_subscribed(c, ch);
    if (!already && conn_subscribe(c, ch) != 0) {
        *code = "too_many_subscriptions";
        *reason = "too many subscriptions on this connection";
        return -1;
    }
    uint64_t last;
    message_t *replay;
    size_t nreplay;
    int ok = hub_subscribe(srv, plain, plain_len, !already, has_since && !already, since,
                           &last, &replay, &nreplay);
    if (ok < 0) {
        if (!already) conn_unsubscribe(c, ch);
        *code = "bad_request";
        *reason = "out of memory";
        return -1;
    }
    if (!already) c->subs[c->nsubs - 1]->last_id = last;
    const char *resume = has_since ? (ok ? "ok" : "gap") : NULL;
    char ans[512];
    int n = command_subscribed_format(ans, sizeof(ans), cmd, plain, plain_len, last, resume);
    int sent = n >= 0;
    if (sent && c->kind == CONN_SSE) {
        char ev[600];
        int m = snprintf(ev, sizeof(ev), "data: %s\n\n", ans);
        sent = conn_send_copy(c, ev, (size_t)m) == 0;
    } else if (sent) {
        sent = conn_send_text(c, ans, (size_t)n) == 0;
    }
    ch->busy++;
    for (size_t i = 0; i < nreplay; i++) {
        if (sent && !c->closing && !c->draining) conn_deliver(c, ch, &replay[i]);
        buf_unref(replay[i].ws);
        buf_unref(replay[i].sse);
    }
    ch->busy--;
    free(replay);
    return 0;
}

static void conn_ws_answer_error(conn_t *c, const command_t *cmd, const char *code,
                                 const char *reason) {
    char out[512];
    c->srv->stats.ws_bad_commands++;
    log_debug("%s: command refused: %s (%s)", c->peer, code, reason);
    int n = command_error_format(out, sizeof(out), cmd, code, reason);
    if (n > 0) conn_send_text(c, out, (size_t)n);
}

/* A token bucket per connection (commands and pings; cmd NULL for a ping):
 * a browser sends a handful of commands (a
 * reconnecting page resubscribes everything at once, hence the burst of
 * rate + max_subscriptions), a script hammering subscribe gets rate_limited
 * answers, and one that keeps going is closed (1008). 1 if refused. */
static uint64_t conn_cmd_burst(const config_t *cfg) {
    return (cfg->max_commands_per_second + cfg->max_subscriptions) * 1000;
}

static int conn_ws_rate_limited(conn_t *c, const command_t *cmd) {
    uint64_t rate = c->srv->cfg->max_commands_per_second, full = conn_cmd_burst(c->srv->cfg);
    uint64_t now = uv_now(c->srv->loop);
    uint64_t t = c->cmd_tokens + (now - c->cmd_ms) * rate;
    c->cmd_tokens = (uint32_t)(t > full ? full : t);
    c->cmd_ms = now;
    if (c->cmd_tokens >= 1000) {
        c->cmd_tokens -= 1000;
        c->cmd_refused = 0;
        return 0;
    }
    c->srv->stats.commands_rate_limited++;
    if (++c->cmd_refused > 2 * rate) {
        log_info("%s: commands past twice max_commands_per_second: closing", c->peer);
        conn_ws_close(c, WS_CLOSE_POLICY, "command rate exceeded");
        return 1;
    }
    if (cmd) conn_ws_answer_error(c, cmd, "rate_limited", "too many commands: slow down (max_commands_per_second)");
    return 1;
}

/* README "Protocol": one answer per command; errors keep the connection. */
static void conn_ws_command(conn_t *c, const unsigned char *data, size_t len) {
    command_t cmd;
    const char *code, *reason;
    char out[512];
    int n;
    int bad = command_parse((const char *)data, len, &cmd, &code, &reason) != 0;
    if (conn_ws_rate_limited(c, &cmd)) return;
    if (bad) {
        conn_ws_answer_error(c, &cmd, code, reason);
        return;
    }
    switch (cmd.type) {
    case CMD_PING:
        n = command_pong_format(out, sizeof(out), &cmd);
        if (n > 0) conn_send_text(c, out, (size_t)n);
        return;
    case CMD_SUBSCRIBE: {
        const char *plain;
        size_t plain_len;
        if (conn_channel_authorize(c->srv, cmd.channel, cmd.channel_len, &plain,
                                   &plain_len, &code, &reason) != 0 ||
            conn_subscribe_resume(c, plain, plain_len, cmd.has_since, cmd.since, &cmd,
                                  &code, &reason) != 0) {
            conn_ws_answer_error(c, &cmd, code, reason);
        }
        return;
    }
    case CMD_UNSUBSCRIBE: {
        const char *tilde = memchr(cmd.channel, '~', cmd.channel_len);
        size_t plen = tilde ? (size_t)(tilde - cmd.channel) : cmd.channel_len;
        if (herald_channel_check(cmd.channel, plen) != 0) {
            conn_ws_answer_error(c, &cmd, "invalid_channel", "invalid channel name");
            return;
        }
        channel_t *ch = channel_find(&c->srv->channels, cmd.channel, plen);
        if (ch == NULL || conn_unsubscribe(c, ch) != 0) {
            conn_ws_answer_error(c, &cmd, "not_subscribed", "not subscribed to this channel");
            return;
        }
        n = command_unsubscribed_format(out, sizeof(out), &cmd, cmd.channel, plen);
        if (n > 0) conn_send_text(c, out, (size_t)n);
        return;
    }
    }
}

static int conn_ws_on_message(void *ctx, int opcode, const unsigned char *data, size_t len) {
    conn_t *c = ctx;
    if (c->closing || c->draining) return 1;
    switch (opcode) {
    case WS_OP_TEXT:
        conn_ws_command(c, data, len);
        break;
    case WS_OP_BINARY:
        c->srv->stats.ws_close_1003++;
        log_info("%s: binary message from a browser: closing 1003", c->peer);
        conn_ws_close(c, WS_CLOSE_UNSUPPORTED, "binary messages are not accepted");
        break;
    case WS_OP_PING: {
        /* Browsers never send pings; a flood of them draws on the same
         * bucket as commands (unanswered when over, closed if it goes on). */
        if (conn_ws_rate_limited(c, NULL)) break;
        unsigned char f[WS_FRAME_HEADER_MAX + WS_CONTROL_MAX];
        size_t h = ws_frame_header_write(f, WS_OP_PONG, len);
        memcpy(f + h, data, len);
        conn_send_copy(c, f, h + len);
        break;
    }
    case WS_OP_PONG:
        break;
    case WS_OP_CLOSE: {
        /* RFC 6455 5.5.1: answer a close with a close, echoing its code. */
        uint16_t code = len >= 2 ? (uint16_t)((data[0] << 8) | data[1]) : WS_CLOSE_NORMAL;
        conn_ws_close(c, code, "");
        break;
    }
    }
    return c->closing || c->draining ? 1 : 0;
}

static void conn_ws_feed(conn_t *c, unsigned char *data, size_t n) {
    int rc = ws_parser_feed(c->ws, data, n, conn_ws_on_message, c);
    if (rc < 0 && !c->closing && !c->draining) {
        uint16_t code = c->ws->close_code ? c->ws->close_code : WS_CLOSE_PROTOCOL;
        stats_ws_close_count(&c->srv->stats, code);
        const char *why = rc == WS_EUTF8 ? "invalid UTF-8" : rc == WS_ETOOBIG ? "message too big"
                          : rc == WS_ENOMEM ? "out of memory" : "protocol error";
        log_info("%s: WebSocket %s: closing %u", c->peer, why, code);
        conn_ws_close(c, code, why);
    }
}

void conn_ws_upgrade(conn_t *c, http_req_t *req) {
    server_t *srv = c->srv;
    ws_upgrade_t u;
    memset(&u, 0, sizeof(u));
    u.key = http_req_header(req, HTTP_H_WS_KEY, &u.key_len);
    u.version = http_req_header(req, HTTP_H_WS_VERSION, &u.version_len);
    u.upgrade = http_req_header(req, HTTP_H_UPGRADE, &u.upgrade_len);
    u.connection = http_req_header(req, HTTP_H_CONNECTION, &u.connection_len);
    int rc = ws_upgrade_check(&u);
    if (rc == WS_EVERSION) {
        conn_http_error(c, 426, "Sec-WebSocket-Version: 13\r\n", "WebSocket version 13 is required");
        return;
    }
    if (rc != 0) {
        conn_http_error(c, 400, NULL, rc == WS_EBADKEY ? "missing or invalid Sec-WebSocket-Key"
                                                       : "not a WebSocket upgrade request");
        return;
    }
    if (conn_origin_refuse(c, req)) return;
    char accept[WS_ACCEPT_LEN + 1];
    if (ws_accept_key(u.key, u.key_len, accept) != 0) {
        conn_http_error(c, 400, NULL, "invalid Sec-WebSocket-Key");
        return;
    }
    c->ws = malloc(sizeof(*c->ws));
    if (c->ws == NULL) {
        conn_close(c);
        return;
    }
    ws_parser_init(c->ws, srv->cfg->max_client_message_bytes);
    c->cmd_tokens = (uint32_t)conn_cmd_burst(srv->cfg);
    c->cmd_ms = uv_now(srv->loop);
    char resp[256];
    int n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
    c->kind = CONN_WS;
    srv->stats.ws_connections_open++;
    c->last_rx_ms = uv_now(srv->loop);
    conn_send_copy(c, resp, (size_t)n);
}

/* Requests are parsed straight from the shared read buffer; pipelined ones
 * are answered in order, and bytes after an upgrade go to the WebSocket. */
static void conn_http_feed(conn_t *c, char *data, size_t n) {
    server_t *srv = c->srv;
    while (n > 0 && !c->closing && !c->draining && c->kind == CONN_HTTP) {
        if (c->req == NULL) {
            c->req = malloc(sizeof(*c->req));
            if (c->req == NULL) {
                conn_close(c);
                return;
            }
            http_req_init(c->req, c->listener == LISTEN_PUBLIC ? &srv->public_limits
                                                               : &srv->emit_limits);
            if (c->listener != LISTEN_PUBLIC) c->req_ms = uv_now(srv->loop);
        }
        size_t used;
        int rc = http_req_feed(c->req, data, n, &used);
        if (rc == HTTP_REQ_AGAIN) return;
        if (rc == HTTP_REQ_ERROR) {
            conn_http_error(c, c->req->status, NULL, c->req->reason);
            return;
        }
        data += used;
        n -= used;
        http_req_t *req = c->req;
        c->req = NULL;
        if (c->listener == LISTEN_PUBLIC) server_public_route(c, req);
        else emit_route(c, req);
        http_req_free(req);
        free(req);
    }
    if (n > 0 && c->kind == CONN_WS && !c->closing && !c->draining)
        conn_ws_feed(c, (unsigned char *)data, n);
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
    conn_t *c = s->data;
    if (nread == 0) return;
    if (nread < 0) {
        if (nread != UV_EOF) log_debug("%s: read: %s", c->peer, uv_strerror((int)nread));
        conn_close(c);
        return;
    }
    c->last_rx_ms = uv_now(c->srv->loop);
    c->ping_out = 0;
    if (c->draining) return; /* waiting for the peer to close: discard */
    switch (c->kind) {
    case CONN_HTTP: conn_http_feed(c, b->base, (size_t)nread); break;
    case CONN_WS: conn_ws_feed(c, (unsigned char *)b->base, (size_t)nread); break;
    default: break; /* SSE clients have nothing to say */
    }
}

/* A page on another site must not read streams (cross-site hijacking), on
 * /ws and /sse alike; requests without Origin are not from a browser page.
 * 1 when c was answered 403. */
int conn_origin_refuse(conn_t *c, http_req_t *req) {
    size_t olen;
    const char *origin = http_req_header(req, HTTP_H_ORIGIN, &olen);
    if (origin == NULL || server_origin_allowed(c->srv, origin, olen)) return 0;
    c->srv->stats.origin_refused++;
    log_info("%s: origin %.*s not allowed", c->peer, (int)(olen > 200 ? 200 : olen), origin);
    conn_http_error(c, 403, NULL, "origin not allowed (allowed_origins)");
    return 1;
}

/* max_connections_per_ip: count c under address a; 0, or -1 when a holds
 * too many already (then c is answered 503 and closes). */
int conn_admit(conn_t *c, const peer_addr_t *a) {
    server_t *srv = c->srv;
    if (c->ip_counted) hub_peer_decr(srv->hub, &c->ip);
    c->ip = *a;
    uint32_t n = hub_peer_incr(srv->hub, a);
    c->ip_counted = n > 0;
    if (srv->cfg->max_connections_per_ip == 0 || n <= srv->cfg->max_connections_per_ip) return 0;
    srv->stats.per_ip_refused++;
    log_info("%s: over max_connections_per_ip (%llu)", c->peer,
             (unsigned long long)srv->cfg->max_connections_per_ip);
    conn_http_error(c, 503, "Retry-After: 10\r\n",
                    "too many connections from your address (max_connections_per_ip)");
    return -1;
}

/* Behind a trusted proxy the client is named by X-Forwarded-For or
 * Forwarded; it is counted then, at the /ws or /sse request (a proxy's
 * own connections are not counted at accept: they carry many clients). */
int conn_admit_forwarded(conn_t *c, http_req_t *req) {
    server_t *srv = c->srv;
    if (c->listener != LISTEN_PUBLIC || c->ip.family == 0 ||
        !peer_cidr_contains(srv->trusted, srv->ntrusted, &c->ip))
        return 0;
    size_t xl, fl;
    const char *xff = http_req_header(req, HTTP_H_X_FORWARDED_FOR, &xl);
    const char *fwd = http_req_header(req, HTTP_H_FORWARDED, &fl);
    peer_addr_t client;
    if (peer_forwarded_client(xff, xff ? xl : 0, fwd, fwd ? fl : 0, srv->trusted,
                              srv->ntrusted, &client) != 0)
        return conn_admit(c, &c->ip); /* no client named: the proxy is the client */
    char ip[INET6_ADDRSTRLEN];
    if (inet_ntop(client.family == 4 ? AF_INET : AF_INET6, client.bytes, ip, sizeof(ip)))
        snprintf(c->peer, sizeof(c->peer), "%.46s (via proxy)", ip);
    return conn_admit(c, &client);
}

static void conn_peer_name(conn_t *c, int is_unix) {
    if (is_unix) {
        snprintf(c->peer, sizeof(c->peer), "unix");
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char ip[48] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    snprintf(c->peer, sizeof(c->peer), "%s:%d", ip, port);
    if (peer_addr_parse(ip, strlen(ip), &c->ip) != 0) c->ip.family = 0;
}

static void conn_on_refused_close(uv_handle_t *h) { free(h); }

/* Admission by count, before any work is spent on a connection. Slots are
 * claimed before they are checked, so loops accepting at the same moment
 * cannot together pass a limit. Every connection takes a descriptor; a
 * public one is refused while a few are still free (so the refusal never
 * fails) and a share stays for emit connections, so a flood of browsers
 * can lock out neither the PHP side nor /stats. 0, or -1: refused. */
static int conn_admit_count(server_t *srv, int public) {
    hub_t *hub = srv->hub;
    size_t room = atomic_load(&hub->fd_room);
    size_t keep = room / 4 < FDLIMIT_EMIT_KEEP ? room / 4 : FDLIMIT_EMIT_KEEP;
    size_t total = atomic_fetch_add(&hub->nconns, 1);
    size_t npublic = public ? atomic_fetch_add(&hub->npublic, 1) : 0;
    int over_fd = total >= (public ? room - keep : room);
    int over_max = public && npublic >= srv->cfg->max_connections;
    if (!over_fd && !over_max && !srv->shutting_down) return 0;
    atomic_fetch_sub(&hub->nconns, 1);
    if (public) atomic_fetch_sub(&hub->npublic, 1);
    if (srv->shutting_down) return -1;
    if (over_max) {
        srv->stats.connections_refused++;
        if (server_log_throttle(srv))
            log_warn("connection refused: max_connections (%llu) reached",
                     (unsigned long long)srv->cfg->max_connections);
    } else {
        srv->stats.fd_limit_refused++;
        if (server_log_throttle(srv))
            log_error("connection refused: the open-file limit (%llu) leaves room for %zu "
                      "connections; raise it (ulimit -n, systemd LimitNOFILE=) or lower "
                      "max_connections", (unsigned long long)fdlimit_current(), room);
    }
    return -1;
}

void conn_accept(listener_t *l) {
    server_t *srv = l->srv;
    int is_unix = l->unix_path[0] != '\0';
    conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL) return;
    if (is_unix) uv_pipe_init(srv->loop, &c->h.pipe, 0);
    else uv_tcp_init(srv->loop, &c->h.tcp);
    c->h.handle.data = c;
    c->srv = srv;
    if (uv_accept(&l->h.stream, &c->h.stream) != 0) {
        uv_close(&c->h.handle, conn_on_refused_close);
        return;
    }
    int public = l->kind == LISTEN_PUBLIC;
    if (conn_admit_count(srv, public) != 0) {
        uv_close(&c->h.handle, conn_on_refused_close);
        return;
    }
    c->listener = (uint8_t)l->kind;
    conn_peer_name(c, is_unix);
    if (!is_unix) uv_tcp_nodelay(&c->h.tcp, 1);
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    if (l->kind == LISTEN_PUBLIC) {
        srv->stats.public_connections_accepted++;
        srv->stats.public_connections_open++;
    } else {
        srv->stats.emit_connections_accepted++;
        srv->stats.emit_connections_open++;
    }
    c->last_rx_ms = c->hb_ms = c->req_ms = uv_now(srv->loop);
    uv_read_start(&c->h.stream, conn_on_alloc, conn_on_read);
    if (l->kind == LISTEN_PUBLIC && c->ip.family &&
        !peer_cidr_contains(srv->trusted, srv->ntrusted, &c->ip))
        conn_admit(c, &c->ip);
}

/* Slowloris: a public connection is only a doorway to /ws or /sse, so it
 * gets handshake_timeout_ms from accept to be upgraded (or answered and
 * closed); an emit connection may idle between requests (the extension
 * keeps one open per worker) but not dawdle inside one, and not idle past
 * emit_idle_timeout_ms: then it is closed without an answer, since a 408
 * could cross a request the client sends at that moment. */
static void conn_sweep_http(conn_t *c, uint64_t now) {
    server_t *srv = c->srv;
    int pub = c->listener == LISTEN_PUBLIC;
    if (!pub && c->req == NULL) {
        uint64_t idle = srv->cfg->emit_idle_timeout_ms;
        if (idle && now - c->last_rx_ms >= idle && !c->draining) {
            srv->stats.emit_idle_closed++;
            log_debug("%s: emit connection idle for %llu ms: closing", c->peer,
                      (unsigned long long)idle);
            conn_close(c);
        }
        return;
    }
    uint64_t limit = pub ? srv->cfg->handshake_timeout_ms : srv->cfg->request_timeout_ms;
    if (now - c->req_ms < limit) return;
    srv->stats.request_timeouts++;
    log_info("%s: no complete request within %llu ms: closing", c->peer,
             (unsigned long long)limit);
    conn_http_error(c, 408, NULL, pub ? "request not completed in time (handshake_timeout_ms)"
                                      : "request not completed in time (request_timeout_ms)");
}

/* One timer for all connections instead of one per connection. */
void conn_sweep(server_t *srv, uint64_t now) {
    const config_t *cfg = srv->cfg;
    conn_t *next;
    for (conn_t *c = srv->conns; c; c = next) {
        next = c->next;
        if (c->closing) continue;
        if (c->q && c->qlen == 0 && !c->nwriting) { /* idle: hold no queue */
            free(c->q);
            c->q = NULL;
            c->qcap = c->qhead = 0;
        }
        if (c->draining) {
            if (now - c->drain_ms >= CONN_DRAIN_MS) conn_close(c);
            continue;
        }
        if (c->kind == CONN_WS) {
            if (c->ping_out && now - c->ping_ms >= cfg->pong_timeout_ms) {
                srv->stats.ping_timeouts++;
                log_info("%s: no pong within %llu ms: dropping", c->peer,
                         (unsigned long long)cfg->pong_timeout_ms);
                conn_close(c);
            } else if (!c->ping_out && now - c->last_rx_ms >= cfg->ping_interval_ms) {
                unsigned char f[2] = {0x80 | WS_OP_PING, 0};
                c->ping_out = 1;
                c->ping_ms = now;
                conn_send_copy(c, f, 2);
            }
        } else if (c->kind == CONN_HTTP) {
            conn_sweep_http(c, now);
        } else if (c->kind == CONN_SSE) {
            if (now - c->hb_ms >= cfg->sse_heartbeat_ms) {
                c->hb_ms = now;
                conn_send_copy(c, ": hb\n\n", 6);
            }
        }
    }
}
