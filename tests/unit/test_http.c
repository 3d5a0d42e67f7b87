/* Unit tests for daemon/http.c: requests split at every byte, each limit
 * answered with its status, pipelining, URL helpers, response format. */
#include "t.h"
#include "http.h"

#include <stdlib.h>

static const http_limits_t lim = {.max_url = 64, .max_header_count = 8,
                                  .max_header_bytes = 512, .max_body = 32};

/* Feed all of s in pieces of at most `piece` bytes; return the final code. */
static int feed_pieces(http_req_t *r, const char *s, size_t n, size_t piece, size_t *used_total) {
    size_t off = 0;
    int rc = HTTP_REQ_AGAIN;
    *used_total = 0;
    while (off < n) {
        size_t k = n - off < piece ? n - off : piece, used;
        rc = http_req_feed(r, s + off, k, &used);
        *used_total += used;
        if (rc != HTTP_REQ_AGAIN) return rc;
        off += k;
    }
    return rc;
}

static int status_of(const char *req) {
    http_req_t r;
    size_t used;
    http_req_init(&r, &lim);
    int rc = feed_pieces(&r, req, strlen(req), strlen(req), &used);
    int st = rc == HTTP_REQ_ERROR ? r.status : rc == HTTP_REQ_DONE ? 0 : -1;
    http_req_free(&r);
    return st;
}

static const char post[] =
    "POST /emit/orders?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer tok\r\n"
    "Content-Length: 11\r\nX-Other: zzz\r\n\r\nhello world";

static void check_post(http_req_t *r) {
    size_t n;
    const char *u = http_req_url(r, &n);
    CHECK_MEM(u, n, "/emit/orders?x=1", 16);
    const char *b = http_req_body(r, &n);
    CHECK_MEM(b, n, "hello world", 11);
    const char *a = http_req_header(r, HTTP_H_AUTHORIZATION, &n);
    CHECK(a != NULL);
    if (a) CHECK_MEM(a, n, "Bearer tok", 10);
    CHECK(http_req_header(r, HTTP_H_UPGRADE, &n) == NULL);
    CHECK_EQ_INT(http_req_method(r), HTTP_M_POST);
    CHECK(http_req_keep_alive(r));
}

static void post_in_one_piece_parses(void) {
    http_req_t r;
    size_t used;
    http_req_init(&r, &lim);
    CHECK_EQ_INT(feed_pieces(&r, post, sizeof(post) - 1, 4096, &used), HTTP_REQ_DONE);
    CHECK_EQ_INT(used, sizeof(post) - 1);
    check_post(&r);
    http_req_free(&r);
}

static void post_split_at_every_boundary_parses_the_same(void) {
    for (size_t cut = 1; cut < sizeof(post) - 1; cut++) {
        http_req_t r;
        size_t u1, u2;
        http_req_init(&r, &lim);
        int rc = http_req_feed(&r, post, cut, &u1);
        CHECK_EQ_INT(rc, HTTP_REQ_AGAIN);
        rc = http_req_feed(&r, post + cut, sizeof(post) - 1 - cut, &u2);
        CHECK_EQ_INT(rc, HTTP_REQ_DONE);
        check_post(&r);
        http_req_free(&r);
    }
}

static void post_byte_by_byte_parses(void) {
    http_req_t r;
    size_t used;
    http_req_init(&r, &lim);
    CHECK_EQ_INT(feed_pieces(&r, post, sizeof(post) - 1, 1, &used), HTTP_REQ_DONE);
    check_post(&r);
    http_req_free(&r);
}

static void long_url_is_414(void) {
    char req[256];
    snprintf(req, sizeof(req), "GET /%070d HTTP/1.1\r\n\r\n", 0);
    CHECK_EQ_INT(status_of(req), 414);
    snprintf(req, sizeof(req), "GET /%062d HTTP/1.1\r\n\r\n", 0); /* 63 bytes: fits */
    CHECK_EQ_INT(status_of(req), 0);
}

static void too_many_headers_is_431(void) {
    char req[1024] = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 9; i++) sprintf(req + strlen(req), "X-H%d: v\r\n", i);
    strcat(req, "\r\n");
    CHECK_EQ_INT(status_of(req), 431);
    char ok[1024] = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 8; i++) sprintf(ok + strlen(ok), "X-H%d: v\r\n", i);
    strcat(ok, "\r\n");
    CHECK_EQ_INT(status_of(ok), 0);
}

static void large_headers_are_431(void) {
    char req[2048];
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nX-Big: %0600d\r\n\r\n", 0);
    CHECK_EQ_INT(status_of(req), 431);
}

static void large_body_is_413_before_it_arrives(void) {
    CHECK_EQ_INT(status_of("POST /emit/a HTTP/1.1\r\nContent-Length: 33\r\n\r\n"), 413);
    CHECK_EQ_INT(status_of("POST /emit/a HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n"), 413);
}

static void large_chunked_body_is_413(void) {
    CHECK_EQ_INT(status_of("POST /emit/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "21\r\n123456789012345678901234567890123\r\n0\r\n\r\n"), 413);
    CHECK_EQ_INT(status_of("POST /emit/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "3\r\nabc\r\n0\r\n\r\n"), 0);
}

static void post_without_length_is_411(void) {
    CHECK_EQ_INT(status_of("POST /emit/a HTTP/1.1\r\nHost: x\r\n\r\n"), 411);
}

static void malformed_requests_are_400(void) {
    CHECK_EQ_INT(status_of("GARBAGE\r\n\r\n"), 400);
    CHECK_EQ_INT(status_of("GET / HTTP/9\r\n\r\n"), 400);
    CHECK_EQ_INT(status_of("GET / HTTP/1.1\r\nBad Header\r\n\r\n"), 400);
    CHECK_EQ_INT(status_of("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), 400);
}

static void pipelined_requests_come_out_one_by_one(void) {
    const char two[] = "GET /healthz HTTP/1.1\r\n\r\nPOST /emit/b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /x";
    http_req_t r;
    size_t used, n;
    http_req_init(&r, &lim);
    CHECK_EQ_INT(http_req_feed(&r, two, sizeof(two) - 1, &used), HTTP_REQ_DONE);
    CHECK_EQ_INT(used, 25);
    const char *u = http_req_url(&r, &n);
    CHECK_MEM(u, n, "/healthz", 8);
    http_req_free(&r);
    size_t off = used;
    http_req_init(&r, &lim);
    CHECK_EQ_INT(http_req_feed(&r, two + off, sizeof(two) - 1 - off, &used), HTTP_REQ_DONE);
    const char *b = http_req_body(&r, &n);
    CHECK_MEM(b, n, "hi", 2);
    http_req_free(&r);
    off += used;
    http_req_init(&r, &lim);
    CHECK_EQ_INT(http_req_feed(&r, two + off, sizeof(two) - 1 - off, &used), HTTP_REQ_AGAIN);
    http_req_free(&r);
}

static void upgrade_stops_at_the_end_of_headers(void) {
    const char req[] = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                       "\x81\x80";
    http_req_t r;
    size_t used, n;
    http_req_init(&r, &lim);
    CHECK_EQ_INT(http_req_feed(&r, req, sizeof(req) - 1, &used), HTTP_REQ_DONE);
    CHECK_EQ_INT(used, sizeof(req) - 3);
    CHECK(http_req_upgrade(&r));
    const char *k = http_req_header(&r, HTTP_H_WS_KEY, &n);
    CHECK(k != NULL);
    if (k) CHECK_MEM(k, n, "dGhlIHNhbXBsZSBub25jZQ==", 24);
    http_req_free(&r);
}

static void connection_close_is_not_keep_alive(void) {
    http_req_t r;
    size_t used;
    http_req_init(&r, &lim);
    const char req[] = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
    CHECK_EQ_INT(http_req_feed(&r, req, sizeof(req) - 1, &used), HTTP_REQ_DONE);
    CHECK(!http_req_keep_alive(&r));
    http_req_free(&r);
}

static void url_decode_and_split(void) {
    char out[64];
    CHECK_EQ_INT(http_url_decode("a%20b+c", 7, out, 0), 5);
    CHECK_MEM(out, 5, "a b+c", 5);
    CHECK_EQ_INT(http_url_decode("a%20b+c", 7, out, 1), 5);
    CHECK_MEM(out, 5, "a b c", 5);
    CHECK_EQ_INT(http_url_decode("%zz", 3, out, 0), -1);
    CHECK_EQ_INT(http_url_decode("%2", 2, out, 0), -1);
    CHECK_EQ_INT(http_url_decode("%", 1, out, 0), -1);
    CHECK_EQ_INT(http_url_decode("%ff", 3, out, 0), 1);
    const char *p, *q;
    size_t pl, ql;
    http_url_split("/sse?channel=a", 14, &p, &pl, &q, &ql);
    CHECK_MEM(p, pl, "/sse", 4);
    CHECK_MEM(q, ql, "channel=a", 9);
    http_url_split("/x", 2, &p, &pl, &q, &ql);
    CHECK(q == NULL);
    CHECK_EQ_INT(pl, 2);
}

static void response_has_length_and_connection(void) {
    buf_t *b = http_response(404, NULL, "Allow: GET\r\n", "nope\n", 5, 0, 0);
    const char want[] = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Content-Length: 5\r\nConnection: close\r\nAllow: GET\r\n\r\nnope\n";
    CHECK_MEM(b->data, b->len, want, sizeof(want) - 1);
    buf_unref(b);
}

/* Answers are assembled without snprintf: every status digit, long
 * lengths, HEAD (counted, not sent), and an extra header too long. */
static void response_bytes_for_every_shape(void) {
    buf_t *b = http_response(202, "application/json", NULL, "{}", 2, 1, 0);
    const char want[] = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                        "Content-Length: 2\r\nConnection: keep-alive\r\n\r\n{}";
    CHECK_MEM(b->data, b->len, want, sizeof(want) - 1);
    buf_unref(b);
    b = http_response(200, NULL, NULL, NULL, 1234567890, 1, 1);
    const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Content-Length: 1234567890\r\nConnection: keep-alive\r\n\r\n";
    CHECK_MEM(b->data, b->len, head, sizeof(head) - 1);
    buf_unref(b);
    b = http_response(503, NULL, "Retry-After: 1\r\n", "x", 1, 0, 1);
    const char none[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8"
                        "\r\nContent-Length: 1\r\nConnection: close\r\nRetry-After: 1\r\n\r\n";
    CHECK_MEM(b->data, b->len, none, sizeof(none) - 1);
    buf_unref(b);
    char extra[1100];
    memset(extra, 'a', sizeof(extra) - 1);
    extra[sizeof(extra) - 1] = '\0';
    CHECK(http_response(200, NULL, extra, "", 0, 1, 0) == NULL);
    char d[24];
    CHECK_MEM(d, http_u64_format(d, 0), "0", 1);
    CHECK_MEM(d, http_u64_format(d, 10), "10", 2);
    CHECK_MEM(d, http_u64_format(d, UINT64_MAX), "18446744073709551615", 20);
}

/* Host and Sec-Fetch-* are what the emit listener judges a request by:
 * kept however the request is cut, a Sec-Fetch-* of any name flagged. */
static void host_and_fetch_metadata_are_kept_in_any_pieces(void) {
    static const char req[] = "GET /stats HTTP/1.1\r\nhOsT: Example.COM:8080\r\n"
                              "Sec-Fetch-Dest: image\r\n\r\n";
    static const char plain[] = "GET /stats HTTP/1.1\r\nHost: localhost\r\nSec-Fetchx: 1\r\n"
                                "X-Sec-Fetch-Mode: a\r\n\r\n";
    static const char longname[] = "GET / HTTP/1.1\r\nSec-Fetch-Something-Very-Long-Name: x\r\n\r\n";
    for (size_t piece = 1; piece <= sizeof(req); piece++) {
        http_req_t r;
        size_t used, n;
        http_req_init(&r, &lim);
        CHECK_EQ_INT(feed_pieces(&r, req, sizeof(req) - 1, piece, &used), HTTP_REQ_DONE);
        const char *h = http_req_header(&r, HTTP_H_HOST, &n);
        CHECK(h != NULL);
        if (h) CHECK_MEM(h, n, "Example.COM:8080", 16);
        CHECK_EQ_INT(r.sec_fetch, 1);
        http_req_free(&r);
        http_req_init(&r, &lim);
        CHECK_EQ_INT(feed_pieces(&r, plain, sizeof(plain) - 1, piece, &used), HTTP_REQ_DONE);
        CHECK_EQ_INT(r.sec_fetch, 0);
        http_req_free(&r);
        http_req_init(&r, &lim); /* a name past the kept length, cut anywhere */
        CHECK_EQ_INT(feed_pieces(&r, longname, sizeof(longname) - 1, piece, &used), HTTP_REQ_DONE);
        CHECK_EQ_INT(r.sec_fetch, 1);
        http_req_free(&r);
    }
}

static void host_names_parse_without_port_or_brackets(void) {
    char out[64];
    CHECK_EQ_INT(http_host_name("Example.COM:8080", 16, out, sizeof(out)), 0);
    CHECK_STR(out, "example.com");
    CHECK_EQ_INT(http_host_name(" localhost ", 11, out, sizeof(out)), 0);
    CHECK_STR(out, "localhost");
    CHECK_EQ_INT(http_host_name("[::1]:26300", 11, out, sizeof(out)), 0);
    CHECK_STR(out, "::1");
    CHECK_EQ_INT(http_host_name("[::1]", 5, out, sizeof(out)), 0);
    CHECK_STR(out, "::1");
    CHECK_EQ_INT(http_host_name("127.0.0.1:", 10, out, sizeof(out)), 0); /* empty port */
    CHECK_STR(out, "127.0.0.1");
    const char *bad[] = {"", " ", ":80", "[]", "[::1", "[::1]x", "::1", "a:b", "a:123456",
                         "a b", "a/b", "user@host", "[a]]", "h\x7f"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(http_host_name(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
    char longname[80];
    memset(longname, 'a', sizeof(longname));
    CHECK_EQ_INT(http_host_name(longname, sizeof(longname), out, sizeof(out)), -1);
}

/* RFC 9110 10.1.1: a client that sent Expect: 100-continue waits for the
 * 100 before the body; once the body is here nothing is owed. */
static void expect_continue_is_flagged_until_the_body_arrives(void) {
    static const char head[] = "POST /emit/a HTTP/1.1\r\nExpect: 100-Continue \r\nContent-Length: 3\r\n\r\n";
    http_req_t r;
    size_t used;
    http_req_init(&r, &lim);
    CHECK_EQ_INT(http_req_feed(&r, head, sizeof(head) - 1, &used), HTTP_REQ_AGAIN);
    CHECK_EQ_INT(http_req_wants_continue(&r), 1);
    CHECK_EQ_INT(http_req_feed(&r, "abc", 3, &used), HTTP_REQ_DONE);
    CHECK_EQ_INT(http_req_wants_continue(&r), 0);
    http_req_free(&r);
    static const char empty[] = "POST /emit/a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n";
    http_req_init(&r, &lim);
    CHECK_EQ_INT(http_req_feed(&r, empty, sizeof(empty) - 1, &used), HTTP_REQ_DONE);
    CHECK_EQ_INT(http_req_wants_continue(&r), 0);
    http_req_free(&r);
    static const char big[] = "POST /emit/a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 99\r\n\r\n";
    http_req_init(&r, &lim); /* over max_body: 413, no 100 */
    CHECK_EQ_INT(http_req_feed(&r, big, sizeof(big) - 1, &used), HTTP_REQ_ERROR);
    CHECK_EQ_INT(r.status, 413);
    CHECK_EQ_INT(http_req_wants_continue(&r), 0);
    http_req_free(&r);
}

int main(void) {
    RUN(post_in_one_piece_parses);
    RUN(post_split_at_every_boundary_parses_the_same);
    RUN(post_byte_by_byte_parses);
    RUN(long_url_is_414);
    RUN(too_many_headers_is_431);
    RUN(large_headers_are_431);
    RUN(large_body_is_413_before_it_arrives);
    RUN(large_chunked_body_is_413);
    RUN(post_without_length_is_411);
    RUN(malformed_requests_are_400);
    RUN(pipelined_requests_come_out_one_by_one);
    RUN(upgrade_stops_at_the_end_of_headers);
    RUN(connection_close_is_not_keep_alive);
    RUN(url_decode_and_split);
    RUN(response_has_length_and_connection);
    RUN(response_bytes_for_every_shape);
    RUN(host_and_fetch_metadata_are_kept_in_any_pieces);
    RUN(host_names_parse_without_port_or_brackets);
    RUN(expect_continue_is_flagged_until_the_body_arrives);
    return T_DONE();
}
