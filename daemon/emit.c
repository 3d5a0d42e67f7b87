#include "emit.h"

#include "batch.h"
#include "conn.h"
#include "log.h"
#include "metrics.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Ids and history are shared by every loop: the hub publishes. */
int emit_publish(server_t *srv, const char *channel, size_t channel_len,
                 const char *data, size_t len, uint64_t *id, size_t *subscribers) {
    return hub_publish(srv, channel, channel_len, data, len, id, subscribers);
}

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
 * leaks through timing. */
static int emit_authorized(server_t *srv, http_req_t *req) {
    if (srv->emit_secret_len == 0) return 1;
    size_t n;
    const char *h = http_req_header(req, HTTP_H_AUTHORIZATION, &n);
    if (h == NULL || n < 7 || strncasecmp(h, "Bearer ", 7) != 0) return 0;
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)h + 7, n - 7, a);
    SHA256(srv->emit_secret, srv->emit_secret_len, b);
    return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

static void emit_single(conn_t *c, http_req_t *req, const char *name, size_t nlen) {
    char ch[HERALD_CHANNEL_MAX * 3 + 1];
    long cl = nlen < sizeof(ch) ? http_url_decode(name, nlen, ch, 0) : -1;
    size_t blen;
    const char *body = http_req_body(req, &blen);
    uint64_t id;
    size_t subs;
    if (cl <= 0 || emit_publish(c->srv, ch, (size_t)cl, body, blen, &id, &subs) != 0) {
        emit_error(c, req, 400, NULL, "invalid channel name (1-200 bytes of A-Z a-z 0-9 _ - . : @)");
        return;
    }
    char out[96];
    int n = snprintf(out, sizeof(out), "{\"id\":%llu,\"subscribers\":%zu}",
                     (unsigned long long)id, subs);
    conn_respond(c, 202, "application/json", NULL, out, (size_t)n, http_req_keep_alive(req));
}

/* The seed's route: GET /emit/{channel}/{message}, both URL-decoded. */
static void emit_get(conn_t *c, http_req_t *req, const char *rest, size_t len) {
    const char *slash = memchr(rest, '/', len);
    char ch[HERALD_CHANNEL_MAX * 3 + 1];
    size_t clen = (size_t)(slash - rest);
    long cl = clen < sizeof(ch) ? http_url_decode(rest, clen, ch, 0) : -1;
    size_t mlen = len - clen - 1;
    char *msg = malloc(mlen + 1);
    long ml = msg ? http_url_decode(slash + 1, mlen, msg, 0) : -1;
    uint64_t id;
    size_t subs;
    if (ml < 0) emit_error(c, req, 400, NULL, "bad percent-encoding in the message");
    else if (cl <= 0 || emit_publish(c->srv, ch, (size_t)cl, msg, (size_t)ml, &id, &subs) != 0)
        emit_error(c, req, 400, NULL, "invalid channel name (1-200 bytes of A-Z a-z 0-9 _ - . : @)");
    else
        conn_respond(c, 200, "application/json", NULL, "\"OK\"", 4, http_req_keep_alive(req));
    free(msg);
}

/* Validate every record first, then publish all: a batch is all or none. */
static void emit_batch(conn_t *c, http_req_t *req) {
    size_t blen;
    const char *body = http_req_body(req, &blen);
    char reason[160];
    long count = batch_validate(body, blen, reason, sizeof(reason));
    if (count < 0) {
        emit_error(c, req, 400, NULL, reason);
        return;
    }
    if ((uint64_t)count > c->srv->cfg->max_batch_messages) {
        snprintf(reason, sizeof(reason), "batch of %ld messages: at most %llu (max_batch_messages)",
                 count, (unsigned long long)c->srv->cfg->max_batch_messages);
        emit_error(c, req, 413, NULL, reason);
        return;
    }
    size_t cap = (size_t)count * 48 + 64;
    char *ids = malloc(cap), *subs = malloc(cap);
    if (ids == NULL || subs == NULL) {
        free(ids);
        free(subs);
        emit_error(c, req, 500, NULL, "out of memory");
        return;
    }
    size_t il = 0, sl = 0;
    batch_iter_t it;
    batch_record_t r;
    batch_iter_init(&it, body, blen);
    while (batch_next(&it, &r) == 1) {
        uint64_t id = 0;
        size_t n = 0;
        emit_publish(c->srv, r.channel, r.channel_len, r.data, r.len, &id, &n);
        il += (size_t)snprintf(ids + il, cap - il, "%s%llu", il ? "," : "", (unsigned long long)id);
        sl += (size_t)snprintf(subs + sl, cap - sl, "%s%zu", sl ? "," : "", n);
    }
    size_t olen = il + sl + 40;
    char *out = malloc(olen);
    if (out) {
        int n = snprintf(out, olen, "{\"ids\":[%s],\"subscribers\":[%s]}", ids, subs);
        conn_respond(c, 202, "application/json", NULL, out, (size_t)n, http_req_keep_alive(req));
    } else {
        conn_close(c);
    }
    free(out);
    free(ids);
    free(subs);
}

static int emit_path_is(const char *p, size_t n, const char *s) {
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

void emit_route(conn_t *c, http_req_t *req) {
    server_t *srv = c->srv;
    if (!emit_authorized(srv, req)) {
        srv->stats.emit_unauthorized++;
        emit_error(c, req, 401, "WWW-Authenticate: Bearer\r\n", "emit needs Authorization: Bearer <emit secret>");
        return;
    }
    size_t ulen, plen, qlen;
    const char *url = http_req_url(req, &ulen), *path, *query;
    http_url_split(url, ulen, &path, &plen, &query, &qlen);
    int method = http_req_method(req);
    int keep = http_req_keep_alive(req);
    if (emit_path_is(path, plen, "/healthz")) {
        if (method != HTTP_GET && method != HTTP_HEAD) emit_error(c, req, 405, "Allow: GET\r\n", "use GET");
        else conn_respond(c, 200, NULL, NULL, "ok\n", 3, keep);
    } else if (emit_path_is(path, plen, "/stats")) {
        /* room for every counter at 20 digits, flat and per loop */
        size_t size = 4096 + srv->hub->nloops * 384;
        char *out = malloc(size);
        int n = out ? hub_stats_format(srv, out, size) : -1;
        if (method != HTTP_GET) emit_error(c, req, 405, "Allow: GET\r\n", "use GET");
        else if (n <= 0) emit_error(c, req, 500, NULL, "out of memory");
        else conn_respond(c, 200, "application/json", NULL, out, (size_t)n, keep);
        free(out);
    } else if (emit_path_is(path, plen, "/metrics")) {
        char *text;
        size_t n;
        if (method != HTTP_GET) emit_error(c, req, 405, "Allow: GET\r\n", "use GET");
        else if (metrics_format(srv, &text, &n) != 0) emit_error(c, req, 500, NULL, "out of memory");
        else {
            conn_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, text, n, keep);
            free(text);
        }
    } else if (emit_path_is(path, plen, "/emit")) {
        if (method != HTTP_POST) emit_error(c, req, 405, "Allow: POST\r\n", "use POST with a batch body");
        else emit_batch(c, req);
    } else if (plen > 6 && memcmp(path, "/emit/", 6) == 0) {
        const char *rest = path + 6;
        size_t rlen = plen - 6;
        if (memchr(rest, '/', rlen) != NULL) {
            if (method != HTTP_GET) emit_error(c, req, 405, "Allow: GET\r\n", "use GET for /emit/{channel}/{message}");
            else emit_get(c, req, rest, rlen);
        } else if (method != HTTP_POST) {
            emit_error(c, req, 405, "Allow: POST\r\n", "use POST for /emit/{channel}");
        } else {
            emit_single(c, req, rest, rlen);
        }
    } else {
        emit_error(c, req, 404, NULL, "no such path (POST /emit/{channel}, POST /emit, GET /healthz, GET /stats, GET /metrics)");
    }
}
