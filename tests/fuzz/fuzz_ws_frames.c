/* libFuzzer target for the WebSocket frame decoder (daemon/ws.c).
 *
 * Input: byte 0 picks the message cap, byte 1 seeds how the rest is cut into
 * pieces, the rest is the client byte stream. The stream is decoded twice,
 * whole and in pieces; both runs must give the same callbacks, return code
 * and close code (the decoder's "arbitrary pieces" promise), and every
 * delivered message must obey the rules the decoder enforces. */
#include "ws.h"
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct trace {
    uint64_t hash;
    size_t events;
    size_t max;
    int idle;
} trace_t;

static void fuzz_ws_require(int cond) {
    if (!cond) abort();
}

/* Each delivery is folded into an FNV-1a hash, and checked on the spot. */
static int fuzz_ws_on_message(void *ctx, int op, const unsigned char *d, size_t n) {
    trace_t *t = ctx;
    switch (op) {
    case WS_OP_TEXT:
        fuzz_ws_require(utf8_valid(d, n));
        /* fallthrough */
    case WS_OP_BINARY:
        fuzz_ws_require(n <= t->max);
        break;
    case WS_OP_CLOSE:
        fuzz_ws_require(n != 1 && n <= WS_CONTROL_MAX);
        if (n >= 2) {
            fuzz_ws_require(ws_close_code_valid((uint16_t)(d[0] << 8 | d[1])));
            fuzz_ws_require(utf8_valid(d + 2, n - 2));
        }
        break;
    case WS_OP_PING:
    case WS_OP_PONG:
        fuzz_ws_require(n <= WS_CONTROL_MAX);
        break;
    default:
        abort();
    }
    uint64_t h = t->hash ^ (uint64_t)op;
    h *= 1099511628211ull;
    h ^= n;
    h *= 1099511628211ull;
    for (size_t i = 0; i < n; i++) {
        h ^= d[i];
        h *= 1099511628211ull;
    }
    t->hash = h;
    t->events++;
    return 0;
}

static const size_t fuzz_ws_caps[8] = {0, 1, 16, 125, 126, 4096, 65535, 65536};

/* Decode in pieces whose sizes come from a small xorshift on `seed`
 * (seed 0: one piece). Returns the last feed's return code. */
static int fuzz_ws_decode(const uint8_t *in, size_t len, size_t cap,
                          uint32_t seed, trace_t *t, uint16_t *close_code) {
    unsigned char *buf = malloc(len ? len : 1);
    memcpy(buf, in, len);
    ws_parser_t p;
    ws_parser_init(&p, cap);
    t->hash = 14695981039346656037ull;
    t->events = 0;
    t->max = cap;
    size_t at = 0;
    int rc = 0;
    uint32_t x = seed | 1;
    while (at < len) {
        size_t piece = len - at;
        if (seed) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            size_t want = (x & 0x40) ? (x % 5) : (x % 67);  /* often tiny */
            if (want < piece) piece = want;
        }
        /* pieces are separate allocations, so ASan sees reads past a piece */
        unsigned char *chunk = malloc(piece ? piece : 1);
        memcpy(chunk, buf + at, piece);
        rc = ws_parser_feed(&p, chunk, piece, fuzz_ws_on_message, t);
        free(chunk);
        at += piece;
        if (rc != 0) break;
    }
    if (rc < 0) {
        /* an error is final: more bytes give the same error, no callback */
        unsigned char more[2] = {0x81, 0x80};
        size_t before = t->events;
        fuzz_ws_require(ws_parser_feed(&p, more, sizeof more, fuzz_ws_on_message, t) == rc);
        fuzz_ws_require(t->events == before);
    }
    /* where the stream ended (mid-frame or not) must not depend on cuts */
    t->idle = ws_parser_idle(&p);
    *close_code = p.close_code;
    ws_parser_free(&p);
    free(buf);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    size_t cap = fuzz_ws_caps[data[0] & 7];
    uint32_t seed = data[1];
    const uint8_t *in = data + 2;
    size_t len = size - 2;
    trace_t whole, split;
    uint16_t cc_whole, cc_split;
    int rc_whole = fuzz_ws_decode(in, len, cap, 0, &whole, &cc_whole);
    int rc_split = fuzz_ws_decode(in, len, cap, seed ? seed : 1, &split, &cc_split);
    fuzz_ws_require(rc_whole == rc_split);
    fuzz_ws_require(cc_whole == cc_split);
    fuzz_ws_require(whole.events == split.events);
    fuzz_ws_require(whole.hash == split.hash);
    fuzz_ws_require(whole.idle == split.idle);
    if (rc_whole < 0) {
        fuzz_ws_require(cc_whole == WS_CLOSE_PROTOCOL || cc_whole == WS_CLOSE_INVALID_DATA ||
                        cc_whole == WS_CLOSE_TOO_BIG || cc_whole == WS_CLOSE_INTERNAL);
    }
    return 0;
}
