/* Unit tests for daemon/ws.c: each decoder rule of RFC 6455 as heraldd
 * applies it to client frames, the RFC's own examples, every split of
 * multi-frame inputs, the handshake helpers and the server-frame encoder. */
#include "t.h"
#include "ws.h"

#include <stdint.h>
#include <stdlib.h>

/* ---- helpers ---------------------------------------------------------- */

#define MAX_EVENTS 64

typedef struct event {
    int op;
    size_t len;
    unsigned char *data;
    const unsigned char *ptr; /* where the callback's data pointed */
} event_t;

typedef struct result {
    int rc;
    uint16_t close_code;
    int n;
    event_t ev[MAX_EVENTS];
    int stop_after;           /* callback returns 7 after this many events */
    int idle;
} result_t;

static int collect(void *ctx, int op, const unsigned char *data, size_t len) {
    result_t *r = ctx;
    if (r->n < MAX_EVENTS) {
        event_t *e = &r->ev[r->n];
        e->op = op;
        e->len = len;
        e->ptr = data;
        e->data = malloc(len ? len : 1);
        if (len) memcpy(e->data, data, len);
    }
    r->n++;
    if (r->stop_after && r->n == r->stop_after) return 7;
    return 0;
}

static void result_free(result_t *r) {
    for (int i = 0; i < r->n && i < MAX_EVENTS; i++) free(r->ev[i].data);
    r->n = 0;
}

/* A client frame: fin, rsv bits (0-7), opcode, payload; masked with `key`
 * unless key is NULL; len_form forces 7/16/64-bit length (0 = minimal). */
static size_t frame_ex(unsigned char *out, int fin, int rsv, int op,
                       const void *payload, uint64_t len, const unsigned char *key,
                       int len_form) {
    size_t h = 0;
    const unsigned char *pl = payload;
    out[h++] = (unsigned char)((fin ? 0x80 : 0) | (rsv << 4) | op);
    unsigned char mbit = key ? 0x80 : 0;
    if (len_form == 0) len_form = len <= 125 ? 7 : len <= 0xFFFF ? 16 : 64;
    if (len_form == 7) {
        out[h++] = (unsigned char)(mbit | len);
    } else if (len_form == 16) {
        out[h++] = mbit | 126;
        out[h++] = (unsigned char)(len >> 8);
        out[h++] = (unsigned char)len;
    } else {
        out[h++] = mbit | 127;
        for (int i = 7; i >= 0; i--) out[h++] = (unsigned char)(len >> (8 * i));
    }
    if (key) { memcpy(out + h, key, 4); h += 4; }
    if (pl)
        for (uint64_t i = 0; i < len; i++)
            out[h + i] = key ? (unsigned char)(pl[i] ^ key[i & 3]) : pl[i];
    return h + (pl ? (size_t)len : 0);
}

static const unsigned char KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

static size_t frame(unsigned char *out, int fin, int op, const void *payload, size_t len) {
    return frame_ex(out, fin, 0, op, payload, len, KEY, 0);
}

/* Feed `in` (copied, since the decoder unmasks in place) in pieces cut at
 * cuts[0..ncuts); returns the collected result. */
static void run_cuts(result_t *r, const unsigned char *in, size_t len, size_t max,
                     const size_t *cuts, int ncuts) {
    unsigned char *buf = malloc(len ? len : 1);
    memcpy(buf, in, len);
    ws_parser_t p;
    ws_parser_init(&p, max);
    int stop = r->stop_after;
    memset(r, 0, sizeof *r);
    r->stop_after = stop;
    size_t at = 0;
    for (int c = 0; c <= ncuts; c++) {
        size_t end = c < ncuts ? cuts[c] : len;
        r->rc = ws_parser_feed(&p, buf + at, end - at, collect, r);
        at = end;
        if (r->rc != 0) break;
    }
    r->close_code = p.close_code;
    r->idle = ws_parser_idle(&p);
    ws_parser_free(&p);
    free(buf);
}

static void run_whole(result_t *r, const unsigned char *in, size_t len, size_t max) {
    run_cuts(r, in, len, max, NULL, 0);
}

static void run_bytes(result_t *r, const unsigned char *in, size_t len, size_t max) {
    size_t *cuts = malloc((len ? len : 1) * sizeof *cuts);
    for (size_t i = 0; i < len; i++) cuts[i] = i;
    run_cuts(r, in, len, max, cuts, len ? (int)len - 1 : 0);
    /* cuts[0] = 0 makes a first empty feed, also a legal piece */
    free(cuts);
}

static int results_equal(const result_t *a, const result_t *b) {
    if (a->rc != b->rc || a->close_code != b->close_code || a->n != b->n) return 0;
    for (int i = 0; i < a->n && i < MAX_EVENTS; i++) {
        if (a->ev[i].op != b->ev[i].op || a->ev[i].len != b->ev[i].len) return 0;
        if (a->ev[i].len && memcmp(a->ev[i].data, b->ev[i].data, a->ev[i].len)) return 0;
    }
    return 1;
}

/* The rule every parser here obeys: the same bytes give the same result
 * whole, one byte at a time, and cut in two at any position. */
static int same_at_every_split(const unsigned char *in, size_t len, size_t max,
                               result_t *whole) {
    result_t r;
    int ok = 1;
    run_whole(whole, in, len, max);
    r.stop_after = 0;
    run_bytes(&r, in, len, max);
    if (!results_equal(whole, &r)) ok = 0;
    result_free(&r);
    for (size_t cut = 0; cut <= len && ok; cut++) {
        run_cuts(&r, in, len, max, &cut, 1);
        if (!results_equal(whole, &r)) {
            fprintf(stderr, "  differs when cut at %zu\n", cut);
            ok = 0;
        }
        result_free(&r);
    }
    return ok;
}

/* Expect an error with its close code and no events, at every split. */
static void expect_error_max(const unsigned char *in, size_t len, size_t max,
                             int err, int code) {
    result_t r = {0};
    CHECK(same_at_every_split(in, len, max, &r));
    CHECK_EQ_INT(r.rc, err);
    CHECK_EQ_INT(r.close_code, code);
    result_free(&r);
}

static void expect_error(const unsigned char *in, size_t len, int err, int code) {
    expect_error_max(in, len, 1 << 20, err, code);
}

/* ---- RFC 6455 5.7 examples -------------------------------------------- */

static void rfc_5_7_unmasked_hello_is_refused_1002(void) {
    const unsigned char in[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    expect_error(in, sizeof in, WS_EPROTO, 1002);
}

static void rfc_5_7_masked_hello_is_delivered(void) {
    const unsigned char in[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    result_t r = {0};
    CHECK(same_at_every_split(in, sizeof in, 1024, &r));
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.ev[0].op, WS_OP_TEXT);
    CHECK_MEM(r.ev[0].data, r.ev[0].len, "Hello", 5);
    CHECK(r.idle);
    result_free(&r);
}

static void rfc_5_7_fragmented_hello_is_reassembled(void) {
    unsigned char in[64];
    size_t n = frame(in, 0, WS_OP_TEXT, "Hel", 3);
    n += frame(in + n, 1, WS_OP_CONT, "lo", 2);
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 1024, &r));
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.ev[0].op, WS_OP_TEXT);
    CHECK_MEM(r.ev[0].data, r.ev[0].len, "Hello", 5);
    CHECK(r.idle);
    result_free(&r);
}

static void rfc_5_7_masked_ping_and_pong_are_delivered(void) {
    unsigned char in[] = {0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                          0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    result_t r = {0};
    CHECK(same_at_every_split(in, sizeof in, 1024, &r));
    CHECK_EQ_INT(r.n, 2);
    CHECK_EQ_INT(r.ev[0].op, WS_OP_PING);
    CHECK_MEM(r.ev[0].data, r.ev[0].len, "Hello", 5);
    CHECK_EQ_INT(r.ev[1].op, WS_OP_PONG);
    CHECK_MEM(r.ev[1].data, r.ev[1].len, "Hello", 5);
    result_free(&r);
}

static void rfc_5_7_256_and_65536_byte_binary_messages_are_delivered(void) {
    static unsigned char payload[65536], in[65536 + 32];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (unsigned char)(i * 7);
    size_t sizes[] = {256, 65536};
    for (int k = 0; k < 2; k++) {
        size_t n = frame(in, 1, WS_OP_BINARY, payload, sizes[k]);
        CHECK_EQ_INT(n, sizes[k] + (k ? 14 : 8));
        result_t r = {0};
        run_whole(&r, in, n, 1 << 20);
        CHECK_EQ_INT(r.rc, 0);
        CHECK_EQ_INT(r.n, 1);
        CHECK_EQ_INT(r.ev[0].op, WS_OP_BINARY);
        CHECK_MEM(r.ev[0].data, r.ev[0].len, payload, sizes[k]);
        result_free(&r);
        run_bytes(&r, in, n, 1 << 20);
        CHECK_EQ_INT(r.n, 1);
        CHECK_MEM(r.ev[0].data, r.ev[0].len, payload, sizes[k]);
        result_free(&r);
    }
}

/* ---- delivery and buffering ------------------------------------------- */

static void single_frame_inside_the_buffer_is_delivered_without_copy(void) {
    unsigned char in[64];
    size_t n = frame(in, 1, WS_OP_TEXT, "{\"type\":\"ping\"}", 15);
    n += frame(in + n, 1, WS_OP_PING, "pp", 2);
    ws_parser_t p;
    ws_parser_init(&p, 1024);
    result_t r = {0};
    CHECK_EQ_INT(ws_parser_feed(&p, in, n, collect, &r), 0);
    CHECK_EQ_INT(r.n, 2);
    CHECK(r.ev[0].ptr == in + 6);          /* points into the fed buffer */
    CHECK(r.ev[1].ptr == in + 21 + 6);
    CHECK_MEM(in + 6, 15, "{\"type\":\"ping\"}", 15); /* unmasked in place */
    CHECK(p.msg == NULL);
    CHECK(ws_parser_idle(&p));
    ws_parser_free(&p);
    result_free(&r);
}

static void split_message_is_buffered_then_buffer_is_freed(void) {
    unsigned char in[64];
    size_t n = frame(in, 1, WS_OP_TEXT, "abcdefghij", 10);
    ws_parser_t p;
    ws_parser_init(&p, 1024);
    result_t r = {0};
    CHECK_EQ_INT(ws_parser_feed(&p, in, 9, collect, &r), 0);
    CHECK(!ws_parser_idle(&p));
    CHECK(p.msg != NULL);
    CHECK_EQ_INT(ws_parser_feed(&p, in + 9, n - 9, collect, &r), 0);
    CHECK_EQ_INT(r.n, 1);
    CHECK_MEM(r.ev[0].data, r.ev[0].len, "abcdefghij", 10);
    CHECK(p.msg == NULL);
    CHECK(ws_parser_idle(&p));
    ws_parser_free(&p);
    result_free(&r);
}

/* A control frame split over reads is held in a buffer that exists only
 * while it does: an idle connection's parser holds none. */
static void split_ping_is_held_then_its_buffer_is_freed(void) {
    unsigned char in[64];
    size_t n = frame(in, 1, WS_OP_PING, "ping-data", 9);
    ws_parser_t p;
    ws_parser_init(&p, 1024);
    result_t r = {0};
    CHECK(p.ctl == NULL);
    CHECK_EQ_INT(ws_parser_feed(&p, in, 9, collect, &r), 0);
    CHECK(p.ctl != NULL);
    CHECK_EQ_INT(r.n, 0);
    CHECK_EQ_INT(ws_parser_feed(&p, in + 9, n - 9, collect, &r), 0);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.ev[0].op, WS_OP_PING);
    CHECK_MEM(r.ev[0].data, r.ev[0].len, "ping-data", 9);
    CHECK(p.ctl == NULL);
    CHECK(ws_parser_idle(&p));
    ws_parser_free(&p);
    result_free(&r);
}

/* A split close with a bad code fails (1002) and releases the buffer. */
static void split_close_with_bad_code_frees_its_buffer(void) {
    unsigned char in[64];
    const unsigned char bad[4] = {0x03, 0xe7, 'x', 'y'}; /* 999 */
    size_t n = frame(in, 1, WS_OP_CLOSE, bad, 4);
    ws_parser_t p;
    ws_parser_init(&p, 1024);
    result_t r = {0};
    CHECK_EQ_INT(ws_parser_feed(&p, in, n - 2, collect, &r), 0);
    CHECK(p.ctl != NULL);
    CHECK_EQ_INT(ws_parser_feed(&p, in + n - 2, 2, collect, &r), WS_EPROTO);
    CHECK_EQ_INT(p.close_code, 1002);
    CHECK(p.ctl == NULL);
    CHECK_EQ_INT(r.n, 0);
    ws_parser_free(&p);
    result_free(&r);
}

static void partial_header_and_open_message_are_not_idle(void) {
    unsigned char in[64];
    size_t n = frame(in, 0, WS_OP_TEXT, "", 0);
    n += frame(in + n, 1, WS_OP_CONT, "x", 1);
    ws_parser_t p;
    ws_parser_init(&p, 1024);
    result_t r = {0};
    CHECK(ws_parser_idle(&p));
    CHECK_EQ_INT(ws_parser_feed(&p, in, 1, collect, &r), 0);
    CHECK(!ws_parser_idle(&p));             /* half a header */
    CHECK_EQ_INT(ws_parser_feed(&p, in + 1, 5, collect, &r), 0);
    CHECK(!ws_parser_idle(&p));             /* empty first fragment: open */
    CHECK_EQ_INT(ws_parser_feed(&p, in + 6, n - 6, collect, &r), 0);
    CHECK(ws_parser_idle(&p));
    CHECK_EQ_INT(r.n, 1);
    CHECK_MEM(r.ev[0].data, r.ev[0].len, "x", 1);
    ws_parser_free(&p);
    result_free(&r);
}

static void empty_text_and_binary_messages_are_delivered(void) {
    unsigned char in[64];
    size_t n = frame(in, 1, WS_OP_TEXT, "", 0);
    n += frame(in + n, 1, WS_OP_BINARY, "", 0);
    n += frame(in + n, 0, WS_OP_TEXT, "", 0);
    n += frame(in + n, 0, WS_OP_CONT, "", 0);
    n += frame(in + n, 1, WS_OP_CONT, "", 0);
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 1024, &r));
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 3);
    CHECK_EQ_INT(r.ev[0].op, WS_OP_TEXT);
    CHECK_EQ_INT(r.ev[0].len, 0);
    CHECK_EQ_INT(r.ev[1].op, WS_OP_BINARY);
    CHECK_EQ_INT(r.ev[1].len, 0);
    CHECK_EQ_INT(r.ev[2].op, WS_OP_TEXT);
    CHECK_EQ_INT(r.ev[2].len, 0);
    result_free(&r);
}

static void empty_feed_consumes_nothing_and_succeeds(void) {
    ws_parser_t p;
    ws_parser_init(&p, 10);
    result_t r = {0};
    unsigned char b = 0;
    CHECK_EQ_INT(ws_parser_feed(&p, &b, 0, collect, &r), 0);
    CHECK_EQ_INT(r.n, 0);
    CHECK(ws_parser_idle(&p));
}

static void callback_stop_is_returned_and_parser_resumes_at_next_frame(void) {
    unsigned char in[64];
    size_t n1 = frame(in, 1, WS_OP_TEXT, "one", 3);
    size_t n = n1 + frame(in + n1, 1, WS_OP_TEXT, "two", 3);
    ws_parser_t p;
    ws_parser_init(&p, 1024);
    result_t r = {0};
    r.stop_after = 1;
    CHECK_EQ_INT(ws_parser_feed(&p, in, n, collect, &r), 7);
    CHECK_EQ_INT(r.n, 1);
    CHECK(ws_parser_idle(&p));
    r.stop_after = 0;
    CHECK_EQ_INT(ws_parser_feed(&p, in + n1, n - n1, collect, &r), 0);
    CHECK_EQ_INT(r.n, 2);
    CHECK_MEM(r.ev[1].data, r.ev[1].len, "two", 3);
    ws_parser_free(&p);
    result_free(&r);
}

static void unmasking_is_right_at_every_alignment_and_phase(void) {
    /* Payloads of many lengths, cut at odd places, so the word-at-a-time
     * unmasking starts at every address alignment and mask phase. */
    static unsigned char payload[300], in[400];
    int bad = 0;
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (unsigned char)(i * 31 + 5);
    for (size_t len = 0; len < 140; len += 7) {
        for (size_t off = 0; off < 8; off++) {
            size_t n = frame_ex(in + off, 1, 0, WS_OP_BINARY, payload, len, KEY, 0);
            for (size_t cut = 0; cut <= n; cut += 3) {
                result_t r = {0};
                ws_parser_t p;
                unsigned char *b = in + off;
                unsigned char copy[400];
                memcpy(copy, b, n);
                ws_parser_init(&p, 1024);
                ws_parser_feed(&p, b, cut, collect, &r);
                ws_parser_feed(&p, b + cut, n - cut, collect, &r);
                if (r.n != 1 || r.ev[0].len != len || memcmp(r.ev[0].data, payload, len)) bad++;
                memcpy(b, copy, n);
                ws_parser_free(&p);
                result_free(&r);
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
}

/* ---- framing rules ----------------------------------------------------- */

static void unmasked_client_frame_answers_1002(void) {
    unsigned char in[16];
    size_t n = frame_ex(in, 1, 0, WS_OP_BINARY, "x", 1, NULL, 0);
    expect_error(in, n, WS_EPROTO, 1002);
    n = frame_ex(in, 1, 0, WS_OP_CLOSE, NULL, 0, NULL, 0);
    expect_error(in, n, WS_EPROTO, 1002);
}

static void reserved_bits_answer_1002(void) {
    for (int rsv = 1; rsv <= 7; rsv++) {
        unsigned char in[16];
        size_t n = frame_ex(in, 1, rsv, WS_OP_TEXT, "x", 1, KEY, 0);
        expect_error(in, n, WS_EPROTO, 1002);
        n = frame_ex(in, 1, rsv, WS_OP_PING, "", 0, KEY, 0);
        expect_error(in, n, WS_EPROTO, 1002);
    }
}

static void reserved_opcodes_answer_1002(void) {
    int ops[] = {3, 4, 5, 6, 7, 11, 12, 13, 14, 15};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        unsigned char in[16];
        size_t n = frame_ex(in, 1, 0, ops[i], "x", 1, KEY, 0);
        expect_error(in, n, WS_EPROTO, 1002);
        n = frame_ex(in, 0, 0, ops[i], "", 0, KEY, 0);
        expect_error(in, n, WS_EPROTO, 1002);
    }
}

static void fragmented_control_frame_answers_1002(void) {
    int ops[] = {WS_OP_PING, WS_OP_PONG, WS_OP_CLOSE};
    for (int i = 0; i < 3; i++) {
        unsigned char in[16];
        size_t n = frame_ex(in, 0, 0, ops[i], "ab", 2, KEY, 0);
        expect_error(in, n, WS_EPROTO, 1002);
    }
}

static void control_frame_of_126_bytes_answers_1002(void) {
    static unsigned char pl[126], in[200];
    memset(pl, 'p', sizeof pl);
    size_t n = frame(in, 1, WS_OP_PING, pl, 126);
    expect_error(in, n, WS_EPROTO, 1002);
    /* refused from the first two bytes, before the length is read */
    ws_parser_t p;
    ws_parser_init(&p, 1024);
    result_t r = {0};
    CHECK_EQ_INT(ws_parser_feed(&p, in, 2, collect, &r), WS_EPROTO);
    /* and the 16-bit form of a short length is refused too */
    n = frame_ex(in, 1, 0, WS_OP_PING, pl, 100, KEY, 16);
    expect_error(in, n, WS_EPROTO, 1002);
}

static void ping_of_125_bytes_is_delivered(void) {
    static unsigned char pl[125], in[200];
    for (int i = 0; i < 125; i++) pl[i] = (unsigned char)i;
    size_t n = frame(in, 1, WS_OP_PING, pl, 125);
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 16, &r));  /* cap is for data only */
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.ev[0].op, WS_OP_PING);
    CHECK_MEM(r.ev[0].data, r.ev[0].len, pl, 125);
    result_free(&r);
}

static void non_minimal_16_bit_length_answers_1002(void) {
    unsigned char in[200];
    size_t n = frame_ex(in, 1, 0, WS_OP_BINARY, "abc", 3, KEY, 16);
    expect_error(in, n, WS_EPROTO, 1002);
    static unsigned char pl[126];
    n = frame_ex(in, 1, 0, WS_OP_BINARY, pl, 125, KEY, 16);
    expect_error(in, n, WS_EPROTO, 1002);
    n = frame_ex(in, 1, 0, WS_OP_BINARY, pl, 126, KEY, 16); /* minimal: ok */
    result_t r = {0};
    run_whole(&r, in, n, 1024);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 1);
    result_free(&r);
}

static void non_minimal_64_bit_length_answers_1002(void) {
    static unsigned char pl[65536], in[65536 + 20];
    size_t n = frame_ex(in, 1, 0, WS_OP_BINARY, "abc", 3, KEY, 64);
    expect_error(in, n, WS_EPROTO, 1002);
    n = frame_ex(in, 1, 0, WS_OP_BINARY, pl, 65535, KEY, 64);
    result_t r = {0};
    run_whole(&r, in, n, 1 << 20);
    CHECK_EQ_INT(r.rc, WS_EPROTO);
    CHECK_EQ_INT(r.n, 0);
    result_free(&r);
    n = frame_ex(in, 1, 0, WS_OP_BINARY, pl, 65536, KEY, 64);  /* minimal */
    run_whole(&r, in, n, 1 << 20);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 1);
    result_free(&r);
}

static void length_with_top_bit_set_answers_1002(void) {
    unsigned char in[16];
    size_t n = frame_ex(in, 1, 0, WS_OP_BINARY, NULL, 0x8000000000000001ull, KEY, 64);
    expect_error(in, n, WS_EPROTO, 1002);
}

static void continuation_without_open_message_answers_1002(void) {
    unsigned char in[32];
    size_t n = frame(in, 1, WS_OP_CONT, "x", 1);
    expect_error(in, n, WS_EPROTO, 1002);
    n = frame(in, 1, WS_OP_TEXT, "a", 1);     /* after a complete message */
    n += frame(in + n, 1, WS_OP_CONT, "b", 1);
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 1024, &r));
    CHECK_EQ_INT(r.rc, WS_EPROTO);
    CHECK_EQ_INT(r.n, 1);
    result_free(&r);
}

static void new_data_frame_inside_open_message_answers_1002(void) {
    unsigned char in[32];
    size_t n = frame(in, 0, WS_OP_TEXT, "a", 1);
    n += frame(in + n, 1, WS_OP_TEXT, "b", 1);
    expect_error(in, n, WS_EPROTO, 1002);
    n = frame(in, 0, WS_OP_BINARY, "a", 1);
    n += frame(in + n, 0, WS_OP_TEXT, "b", 1);
    expect_error(in, n, WS_EPROTO, 1002);
}

static void control_frames_inside_a_fragmented_message_are_delivered_at_once(void) {
    unsigned char in[128];
    size_t n = frame(in, 0, WS_OP_TEXT, "frag", 4);
    n += frame(in + n, 1, WS_OP_PING, "p1", 2);
    n += frame(in + n, 0, WS_OP_CONT, "ment", 4);
    n += frame(in + n, 1, WS_OP_PONG, "", 0);
    n += frame(in + n, 1, WS_OP_CONT, "ed", 2);
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 1024, &r));
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 3);
    CHECK_EQ_INT(r.ev[0].op, WS_OP_PING);
    CHECK_MEM(r.ev[0].data, r.ev[0].len, "p1", 2);
    CHECK_EQ_INT(r.ev[1].op, WS_OP_PONG);
    CHECK_EQ_INT(r.ev[2].op, WS_OP_TEXT);
    CHECK_MEM(r.ev[2].data, r.ev[2].len, "fragmented", 10);
    CHECK(r.idle);
    result_free(&r);
}

/* ---- size cap ---------------------------------------------------------- */

static void message_over_cap_answers_1009_from_the_header(void) {
    unsigned char in[16];
    /* only the header of a 4097-byte frame: refused before any payload */
    size_t n = frame_ex(in, 1, 0, WS_OP_TEXT, NULL, 4097, KEY, 0);
    ws_parser_t p;
    ws_parser_init(&p, 4096);
    result_t r = {0};
    CHECK_EQ_INT(ws_parser_feed(&p, in, n, collect, &r), WS_ETOOBIG);
    CHECK_EQ_INT(p.close_code, 1009);
    CHECK(p.msg == NULL);
    CHECK_EQ_INT(r.n, 0);
    ws_parser_free(&p);
    /* a huge declared length is refused the same way */
    n = frame_ex(in, 1, 0, WS_OP_BINARY, NULL, 0x7FFFFFFFFFFFFFFFull, KEY, 0);
    ws_parser_init(&p, 4096);
    CHECK_EQ_INT(ws_parser_feed(&p, in, n, collect, &r), WS_ETOOBIG);
    ws_parser_free(&p);
}

static void message_of_exactly_the_cap_is_delivered(void) {
    static unsigned char pl[101], in[200];
    memset(pl, 'a', sizeof pl);
    size_t n = frame(in, 1, WS_OP_TEXT, pl, 100);
    result_t r = {0};
    run_whole(&r, in, n, 100);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 1);
    result_free(&r);
    n = frame(in, 1, WS_OP_TEXT, pl, 101);
    run_whole(&r, in, n, 100);
    CHECK_EQ_INT(r.rc, WS_ETOOBIG);
    CHECK_EQ_INT(r.close_code, 1009);
    result_free(&r);
}

static void fragments_summing_over_cap_answer_1009(void) {
    static unsigned char pl[60], in[300];
    memset(pl, 'a', sizeof pl);
    size_t n = frame(in, 0, WS_OP_TEXT, pl, 60);
    n += frame(in + n, 0, WS_OP_CONT, pl, 40);    /* 100: at the cap */
    size_t ok_len = n;
    n += frame(in + n, 1, WS_OP_CONT, pl, 1);     /* 101: over */
    expect_error_max(in, n, 100, WS_ETOOBIG, 1009);
    n = ok_len + frame(in + ok_len, 1, WS_OP_CONT, "", 0);
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 100, &r));
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.ev[0].len, 100);
    result_free(&r);
}

/* ---- UTF-8 ------------------------------------------------------------- */

static void text_with_invalid_utf8_answers_1007(void) {
    unsigned char in[64];
    size_t n = frame(in, 1, WS_OP_TEXT, "ab\xc0\xafz", 5);
    expect_error(in, n, WS_EUTF8, 1007);
    n = frame(in, 1, WS_OP_TEXT, "\xed\xa0\x80", 3);
    expect_error(in, n, WS_EUTF8, 1007);
}

static void binary_with_invalid_utf8_is_delivered(void) {
    unsigned char in[64];
    size_t n = frame(in, 1, WS_OP_BINARY, "\xff\xfe\xc0", 3);
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 1024, &r));
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 1);
    result_free(&r);
}

static void invalid_utf8_fails_fast_before_the_frame_ends(void) {
    /* a 100-byte text frame whose 5th byte is invalid: the error comes with
     * the first 10 payload bytes, not after all 100 */
    static unsigned char pl[100], in[200];
    memset(pl, 'a', sizeof pl);
    pl[4] = 0xFF;
    size_t n = frame(in, 1, WS_OP_TEXT, pl, 100);
    ws_parser_t p;
    ws_parser_init(&p, 1024);
    result_t r = {0};
    CHECK_EQ_INT(n, 106);
    CHECK_EQ_INT(ws_parser_feed(&p, in, 6 + 10, collect, &r), WS_EUTF8);
    CHECK_EQ_INT(p.close_code, 1007);
    CHECK(p.msg == NULL);
    ws_parser_free(&p);
}

static void invalid_utf8_fails_fast_in_a_non_final_fragment(void) {
    unsigned char in[64];
    size_t n = frame(in, 0, WS_OP_TEXT, "ok\xf4\x90", 4);   /* > U+10FFFF */
    ws_parser_t p;
    ws_parser_init(&p, 1024);
    result_t r = {0};
    CHECK_EQ_INT(ws_parser_feed(&p, in, n, collect, &r), WS_EUTF8);
    CHECK_EQ_INT(p.close_code, 1007);
    ws_parser_free(&p);
}

static void utf8_sequence_split_across_fragments_is_valid(void) {
    /* Autobahn 6.2.x: valid text fragmented at every byte */
    const char *text = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!";
    size_t tl = strlen(text);
    int bad = 0;
    for (size_t cut = 0; cut <= tl; cut++) {
        unsigned char in[128];
        size_t n = frame(in, 0, WS_OP_TEXT, text, cut);
        n += frame(in + n, 1, WS_OP_CONT, text + cut, tl - cut);
        result_t r = {0};
        run_whole(&r, in, n, 1024);
        if (r.rc != 0 || r.n != 1 || r.ev[0].len != tl || memcmp(r.ev[0].data, text, tl)) bad++;
        result_free(&r);
    }
    CHECK_EQ_INT(bad, 0);
}

static void text_ending_inside_a_character_answers_1007(void) {
    unsigned char in[64];
    size_t n = frame(in, 0, WS_OP_TEXT, "ab\xe2\x82", 4);
    n += frame(in + n, 1, WS_OP_CONT, "", 0);
    expect_error(in, n, WS_EUTF8, 1007);
    n = frame(in, 1, WS_OP_TEXT, "\xce", 1);
    expect_error(in, n, WS_EUTF8, 1007);
}

static void autobahn_6_x_invalid_vectors_answer_1007_split_in_fragments(void) {
    static const char *bad[] = {
        "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", /* 6.3.1 */
        "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", "\xf4\x90\x80\x80",
        "\x80", "\xbf", "\x80\xbf\x80", "\xc0\x20", "\xe0\x80\x20", "\xfe", "\xff",
        "\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xed\xbf\xbf",
        "\xed\xa0\x80\xed\xb0\x80", "\xef\xbf\xbf\xed\xa0\x80", "\xc2",
    };
    int wrong = 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t tl = strlen(bad[i]);
        for (size_t cut = 0; cut <= tl; cut++) {
            unsigned char in[128];
            size_t n = frame(in, 0, WS_OP_TEXT, bad[i], cut);
            n += frame(in + n, 1, WS_OP_CONT, bad[i] + cut, tl - cut);
            result_t r = {0};
            run_whole(&r, in, n, 1024);
            if (r.rc != WS_EUTF8 || r.close_code != 1007 || r.n != 0) wrong++;
            result_free(&r);
        }
    }
    CHECK_EQ_INT(wrong, 0);
}

/* ---- close frames ------------------------------------------------------ */

static void empty_close_is_delivered(void) {
    unsigned char in[16];
    size_t n = frame(in, 1, WS_OP_CLOSE, "", 0);
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 1024, &r));
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.ev[0].op, WS_OP_CLOSE);
    CHECK_EQ_INT(r.ev[0].len, 0);
    result_free(&r);
}

static void close_with_code_and_reason_is_delivered(void) {
    unsigned char in[64];
    size_t n = frame(in, 1, WS_OP_CLOSE, "\x03\xe8" "bye \xc2\xb5", 8);
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 1024, &r));
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 1);
    CHECK_MEM(r.ev[0].data, r.ev[0].len, "\x03\xe8" "bye \xc2\xb5", 8);
    result_free(&r);
}

static void close_with_payload_length_1_answers_1002(void) {
    unsigned char in[16];
    size_t n = frame(in, 1, WS_OP_CLOSE, "\x03", 1);
    expect_error(in, n, WS_EPROTO, 1002);
}

static void close_with_invalid_code_answers_1002(void) {
    unsigned codes[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        unsigned char pl[2] = {(unsigned char)(codes[i] >> 8), (unsigned char)codes[i]};
        unsigned char in[16];
        size_t n = frame(in, 1, WS_OP_CLOSE, pl, 2);
        expect_error(in, n, WS_EPROTO, 1002);
    }
}

static void close_with_valid_codes_is_delivered(void) {
    unsigned codes[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                        1012, 1013, 1014, 3000, 3999, 4000, 4999};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        unsigned char pl[2] = {(unsigned char)(codes[i] >> 8), (unsigned char)codes[i]};
        unsigned char in[16];
        size_t n = frame(in, 1, WS_OP_CLOSE, pl, 2);
        result_t r = {0};
        run_whole(&r, in, n, 1024);
        CHECK_EQ_INT(r.rc, 0);
        CHECK_EQ_INT(r.n, 1);
        result_free(&r);
    }
}

static void close_reason_not_utf8_answers_1007(void) {
    unsigned char in[16];
    size_t n = frame(in, 1, WS_OP_CLOSE, "\x03\xe8\xce\xba\xed\xa0\x80", 7);
    expect_error(in, n, WS_EUTF8, 1007);
}

static void bytes_after_close_are_ignored(void) {
    unsigned char in[64];
    size_t n = frame(in, 1, WS_OP_CLOSE, "\x03\xe8", 2);
    n += frame(in + n, 1, WS_OP_TEXT, "late", 4);
    in[n++] = 0xFF;                              /* even garbage */
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 1024, &r));
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.ev[0].op, WS_OP_CLOSE);
    result_free(&r);
}

static void error_is_sticky_for_later_feeds(void) {
    unsigned char bad[16], good[16];
    size_t nb = frame_ex(bad, 1, 1, WS_OP_TEXT, "x", 1, KEY, 0);
    size_t ng = frame(good, 1, WS_OP_TEXT, "x", 1);
    ws_parser_t p;
    ws_parser_init(&p, 1024);
    result_t r = {0};
    CHECK_EQ_INT(ws_parser_feed(&p, bad, nb, collect, &r), WS_EPROTO);
    CHECK_EQ_INT(ws_parser_feed(&p, good, ng, collect, &r), WS_EPROTO);
    CHECK_EQ_INT(r.n, 0);
    CHECK_EQ_INT(p.close_code, 1002);
    ws_parser_free(&p);
}

static void close_code_valid_follows_rfc_6455_7_4(void) {
    int n_valid = 0;
    for (unsigned c = 0; c < 65536; c++) n_valid += ws_close_code_valid((uint16_t)c);
    /* 1000-1003, 1007-1014, 3000-4999 */
    CHECK_EQ_INT(n_valid, 4 + 8 + 2000);
    CHECK(!ws_close_code_valid(1004));
    CHECK(!ws_close_code_valid(1005));
    CHECK(!ws_close_code_valid(1006));
    CHECK(!ws_close_code_valid(1015));
    CHECK(ws_close_code_valid(1013));
}

/* ---- a long multi-frame stream, every split ---------------------------- */

static void mixed_stream_gives_identical_results_at_every_split(void) {
    static unsigned char pl[300], in[1024];
    for (size_t i = 0; i < sizeof pl; i++) pl[i] = (unsigned char)('a' + i % 26);
    size_t n = 0;
    n += frame(in + n, 1, WS_OP_TEXT, "{\"type\":\"ping\",\"req\":1}", 23);
    n += frame(in + n, 0, WS_OP_TEXT, "\xce\xba\xe1", 3);
    n += frame(in + n, 1, WS_OP_PING, "mid", 3);
    n += frame(in + n, 0, WS_OP_CONT, "\xbd\xb9", 2);
    n += frame(in + n, 1, WS_OP_CONT, "\xcf\x83", 2);
    n += frame(in + n, 1, WS_OP_BINARY, pl, 130);
    n += frame(in + n, 1, WS_OP_PONG, pl, 125);
    n += frame(in + n, 0, WS_OP_BINARY, pl, 200);
    n += frame(in + n, 1, WS_OP_CONT, pl, 100);
    n += frame(in + n, 1, WS_OP_CLOSE, "\x03\xe9" "gone", 6);
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 4096, &r));
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.n, 7);
    CHECK_EQ_INT(r.ev[1].op, WS_OP_PING);
    CHECK_MEM(r.ev[2].data, r.ev[2].len, "\xce\xba\xe1\xbd\xb9\xcf\x83", 7);
    CHECK_EQ_INT(r.ev[3].len, 130);
    CHECK_EQ_INT(r.ev[4].op, WS_OP_PONG);
    CHECK_EQ_INT(r.ev[5].len, 300);
    CHECK_EQ_INT(r.ev[6].op, WS_OP_CLOSE);
    result_free(&r);
}

static void failing_stream_gives_identical_errors_at_every_split(void) {
    unsigned char in[256];
    size_t n = 0;
    n += frame(in + n, 1, WS_OP_TEXT, "one", 3);
    n += frame(in + n, 0, WS_OP_TEXT, "tw", 2);
    n += frame(in + n, 1, WS_OP_PING, "", 0);
    n += frame(in + n, 1, WS_OP_CONT, "o\xff", 2);
    n += frame(in + n, 1, WS_OP_TEXT, "never", 5);
    result_t r = {0};
    CHECK(same_at_every_split(in, n, 1024, &r));
    CHECK_EQ_INT(r.rc, WS_EUTF8);
    CHECK_EQ_INT(r.n, 2);
    result_free(&r);
}

/* ---- handshake --------------------------------------------------------- */

static ws_upgrade_t upgrade(const char *key, const char *version,
                            const char *up, const char *conn) {
    ws_upgrade_t u = {key, key ? strlen(key) : 0, version, version ? strlen(version) : 0,
                      up, up ? strlen(up) : 0, conn, conn ? strlen(conn) : 0};
    return u;
}

#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="

static void rfc_6455_1_3_accept_key_example(void) {
    char out[WS_ACCEPT_LEN + 1];
    CHECK_EQ_INT(ws_accept_key(RFC_KEY, strlen(RFC_KEY), out), 0);
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_EQ_INT(strlen(out), WS_ACCEPT_LEN);
}

static void valid_upgrade_request_is_accepted(void) {
    ws_upgrade_t u = upgrade(RFC_KEY, "13", "websocket", "Upgrade");
    CHECK_EQ_INT(ws_upgrade_check(&u), 0);
    u = upgrade(" " RFC_KEY " ", " 13\t", "WebSocket", "keep-alive, Upgrade");
    CHECK_EQ_INT(ws_upgrade_check(&u), 0);
    u = upgrade(RFC_KEY, "13", "h2c,websocket", "upgrade,keep-alive");
    CHECK_EQ_INT(ws_upgrade_check(&u), 0);
}

static void version_other_than_13_answers_eversion(void) {
    const char *bad[] = {"8", "12", "130", "1 3", "", "13,8", "0013"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ws_upgrade_t u = upgrade(RFC_KEY, bad[i], "websocket", "Upgrade");
        CHECK_EQ_INT(ws_upgrade_check(&u), WS_EVERSION);
    }
    ws_upgrade_t u = upgrade(RFC_KEY, NULL, "websocket", "Upgrade");
    CHECK_EQ_INT(ws_upgrade_check(&u), WS_EVERSION);
}

static void key_not_base64_of_16_bytes_answers_ebadkey(void) {
    const char *bad[] = {
        "",
        "dGhlIHNhbXBsZSBub25jZQ=",       /* 23 chars */
        "dGhlIHNhbXBsZSBub25jZQ===",     /* 25 chars */
        "dGhlIHNhbXBsZSBub25jZQ",        /* unpadded */
        "dGhlIHNhbXBsZSBub25j",          /* 15 bytes */
        "dGhlIHNhbXBsZSBub25jZSE=",      /* 17 bytes */
        "dGhlIHNhbXBsZSBub25jZR==",      /* non-zero unused bits */
        "dGhlIHNhbXBsZSBub2*jZQ==",      /* not base64 */
        "dGhlIHNhbXBs ZSBub25jZQ==",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ws_upgrade_t u = upgrade(bad[i], "13", "websocket", "Upgrade");
        CHECK_EQ_INT(ws_upgrade_check(&u), WS_EBADKEY);
    }
    ws_upgrade_t u = upgrade(NULL, "13", "websocket", "Upgrade");
    CHECK_EQ_INT(ws_upgrade_check(&u), WS_EBADKEY);
    u = upgrade("AAAAAAAAAAAAAAAAAAAAAA==", "13", "websocket", "Upgrade");
    CHECK_EQ_INT(ws_upgrade_check(&u), 0);  /* 16 zero bytes is a key */
}

static void missing_upgrade_or_connection_token_answers_enotupgrade(void) {
    ws_upgrade_t u = upgrade(RFC_KEY, "13", NULL, "Upgrade");
    CHECK_EQ_INT(ws_upgrade_check(&u), WS_ENOTUPGRADE);
    u = upgrade(RFC_KEY, "13", "websocket", NULL);
    CHECK_EQ_INT(ws_upgrade_check(&u), WS_ENOTUPGRADE);
    u = upgrade(RFC_KEY, "13", "websockets", "Upgrade");
    CHECK_EQ_INT(ws_upgrade_check(&u), WS_ENOTUPGRADE);
    u = upgrade(RFC_KEY, "13", "websocket", "keep-alive");
    CHECK_EQ_INT(ws_upgrade_check(&u), WS_ENOTUPGRADE);
    u = upgrade(NULL, NULL, NULL, NULL);   /* a plain GET: not an upgrade */
    CHECK_EQ_INT(ws_upgrade_check(&u), WS_ENOTUPGRADE);
}

static void header_token_matches_whole_list_elements_case_insensitively(void) {
#define HAS(v, t) ws_header_has_token(v, strlen(v), t)
    CHECK(HAS("upgrade", "upgrade"));
    CHECK(HAS("UPGRADE", "upgrade"));
    CHECK(HAS("keep-alive, Upgrade", "upgrade"));
    CHECK(HAS("keep-alive,Upgrade", "upgrade"));
    CHECK(HAS("Upgrade ,keep-alive", "upgrade"));
    CHECK(HAS(" \tUpgrade\t ", "upgrade"));
    CHECK(HAS(",,upgrade,,", "upgrade"));
    CHECK(!HAS("", "upgrade"));
    CHECK(!HAS(",", "upgrade"));
    CHECK(!HAS("upgraded", "upgrade"));
    CHECK(!HAS("xupgrade", "upgrade"));
    CHECK(!HAS("up grade", "upgrade"));
    CHECK(!HAS("keep-alive", "upgrade"));
    CHECK(!HAS("upgrade;q=1", "upgrade"));
    /* the length bounds the value: no reading past it */
    CHECK(!ws_header_has_token("upgradeX", 6, "upgrade"));
    CHECK(ws_header_has_token("upgradeX", 7, "upgrade"));
#undef HAS
}

/* ---- encoder ----------------------------------------------------------- */

static void frame_header_size_boundaries(void) {
    CHECK_EQ_INT(ws_frame_header_size(0), 2);
    CHECK_EQ_INT(ws_frame_header_size(125), 2);
    CHECK_EQ_INT(ws_frame_header_size(126), 4);
    CHECK_EQ_INT(ws_frame_header_size(65535), 4);
    CHECK_EQ_INT(ws_frame_header_size(65536), 10);
    CHECK_EQ_INT(ws_frame_header_size(1ull << 40), 10);
}

static void frame_header_write_uses_minimal_unmasked_final_encoding(void) {
    unsigned char h[WS_FRAME_HEADER_MAX];
    CHECK_EQ_INT(ws_frame_header_write(h, WS_OP_TEXT, 0), 2);
    CHECK_MEM(h, 2, "\x81\x00", 2);
    CHECK_EQ_INT(ws_frame_header_write(h, WS_OP_TEXT, 125), 2);
    CHECK_MEM(h, 2, "\x81\x7d", 2);
    CHECK_EQ_INT(ws_frame_header_write(h, WS_OP_BINARY, 126), 4);
    CHECK_MEM(h, 4, "\x82\x7e\x00\x7e", 4);
    CHECK_EQ_INT(ws_frame_header_write(h, WS_OP_TEXT, 65535), 4);
    CHECK_MEM(h, 4, "\x81\x7e\xff\xff", 4);
    CHECK_EQ_INT(ws_frame_header_write(h, WS_OP_TEXT, 65536), 10);
    CHECK_MEM(h, 10, "\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    CHECK_EQ_INT(ws_frame_header_write(h, WS_OP_TEXT, 0x0102030405060708ull), 10);
    CHECK_MEM(h, 10, "\x81\x7f\x01\x02\x03\x04\x05\x06\x07\x08", 10);
    CHECK_EQ_INT(ws_frame_header_write(h, WS_OP_PONG, 5), 2);
    CHECK_MEM(h, 2, "\x8a\x05", 2);
}

static void close_frame_carries_code_and_reason(void) {
    unsigned char f[WS_FRAME_HEADER_MAX + WS_CONTROL_MAX];
    size_t n = ws_close_frame(f, 1009, "too big");
    CHECK_MEM(f, n, "\x88\x09\x03\xf1too big", 11);
    n = ws_close_frame(f, 1000, NULL);
    CHECK_MEM(f, n, "\x88\x02\x03\xe8", 4);
    n = ws_close_frame(f, 0, "ignored");
    CHECK_MEM(f, n, "\x88\x00", 2);
    n = ws_close_frame(f, 1005, "");
    CHECK_MEM(f, n, "\x88\x00", 2);
}

static void close_frame_reason_is_cut_to_125_at_a_character_boundary(void) {
    unsigned char f[WS_FRAME_HEADER_MAX + WS_CONTROL_MAX];
    char reason[300];
    memset(reason, 'r', 200);
    reason[200] = '\0';
    size_t n = ws_close_frame(f, 1001, reason);
    CHECK_EQ_INT(n, 2 + 125);
    CHECK_EQ_INT(f[1], 125);
    /* 122 ASCII bytes then "é": 124 would not fit, so the é is dropped */
    memset(reason, 'r', 122);
    memcpy(reason + 122, "\xc3\xa9zz", 5);
    n = ws_close_frame(f, 1001, reason);
    CHECK_EQ_INT(f[1], 2 + 122);
    CHECK_EQ_INT(n, 2 + 2 + 122);
}

static void encoded_frames_decode_back_when_masked(void) {
    /* encoder and decoder agree on lengths at every size boundary */
    static unsigned char pl[65537], in[65537 + 20];
    size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 65537};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t h = ws_frame_header_write(in, WS_OP_BINARY, sizes[i]);
        CHECK_EQ_INT(h, ws_frame_header_size(sizes[i]));
        in[1] |= 0x80;                              /* make it a client frame */
        memset(in + h, 0, 4);                       /* zero mask */
        memset(in + h + 4, 'x', sizes[i]);
        memset(pl, 'x', sizes[i]);
        result_t r = {0};
        run_whole(&r, in, h + 4 + sizes[i], 1 << 20);
        CHECK_EQ_INT(r.rc, 0);
        CHECK_EQ_INT(r.n, 1);
        CHECK_MEM(r.ev[0].data, r.ev[0].len, pl, sizes[i]);
        result_free(&r);
    }
}

int main(void) {
    RUN(rfc_5_7_unmasked_hello_is_refused_1002);
    RUN(rfc_5_7_masked_hello_is_delivered);
    RUN(rfc_5_7_fragmented_hello_is_reassembled);
    RUN(rfc_5_7_masked_ping_and_pong_are_delivered);
    RUN(rfc_5_7_256_and_65536_byte_binary_messages_are_delivered);
    RUN(single_frame_inside_the_buffer_is_delivered_without_copy);
    RUN(split_message_is_buffered_then_buffer_is_freed);
    RUN(split_ping_is_held_then_its_buffer_is_freed);
    RUN(split_close_with_bad_code_frees_its_buffer);
    RUN(partial_header_and_open_message_are_not_idle);
    RUN(empty_text_and_binary_messages_are_delivered);
    RUN(empty_feed_consumes_nothing_and_succeeds);
    RUN(callback_stop_is_returned_and_parser_resumes_at_next_frame);
    RUN(unmasking_is_right_at_every_alignment_and_phase);
    RUN(unmasked_client_frame_answers_1002);
    RUN(reserved_bits_answer_1002);
    RUN(reserved_opcodes_answer_1002);
    RUN(fragmented_control_frame_answers_1002);
    RUN(control_frame_of_126_bytes_answers_1002);
    RUN(ping_of_125_bytes_is_delivered);
    RUN(non_minimal_16_bit_length_answers_1002);
    RUN(non_minimal_64_bit_length_answers_1002);
    RUN(length_with_top_bit_set_answers_1002);
    RUN(continuation_without_open_message_answers_1002);
    RUN(new_data_frame_inside_open_message_answers_1002);
    RUN(control_frames_inside_a_fragmented_message_are_delivered_at_once);
    RUN(message_over_cap_answers_1009_from_the_header);
    RUN(message_of_exactly_the_cap_is_delivered);
    RUN(fragments_summing_over_cap_answer_1009);
    RUN(text_with_invalid_utf8_answers_1007);
    RUN(binary_with_invalid_utf8_is_delivered);
    RUN(invalid_utf8_fails_fast_before_the_frame_ends);
    RUN(invalid_utf8_fails_fast_in_a_non_final_fragment);
    RUN(utf8_sequence_split_across_fragments_is_valid);
    RUN(text_ending_inside_a_character_answers_1007);
    RUN(autobahn_6_x_invalid_vectors_answer_1007_split_in_fragments);
    RUN(empty_close_is_delivered);
    RUN(close_with_code_and_reason_is_delivered);
    RUN(close_with_payload_length_1_answers_1002);
    RUN(close_with_invalid_code_answers_1002);
    RUN(close_with_valid_codes_is_delivered);
    RUN(close_reason_not_utf8_answers_1007);
    RUN(bytes_after_close_are_ignored);
    RUN(error_is_sticky_for_later_feeds);
    RUN(close_code_valid_follows_rfc_6455_7_4);
    RUN(mixed_stream_gives_identical_results_at_every_split);
    RUN(failing_stream_gives_identical_errors_at_every_split);
    RUN(rfc_6455_1_3_accept_key_example);
    RUN(valid_upgrade_request_is_accepted);
    RUN(version_other_than_13_answers_eversion);
    RUN(key_not_base64_of_16_bytes_answers_ebadkey);
    RUN(missing_upgrade_or_connection_token_answers_enotupgrade);
    RUN(header_token_matches_whole_list_elements_case_insensitively);
    RUN(frame_header_size_boundaries);
    RUN(frame_header_write_uses_minimal_unmasked_final_encoding);
    RUN(close_frame_carries_code_and_reason);
    RUN(close_frame_reason_is_cut_to_125_at_a_character_boundary);
    RUN(encoded_frames_decode_back_when_masked);
    return T_DONE();
}
