#include "sse.h"

#include "log.h"
#include "subscribe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sse_chan {
    char name[HERALD_SIGNED_MAX + 24];
    size_t len;
    const char *plain;
    size_t plain_len;
    int has_since;
    uint64_t since;
} sse_chan_t;

static int sse_digits(const char *s, size_t n, uint64_t *out) {
    uint64_t v = 0;
    if (n == 0 || n > 19) return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* One "channel" query value "NAME[,SINCE]" after decoding: split it.
 * 0 or -1 (empty name or SINCE not a decimal id). */
static int sse_param_split(const char *v, size_t len, size_t *name_len, int *has_since,
                    uint64_t *since) {
    const char *comma = memchr(v, ',', len);
    *has_since = 0;
    *name_len = comma ? (size_t)(comma - v) : len;
    if (*name_len == 0) return -1;
    if (comma) {
        if (sse_digits(comma + 1, len - *name_len - 1, since) != 0) return -1;
        *has_since = 1;
    }
    return 0;
}

static int sse_answer(conn_t *c, const char *json, size_t n);
static int sse_deliver(conn_t *c, channel_t *ch, message_t *m);
static void sse_tick(conn_t *c, uint64_t now);
static void sse_close(conn_t *c, uint16_t code, const char *reason);

/* A stream only listens: there is nothing to feed. */
static const conn_proto_t sse_proto = {
    .kind = CONN_SSE,
    .deliver = sse_deliver,
    .answer = sse_answer,
    .tick = sse_tick,
    .close = sse_close,
};

/* The event is built once per loop, at its first SSE subscriber. */
static int sse_deliver(conn_t *c, channel_t *ch, message_t *m) {
    buf_t *b = channel_message_sse(m, ch);
    if (b == NULL) return -1;
    return conn_send(c, b, 0);
}

static int sse_answer(conn_t *c, const char *json, size_t n) {
    char ev[600];
    int m = snprintf(ev, sizeof(ev), "data: %.*s\n\n", (int)n, json);
    if (m < 0 || (size_t)m >= sizeof(ev)) return -1;
    return conn_send_copy(c, ev, (size_t)m);
}

/* Proxies drop streams that stay silent; a comment keeps them open. */
static void sse_tick(conn_t *c, uint64_t now) {
    if (now - c->hb_ms < c->loop->cfg->sse_heartbeat_ms) return;
    c->hb_ms = now;
    conn_send_copy(c, ": hb\n\n", 6);
}

/* The stream ends with what is queued; EventSource reconnects by itself. */
static void sse_close(conn_t *c, uint16_t code, const char *reason) { conn_end(c, NULL, 0); }

/* Last-Event-ID is "<channel>:<id>"; the channel may itself hold ':'. */
static void sse_last_event_id(sse_chan_t *chans, size_t n, const char *h, size_t hl) {
    const char *colon = NULL;
    for (size_t i = hl; i > 0; i--)
        if (h[i - 1] == ':') { colon = h + i - 1; break; }
    uint64_t id;
    if (colon == NULL || sse_digits(colon + 1, hl - (size_t)(colon - h) - 1, &id) != 0) return;
    size_t cl = (size_t)(colon - h);
    for (size_t i = 0; i < n; i++) {
        if (chans[i].plain_len == cl && memcmp(chans[i].plain, h, cl) == 0) {
            chans[i].has_since = 1;
            chans[i].since = id;
        }
    }
}

static void sse_refuse(conn_t *c, int status, const char *cors, const char *reason) {
    conn_http_error(c, status, cors, reason);
}

/* New channels are paid for before the 200, so a refusal is a status:
 * 429 (rate_limited) or 503 (max_channels), with Retry-After. 0 or -1
 * (answered). */
static int sse_reserve(conn_t *c, const sse_chan_t *chans, size_t n, const char *cors) {
    const char **names = malloc(n * sizeof(*names));
    size_t *lens = malloc(n * sizeof(*lens));
    int status = 503, rc = -1;
    const char *reason = "out of memory";
    if (names && lens) {
        for (size_t i = 0; i < n; i++) {
            names[i] = chans[i].plain;
            lens[i] = chans[i].plain_len;
        }
        rc = subscribe_reserve(c, names, lens, n, &status, &reason);
    }
    free(names);
    free(lens);
    if (rc != 0) {
        char extra[600];
        snprintf(extra, sizeof(extra), "%sRetry-After: 1\r\n", cors);
        sse_refuse(c, status, extra, reason);
    }
    return rc;
}

void sse_start(conn_t *c, http_req_t *req, const char *rest, size_t rest_len) {
    loop_t *loop = c->loop;
    size_t ulen, plen, qlen;
    const char *url = http_req_url(req, &ulen), *path, *q;
    if (subscribe_admit(c, req) != 0 || subscribe_origin_refuse(c, req)) return;
    char cors[512];
    subscribe_cors_header(loop, req, cors, sizeof(cors));
    http_url_split(url, ulen, &path, &plen, &q, &qlen);
    size_t max = loop->cfg->max_subscriptions, n = 0;
    sse_chan_t *chans = calloc(max, sizeof(*chans));
    if (chans == NULL) {
        conn_close(c);
        return;
    }
    const char *p = q, *end = q ? q + qlen : NULL;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        if ((size_t)(e - p) > 8 && memcmp(p, "channel=", 8) == 0) {
            const char *v = p + 8;
            size_t vl = (size_t)(e - v);
            if (n == max) { sse_refuse(c, 400, cors, "too many channels"); goto out; }
            sse_chan_t *ch = &chans[n];
            long dl = vl < sizeof(ch->name) ? http_url_decode(v, vl, ch->name, 1) : -1;
            size_t name_len;
            if (dl <= 0 || sse_param_split(ch->name, (size_t)dl, &name_len, &ch->has_since, &ch->since) != 0) {
                sse_refuse(c, 400, cors, "bad channel parameter: NAME or NAME,SINCE");
                goto out;
            }
            ch->len = name_len;
            n++;
        } else if ((size_t)(e - p) == 8 && memcmp(p, "channel=", 8) == 0) {
            sse_refuse(c, 400, cors, "empty channel parameter");
            goto out;
        }
        p = amp ? amp + 1 : end;
    }
    if (n == 0) {
        sse_refuse(c, 400, cors, "no channel: GET /sse?channel=NAME[,SINCE]");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *code, *reason;
        if (subscribe_authorize(loop, chans[i].name, chans[i].len, &chans[i].plain,
                                   &chans[i].plain_len, &code, &reason) != 0) {
            char why[256];
            snprintf(why, sizeof(why), "%s: %s", code, reason);
            sse_refuse(c, strcmp(code, "invalid_channel") == 0 ? 400 : 403, cors, why);
            goto out;
        }
    }
    size_t hl;
    const char *leid = http_req_header(req, HTTP_H_LAST_EVENT_ID, &hl);
    if (leid) sse_last_event_id(chans, n, leid, hl);
    if (sse_reserve(c, chans, n, cors) != 0) goto out;

    char head[1024];
    int m = snprintf(head, sizeof(head),
                     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n%s"
                     "Connection: close\r\n\r\n", cors);
    conn_proto_set(c, &sse_proto);
    c->hb_ms = uv_now(loop->uv);
    if (conn_send_copy(c, head, (size_t)m) != 0) goto out;
    for (size_t i = 0; i < n && conn_is_open(c); i++) {
        const char *code, *reason;
        if (subscribe_resume(c, chans[i].plain, chans[i].plain_len, chans[i].has_since,
                                  chans[i].since, NULL, &code, &reason) != 0) {
            log_info("%s: SSE %s: %s", c->peer, code, reason);
        }
    }
out:
    free(chans);
}
