/* libFuzzer target for the HTTP request reader (daemon/http.c over
 * http_parser), used the way conn.c uses it: a byte stream of pipelined
 * requests, a fresh http_req_t per request, the rest after an upgrade left
 * to the WebSocket. The stream is read whole and in pieces (sizes from
 * byte 0); both must see the same requests (method, URL, body, kept headers,
 * keep-alive, upgrade) and refuse the same one. Upgrades go through
 * ws_upgrade_check, URLs through http_url_split and http_url_decode. */
#include "http.h"
#include "ws.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const http_limits_t fuzz_http_limits = {
    .max_url = 512, .max_header_count = 16, .max_header_bytes = 2048, .max_body = 4096,
};

#include <stdio.h>

/* A broken property names its line before aborting, so a crash says which. */
#define fuzz_http_require(cond)                                              \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_http.c:%d: property failed: %s\n",         \
                    __LINE__, #cond);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)

static uint64_t fuzz_http_mix(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    h ^= n;
    h *= 1099511628211ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Fold one finished request into the trace, checking its parts on the way. */
static uint64_t fuzz_http_request(uint64_t h, const http_req_t *r) {
    size_t n;
    const char *s;
    int m = http_req_method(r);
    h = fuzz_http_mix(h, &m, sizeof m);
    s = http_req_url(r, &n);
    fuzz_http_require(s != NULL && n <= fuzz_http_limits.max_url);
    h = fuzz_http_mix(h, s, n);
    const char *path, *query;
    size_t pl, ql;
    http_url_split(s, n, &path, &pl, &query, &ql);
    fuzz_http_require(path >= s && path + pl <= s + n);
    if (query) fuzz_http_require(query >= s && query + ql <= s + n);
    char *dec = malloc(n ? n : 1);
    long dl = http_url_decode(path, pl, dec, 0);
    fuzz_http_require(dl >= -1 && dl <= (long)pl);
    free(dec);
    s = http_req_body(r, &n);
    fuzz_http_require(n <= fuzz_http_limits.max_body);
    h = fuzz_http_mix(h, s ? s : "", n);
    ws_upgrade_t u;
    memset(&u, 0, sizeof u);
    for (int k = 0; k < HTTP_H_COUNT; k++) {
        s = http_req_header(r, k, &n);
        h = fuzz_http_mix(h, s ? s : "-", s ? n : 1);
        if (k == HTTP_H_UPGRADE) { u.upgrade = s; u.upgrade_len = n; }
        if (k == HTTP_H_CONNECTION) { u.connection = s; u.connection_len = n; }
        if (k == HTTP_H_WS_KEY) { u.key = s; u.key_len = n; }
        if (k == HTTP_H_WS_VERSION) { u.version = s; u.version_len = n; }
    }
    /* The emit listener's Host check: a parsed host is lower-case, fits,
     * and holds no byte a Host's host part cannot. */
    s = http_req_header(r, HTTP_H_HOST, &n);
    if (s) {
        char host[64];
        int hr = http_host_name(s, n, host, sizeof host);
        fuzz_http_require(hr == 0 || hr == -1);
        if (hr == 0) {
            size_t hl = strlen(host);
            fuzz_http_require(hl > 0 && hl < sizeof host && hl <= n);
            for (size_t i = 0; i < hl; i++)
                fuzz_http_require(!(host[i] >= 'A' && host[i] <= 'Z') && host[i] > ' ' &&
                                  host[i] != '/' && host[i] != '[' && host[i] != ']');
            h = fuzz_http_mix(h, host, hl);
        }
        h = fuzz_http_mix(h, &hr, sizeof hr);
    }
    int sf = r->sec_fetch, ec = http_req_wants_continue(r);
    fuzz_http_require(ec == 0); /* a finished request owes no 100 */
    h = fuzz_http_mix(h, &sf, sizeof sf);
    int ka = http_req_keep_alive(r), up = http_req_upgrade(r);
    h = fuzz_http_mix(h, &ka, sizeof ka);
    h = fuzz_http_mix(h, &up, sizeof up);
    int rc = ws_upgrade_check(&u);
    h = fuzz_http_mix(h, &rc, sizeof rc);
    return h;
}

typedef struct fuzz_http_result {
    uint64_t hash;
    int requests, status, upgraded;
    size_t ws_bytes;     /* bytes left for the WebSocket after an upgrade */
} fuzz_http_result_t;

static void fuzz_http_read(const uint8_t *data, size_t len, unsigned seed,
                           fuzz_http_result_t *res) {
    memset(res, 0, sizeof *res);
    res->hash = 14695981039346656037ull;
    http_req_t *req = NULL;
    size_t at = 0, k = 0;
    while (at < len && !res->status && !res->upgraded) {
        size_t piece = len - at;
        if (seed) {
            size_t want = 1 + (seed * 31 + k++ * 17) % (seed & 1 ? 3 : 97);
            if (want < piece) piece = want;
        }
        char *chunk = malloc(piece);     /* its own allocation: over-reads show */
        memcpy(chunk, data + at, piece);
        size_t off = 0;
        while (off < piece) {
            if (req == NULL) {
                req = malloc(sizeof *req);
                http_req_init(req, &fuzz_http_limits);
            }
            size_t used = 0;
            int rc = http_req_feed(req, chunk + off, piece - off, &used);
            fuzz_http_require(used <= piece - off);
            if (rc == HTTP_REQ_AGAIN) { fuzz_http_require(used == piece - off); off = piece; break; }
            if (rc == HTTP_REQ_ERROR) {
                fuzz_http_require(req->status >= 400 && req->status <= 599 && req->reason != NULL);
                fuzz_http_require(http_status_text(req->status) != NULL);
                res->status = req->status;
                break;
            }
            off += used;
            res->hash = fuzz_http_request(res->hash, req);
            res->requests++;
            if (http_req_upgrade(req)) {
                res->upgraded = 1;
                res->ws_bytes = (piece - off) + (len - at - piece);
            }
            http_req_free(req);
            free(req);
            req = NULL;
            if (res->upgraded) break;
        }
        free(chunk);
        at += piece;
    }
    if (req) {
        http_req_free(req);
        free(req);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    fuzz_http_result_t whole, split;
    fuzz_http_read(data + 1, size - 1, 0, &whole);
    fuzz_http_read(data + 1, size - 1, data[0] | 1, &split);
    fuzz_http_require(whole.requests == split.requests);
    fuzz_http_require(whole.hash == split.hash);
    /* Both must refuse the same request, but not always with the same
     * status: a request that is both too long and malformed gets 414 or 400
     * depending on whether http_parser reports the URL piece (at a read's
     * end) before it reaches the bad byte. Either answer is right. */
    fuzz_http_require((whole.status != 0) == (split.status != 0));
    fuzz_http_require(whole.upgraded == split.upgraded);
    fuzz_http_require(whole.ws_bytes == split.ws_bytes);
    return 0;
}
