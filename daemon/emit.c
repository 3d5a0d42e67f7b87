#include "emit.h"

#include "batch.h"
#include "conn.h"
#include "digest.h"
#include "emitredis.h"
#include "route.h"
#include "log.h"
#include "metrics.h"
#include "pusherapi.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EMIT_BAD_NAME "invalid channel name (1-200 bytes of A-Z a-z 0-9 _ - . : @)"

static int emit_publish(conn_t *c, http_req_t *req, const char *channel, size_t len,
                        const char *data, size_t dlen, const char *key, size_t klen,
                        uint64_t *id, size_t *subs, int *repeat);
static int emit_frame_refuse(conn_t *c, http_req_t *req, const char *data, size_t len,
                             const char *record);
static int emit_publish_quiet(conn_t *c, const char *channel, size_t len, const char *data,
                              size_t dlen, const char *key, size_t klen, uint64_t *id,
                              size_t *subs, int *repeat);

/* Bad input on a request that parsed completely keeps the connection: a
 * PHP worker's kept-alive socket survives its own mistakes. */
static void emit_error(conn_t *c, http_req_t *req, int status, const char *extra,
                       const char *reason) {
    char body[256];
    int n = snprintf(body, sizeof(body), "%s\n", reason);
    if (n < 0 || (size_t)n >= sizeof(body)) n = (int)sizeof(body) - 1;
    log_info("%s: emit %d: %s", c->peer, status, reason);
    conn_respond(c, status, NULL, extra, body, (size_t)n, http_req_keep_alive(req));
}

/* Compare digests, so neither the content nor the length of the token
 * leaks through timing. The token's own digest was taken when it was
 * loaded (secrets.c): one SHA-256 per request. */
static int emit_authorized(const secrets_t *s, http_req_t *req) {
    if (s->emit_token_len == 0) return 1;
    size_t n;
    const char *h = http_req_header(req, HTTP_H_AUTHORIZATION, &n);
    if (h == NULL || n < 7 || strncasecmp(h, "Bearer ", 7) != 0) return 0;
    unsigned char a[DIGEST_SHA256_BYTES];
    if (digest_sha256(h + 7, n - 7, a) != 0) return 0;
    return CRYPTO_memcmp(a, s->emit_token_digest, sizeof(a)) == 0;
}

/* The Idempotency-Key header: 0 with *key NULL when there is none, -1
 * when it is malformed (answered 400). */
static int emit_key(conn_t *c, http_req_t *req, const char **key, size_t *klen) {
    *key = http_req_header(req, HTTP_H_IDEMPOTENCY_KEY, klen);
    if (*key == NULL || batch_key_check(*key, *klen) == 0) return 0;
    emit_error(c, req, 400, NULL, "Idempotency-Key must be 1-64 bytes of visible ASCII");
    return -1;
}

#define EMIT_ANSWER_MAX 96

/* {"id":N,"subscribers":N} (and "repeated":true), the answer to every
 * single emit, without snprintf's format parsing. Its length. */
static size_t emit_answer_format(char out[EMIT_ANSWER_MAX], uint64_t id, size_t subs, int repeat) {
    static const char a[] = "{\"id\":", b[] = ",\"subscribers\":", r[] = ",\"repeated\":true";
    size_t n = sizeof(a) - 1;
    memcpy(out, a, n);
    n += http_u64_format(out + n, id);
    memcpy(out + n, b, sizeof(b) - 1);
    n += sizeof(b) - 1;
    n += http_u64_format(out + n, subs);
    if (repeat) {
        memcpy(out + n, r, sizeof(r) - 1);
        n += sizeof(r) - 1;
    }
    out[n++] = '}';
    return n;
}

static void emit_single(conn_t *c, http_req_t *req, const char *name, size_t nlen) {
    char ch[HERALD_CHANNEL_MAX * 3 + 1];
    long cl = nlen < sizeof(ch) ? http_url_decode(name, nlen, ch, 0) : -1;
    size_t blen, klen;
    const char *body = http_req_body(req, &blen), *key;
    uint64_t id;
    size_t subs;
    int repeat;
    if (cl <= 0 || herald_channel_check(ch, (size_t)cl) != 0) {
        emit_error(c, req, 400, NULL, EMIT_BAD_NAME);
        return;
    }
    if (emit_key(c, req, &key, &klen) != 0) return;
    if (c->loop->redis) {
        redis_pub_t p = {ch, (size_t)cl, body, blen, NULL, 0};
        if (emit_frame_refuse(c, req, body, blen, "") != 0) return;
        emitredis_publish(c, req, EMITREDIS_SINGLE, &p, 1, key, klen);
        return;
    }
    if (emit_publish(c, req, ch, (size_t)cl, body, blen, key, klen, &id, &subs, &repeat) != 0)
        return;
    char out[EMIT_ANSWER_MAX];
    conn_respond(c, 202, "application/json", NULL, out, emit_answer_format(out, id, subs, repeat),
                 http_req_keep_alive(req));
}

/* The seed's route: GET /emit/{channel}/{message}, both URL-decoded. */
static void emit_get(conn_t *c, http_req_t *req, const char *rest, size_t len) {
    const char *slash = memchr(rest, '/', len);
    char ch[HERALD_CHANNEL_MAX * 3 + 1];
    size_t clen = (size_t)(slash - rest);
    long cl = clen < sizeof(ch) ? http_url_decode(rest, clen, ch, 0) : -1;
    size_t mlen = len - clen - 1;
    char *msg = malloc(mlen + 1);
    if (msg == NULL) {
        emit_error(c, req, 503, "Retry-After: 1\r\n", "out of memory");
        return;
    }
    long ml = http_url_decode(slash + 1, mlen, msg, 0);
    uint64_t id;
    size_t subs, klen;
    const char *key;
    int repeat;
    if (ml < 0) emit_error(c, req, 400, NULL, "bad percent-encoding in the message");
    else if (cl <= 0 || herald_channel_check(ch, (size_t)cl) != 0)
        emit_error(c, req, 400, NULL, EMIT_BAD_NAME);
    else if (emit_key(c, req, &key, &klen) != 0) {
    } else if (c->loop->redis) {
        if (emit_frame_refuse(c, req, msg, (size_t)ml, "") == 0)
            emitredis_publish(c, req, EMITREDIS_GET, &(redis_pub_t){ch, (size_t)cl, msg, (size_t)ml, NULL, 0},
                              1, key, klen);
    } else if (emit_publish(c, req, ch, (size_t)cl, msg, (size_t)ml, key, klen, &id, &subs, &repeat) == 0)
        conn_respond(c, 200, "application/json", NULL, "\"OK\"", 4, http_req_keep_alive(req));
    free(msg);
}

/* The key of record i of a batch keyed as a whole: a digest of the
 * request's key (so any key fits) and the record's place. Its length. */
static size_t emit_record_key(const char *key, size_t len, size_t i, char *out, size_t size) {
    unsigned char d[DIGEST_SHA256_BYTES];
    digest_sha256(key, len, d);
    int n = 0;
    for (int k = 0; k < 16; k++) n += snprintf(out + n, size - (size_t)n, "%02x", d[k]);
    n += snprintf(out + n, size - (size_t)n, ".%zu", i);
    return (size_t)n;
}

/* In a cluster the batch is one Redis transaction (all or none). Records
 * are keyed as on a single node (their own key, or the request's and
 * their place), and Redis checks the keys for every node. */
static void emit_batch_redis(conn_t *c, http_req_t *req, const char *body, size_t blen,
                             size_t count, const char *hkey, size_t hkl) {
    enum { DERIVED = BATCH_KEY_MAX + 1 };
    size_t k = count ? count : 1;
    redis_pub_t *msgs = malloc(k * sizeof(*msgs) + (hkey ? k * DERIVED : 0));
    char *derived = (char *)(msgs + k);
    if (msgs == NULL) {
        emit_error(c, req, 503, "Retry-After: 1\r\n", "out of memory");
        return;
    }
    batch_iter_t it;
    batch_record_t r;
    size_t n = 0;
    batch_iter_init(&it, body, blen);
    while (n < count && batch_next(&it, &r) == 1) {
        msgs[n] = (redis_pub_t){r.channel, r.channel_len, r.data, r.len, r.key, r.key_len};
        if (r.key == NULL && hkey != NULL) {
            msgs[n].key = derived + n * DERIVED;
            msgs[n].key_len = emit_record_key(hkey, hkl, n, derived + n * DERIVED, DERIVED);
        }
        n++;
    }
    if (n == 0) {
        conn_respond(c, 202, "application/json", NULL, "{\"ids\":[],\"subscribers\":[]}", 29,
                     http_req_keep_alive(req));
    } else {
        emitredis_publish(c, req, EMITREDIS_BATCH, msgs, n, NULL, 0);
    }
    free(msgs);
}

/* Validate every record first, then publish all: a batch is all or none. */
static void emit_batch(conn_t *c, http_req_t *req) {
    size_t blen;
    const char *body = http_req_body(req, &blen);
    char reason[160];
    long count = batch_validate(body, blen, reason, sizeof(reason));
    const char *hkey;
    size_t hkl;
    if (emit_key(c, req, &hkey, &hkl) != 0) return;
    if (count < 0) {
        emit_error(c, req, 400, NULL, reason);
        return;
    }
    if ((uint64_t)count > c->loop->cfg->max_batch_messages) {
        snprintf(reason, sizeof(reason), "batch of %ld messages: at most %llu (max_batch_messages)",
                 count, (unsigned long long)c->loop->cfg->max_batch_messages);
        emit_error(c, req, 413, NULL, reason);
        return;
    }
    batch_iter_t it;
    batch_record_t r;
    batch_iter_init(&it, body, blen);
    for (long i = 0; batch_next(&it, &r) == 1; i++) {
        char rec[32];
        snprintf(rec, sizeof(rec), "record %ld: ", i);
        if (emit_frame_refuse(c, req, r.data, r.len, rec) != 0) return;
    }
    if (c->loop->redis) {
        emit_batch_redis(c, req, body, blen, (size_t)count, hkey, hkl);
        return;
    }
    size_t cap = (size_t)count * 48 + 64;
    char *ids = malloc(cap), *subs = malloc(cap);
    if (ids == NULL || subs == NULL) {
        free(ids);
        free(subs);
        emit_error(c, req, 503, "Retry-After: 1\r\n", "out of memory");
        return;
    }
    size_t il = 0, sl = 0, published = 0, repeated = 0;
    batch_iter_init(&it, body, blen);
    while (batch_next(&it, &r) == 1) {
        uint64_t id = 0;
        size_t n = 0;
        int repeat;
        /* A request's key covers the whole batch (the extension sends one):
         * each record without a key of its own is keyed by it and its
         * place, so a repeated batch publishes nothing again. Validated
         * above: only memory or max_channels can fail, and what was
         * published stays published; the one answer says how far it got. */
        char derived[BATCH_KEY_MAX + 1];
        const char *key = r.key;
        size_t kl = r.key_len;
        if (key == NULL && hkey != NULL) {
            key = derived;
            kl = emit_record_key(hkey, hkl, published, derived, sizeof(derived)); /* its place */
        }
        int rc = emit_publish_quiet(c, r.channel, r.channel_len, r.data, r.len, key, kl, &id, &n,
                                    &repeat);
        if (rc != 0) {
            snprintf(reason, sizeof(reason), "%s: %zu of %ld messages published",
                     rc == HUB_EFULL ? "too many channels (max_channels)" : "out of memory",
                     published, count);
            emit_error(c, req, 503, "Retry-After: 1\r\n", reason);
            break;
        }
        published++;
        repeated += (size_t)repeat;
        il += (size_t)snprintf(ids + il, cap - il, "%s%llu", il ? "," : "", (unsigned long long)id);
        sl += (size_t)snprintf(subs + sl, cap - sl, "%s%zu", sl ? "," : "", n);
    }
    if (!conn_is_open(c) || published < (size_t)count) {
        free(ids);
        free(subs);
        return;
    }
    size_t olen = il + sl + 80;
    char *out = malloc(olen);
    if (out) {
        char rep[48] = "";
        if (repeated) snprintf(rep, sizeof(rep), ",\"repeated\":%zu", repeated);
        int n = snprintf(out, olen, "{\"ids\":[%s],\"subscribers\":[%s]%s}", ids, subs, rep);
        conn_respond(c, 202, "application/json", NULL, out, (size_t)n, http_req_keep_alive(req));
    } else {
        conn_close(c);
    }
    free(out);
    free(ids);
    free(subs);
}

static void emit_batch_route(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    emit_batch(c, req);
}

static void emit_single_route(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    emit_single(c, req, rest, n);
}

static void emit_get_route(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    emit_get(c, req, rest, n);
}

static void emit_healthz(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    conn_respond(c, 200, NULL, NULL, "ok\n", 3, http_req_keep_alive(req));
}

static void emit_stats(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    loop_t *loop = c->loop;
    size_t channels;
    stats_t *each = hub_stats_collect(loop->hub, loop->index, &loop->stats, &channels);
    /* room for every counter at 20 digits, flat and per loop */
    size_t size = 4096 + loop->hub->nloops * 512;
    char *out = each ? malloc(size) : NULL;
    int len = out ? stats_format_loops(each, loop->hub->nloops, channels, out, size) : -1;
    if (len <= 0) emit_error(c, req, 503, "Retry-After: 1\r\n", "out of memory");
    else conn_respond(c, 200, "application/json", NULL, out, (size_t)len, http_req_keep_alive(req));
    free(out);
    free(each);
}

static void emit_metrics(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    loop_t *loop = c->loop;
    char *text;
    size_t len;
    if (metrics_format(loop->hub, loop->index, &loop->stats, &text, &len) != 0) {
        emit_error(c, req, 503, "Retry-After: 1\r\n", "out of memory");
        return;
    }
    conn_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, text, len,
                 http_req_keep_alive(req));
    free(text);
}

/* A subscriber may be behind by max_queue_bytes beyond the frame being
 * written (conn_send): a message whose frame alone is larger could reach
 * only a client with nothing queued, and replaying it on resume would end
 * the session. It is refused whole instead. The pass over the data is
 * skipped when even a fully escaped one fits. -1 when answered 413. */
static int emit_frame_refuse(conn_t *c, http_req_t *req, const char *data, size_t len,
                             const char *record) {
    uint64_t max = c->loop->cfg->max_queue_bytes;
    if ((uint64_t)len * 6 + 2 * HERALD_NAME_JSON_MAX + 16 <= max) return 0;
    size_t frame = channel_message_frame_max(data, len);
    if (frame <= max) return 0;
    char why[200];
    snprintf(why, sizeof(why), "%smessage of %zu bytes makes a %zu-byte frame, over max_queue_bytes "
             "(%llu): no subscriber could receive it", record, len, frame, (unsigned long long)max);
    emit_error(c, req, 413, NULL, why);
    return -1;
}

/* Publish without answering (a batch answers once for all): with an
 * idempotency key, a repeat within idempotency_window_ms gives the first
 * emit's id (0 subscribers, *repeat set) and publishes nothing; keys are
 * per channel. 0, or a HUB_E* code. */
static int emit_publish_quiet(conn_t *c, const char *channel, size_t len, const char *data,
                              size_t dlen, const char *key, size_t klen, uint64_t *id,
                              size_t *subs, int *repeat) {
    loop_t *loop = c->loop;
    uint64_t now = hub_wall_ms();
    int keyed = key != NULL && herald_channel_check(channel, len) == 0;
    idem_key_t k;
    *repeat = 0;
    if (keyed) idem_key_make(&k, channel, len, key, klen);
    if (keyed && idem_find_key(&loop->idem, &k, now, id)) {
        *subs = 0;
        *repeat = 1;
        loop->stats.emits_repeated++;
        log_debug("%s: emit to %.*s repeats idempotency key %.*s: answered id %llu, not published",
                  c->peer, (int)len, channel, (int)klen, key, (unsigned long long)*id);
        return 0;
    }
    int rc = loop_publish(loop, channel, len, data, dlen, id, subs);
    if (rc == HUB_EFULL) loop->stats.max_channels_refused++;
    if (rc == 0 && keyed && idem_add_key(&loop->idem, &k, *id, now) != 0)
        log_warn("out of memory: idempotency key of an emit to %.*s not remembered", (int)len, channel);
    loop->stats.idempotency_keys = loop->idem.count;
    loop->stats.idempotency_evicted = loop->idem.evicted;
    return rc;
}

/* One emit, answered on failure: a bad name is the caller's (400), memory
 * and max_channels are ours (503, worth a retry). */
static int emit_publish(conn_t *c, http_req_t *req, const char *channel, size_t len,
                        const char *data, size_t dlen, const char *key, size_t klen,
                        uint64_t *id, size_t *subs, int *repeat) {
    if (emit_frame_refuse(c, req, data, dlen, "") != 0) return -1;
    int rc = emit_publish_quiet(c, channel, len, data, dlen, key, klen, id, subs, repeat);
    if (rc == HUB_EINVAL) emit_error(c, req, 400, NULL, EMIT_BAD_NAME);
    else if (rc == HUB_EFULL)
        emit_error(c, req, 503, "Retry-After: 1\r\n",
                   "too many channels (max_channels): nothing published to a new channel");
    else if (rc != 0) emit_error(c, req, 503, "Retry-After: 1\r\n", "out of memory: nothing published");
    return rc;
}

/* 1 if host (lower-case, no port, no brackets) is in the comma list. */
static int emit_host_listed(const char *list, const char *host) {
    size_t hl = strlen(host);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *q = e;
        while (q > p && q[-1] == ' ') q--;
        if (q > p && *p == '[' && q[-1] == ']') p++, q--;
        if ((size_t)(q - p) == hl && strncasecmp(p, host, hl) == 0) return 1;
        p = e;
    }
    return 0;
}

/* DNS rebinding: a page on evil.example whose name now resolves to
 * 127.0.0.1 reaches this port with "Host: evil.example". A browser always
 * sends Host, so a name other than localhost and those in
 * emit_allowed_hosts is refused. An IP address cannot be rebound, so any
 * is accepted (a page aiming at one directly is a cross-site request,
 * refused for its Origin / Sec-Fetch-*); a request without Host (HTTP/1.0
 * tools) is not from a browser. A Unix socket is out of any browser's
 * reach: there Host is not looked at. */
static int emit_host_allowed(const conn_t *c, http_req_t *req) {
    size_t n;
    const char *h = http_req_header(req, HTTP_H_HOST, &n);
    if (h == NULL || c->l->unix_path[0]) return 1;
    char host[256];
    unsigned char a[16];
    if (http_host_name(h, n, host, sizeof(host)) != 0) return 0;
    if (strcmp(host, "localhost") == 0) return 1;
    if (inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1) return 1;
    return emit_host_listed(c->loop->cfg->emit_allowed_hosts, host);
}

/* Only a browser sends Origin or Fetch Metadata (Sec-Fetch-*); PHP's curl,
 * the seed's curl and scripts send neither. Browsers never publish: such a
 * request is refused whatever it asks (a no-cors POST or an <img> GET
 * would otherwise publish from any page the operator visits). The answer
 * closes the connection. -1 when refused. */
static int emit_browser_refuse(conn_t *c, http_req_t *req) {
    size_t n;
    const char *why;
    if (http_req_header(req, HTTP_H_ORIGIN, &n) != NULL || req->sec_fetch) {
        c->loop->stats.emit_browser_refused++;
        why = "the emit listener refuses browser requests (Origin or Sec-Fetch-* header)";
    } else if (!emit_host_allowed(c, req)) {
        c->loop->stats.emit_host_refused++;
        why = "Host is not a loopback name nor in emit_allowed_hosts";
    } else {
        return 0;
    }
    conn_http_error(c, 403, NULL, why);
    return -1;
}

/* Every request on an emit listener needs the token, when one is set; a
 * wrong one ends the connection, so guessing costs a connection each. */
static int emit_admit(conn_t *c, http_req_t *req) {
    if (emit_browser_refuse(c, req) != 0) return -1;
    size_t ulen;
    const char *url = http_req_url(req, &ulen);
    /* the Pusher API's requests carry their own signature (pusherapi.c) */
    if (ulen > 6 && memcmp(url, "/apps/", 6) == 0) return 0;
    if (emit_authorized(&c->loop->auth.secrets, req)) return 0;
    c->loop->stats.emit_unauthorized++;
    log_info("%s: emit 401: no valid emit secret", c->peer);
    conn_respond(c, 401, NULL, "WWW-Authenticate: Bearer\r\n",
                 "emit needs Authorization: Bearer <emit secret>\n", 47, 0);
    return -1;
}

static const route_t emit_table[] = {
    {"/emit", HTTP_M_POST, emit_batch_route, 0},
    {"/emit/*", HTTP_M_POST, emit_single_route, 0},
    {"/emit/*/**", HTTP_M_GET, emit_get_route, 1},
    {"/healthz", HTTP_M_GET, emit_healthz, 0},
    {"/stats", HTTP_M_GET, emit_stats, 0},
    {"/metrics", HTTP_M_GET, emit_metrics, 0},
    {"/apps/*/events", HTTP_M_POST, pusherapi_events, 0},
    {"/apps/*/batch_events", HTTP_M_POST, pusherapi_batch_events, 0},
    {"/apps/*/channels", HTTP_M_GET, pusherapi_channels, 0},
    {"/apps/*/channels/*", HTTP_M_GET, pusherapi_channel, 0},
    {"/apps/*/channels/*/users", HTTP_M_GET, pusherapi_users, 0},
    {NULL, 0, NULL, 0},
};

const route_table_t emit_routes = {
    .routes = emit_table,
    .admit = emit_admit,
    .errors_keep_alive = 1,
    .not_found = "no such path (POST /emit/{channel}, POST /emit, GET /healthz, GET /stats, GET /metrics)",
};
