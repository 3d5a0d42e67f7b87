/* HTTP/1.1 requests: limits with the right status, only the headers
 * heraldd uses kept, and request bytes copied only while a request is
 * unfinished. Also the one place responses are formatted. The parser
 * underneath (http_parser) is named only in http.c, so replacing it is a
 * one-file change. */
#ifndef HERALD_HTTP_H
#define HERALD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct http_limits {
    size_t max_url;          /* 414 */
    size_t max_header_count; /* 431 */
    size_t max_header_bytes; /* 431 */
    size_t max_body;         /* 413 */
} http_limits_t;

/* The headers heraldd looks at; the others are counted and skipped. */
enum {
    HTTP_H_UPGRADE, HTTP_H_CONNECTION, HTTP_H_WS_KEY, HTTP_H_WS_VERSION,
    HTTP_H_AUTHORIZATION, HTTP_H_LAST_EVENT_ID, HTTP_H_ORIGIN,
    HTTP_H_X_FORWARDED_FOR, HTTP_H_FORWARDED, HTTP_H_HOST, HTTP_H_EXPECT, HTTP_H_IDEMPOTENCY_KEY,
    HTTP_H_COUNT
};

/* Herald's own method set, as bits so a route can name several. */
enum {
    HTTP_M_OTHER = 0, HTTP_M_GET = 1, HTTP_M_HEAD = 2, HTTP_M_POST = 4,
    HTTP_M_PUT = 8, HTTP_M_DELETE = 16, HTTP_M_OPTIONS = 32,
};

/* Room for the parser's state, which only http.c sees (it checks the size). */
#define HTTP_PARSER_STATE 32

typedef struct http_span { uint32_t off, len; uint8_t set; } http_span_t;

typedef struct http_req {
    _Alignas(8) unsigned char parser[HTTP_PARSER_STATE];
    const http_limits_t *lim;
    char *mem;                /* URL, kept header values and body */
    size_t len, cap;
    http_span_t url, body, hdr[HTTP_H_COUNT];
    char hname[24];           /* the header name being read (cut) */
    uint8_t hname_len, hname_long, in_value;
    int8_t cur;               /* index of the kept header being read, or -1 */
    uint32_t header_count;
    size_t header_bytes;
    int status;               /* after an error: the status to answer */
    const char *reason;       /* ... and the one-line reason */
    uint8_t done;
    uint8_t sec_fetch;        /* a Sec-Fetch-* header came: sent by a browser */
    uint8_t expect_continue;  /* Expect: 100-continue with a body still to come */
} http_req_t;

enum { HTTP_REQ_AGAIN = 0, HTTP_REQ_DONE = 1, HTTP_REQ_ERROR = -1 };

void http_req_init(http_req_t *r, const http_limits_t *lim);
void http_req_free(http_req_t *r);

/* Feed bytes. Returns HTTP_REQ_AGAIN (all consumed, need more),
 * HTTP_REQ_DONE (one request complete; *consumed bytes used, the rest
 * belongs to the next request or, after an upgrade, to the WebSocket) or
 * HTTP_REQ_ERROR (r->status and r->reason say what to answer). */
int http_req_feed(http_req_t *r, const char *data, size_t len, size_t *consumed);

/* A kept header's value (NULL if absent) and the parts of the request. */
const char *http_req_header(const http_req_t *r, int h, size_t *len);
const char *http_req_url(const http_req_t *r, size_t *len);
const char *http_req_body(const http_req_t *r, size_t *len);
int http_req_method(const http_req_t *r);      /* HTTP_M_GET, HTTP_M_POST, ... */
int http_req_keep_alive(const http_req_t *r);
int http_req_upgrade(const http_req_t *r);

/* 1 when the request asked for "100 Continue" (RFC 9110 10.1.1) and its
 * body has not arrived yet: the caller answers it once, then clears
 * r->expect_continue. */
int http_req_wants_continue(const http_req_t *r);

/* The host part of a Host header value ("name", "name:port", "[v6]:port"),
 * lower-cased into out; 0, or -1 when it is malformed or too long. */
int http_host_name(const char *v, size_t len, char *out, size_t size);

/* The path part of a URL (before '?'), and the query (after, or NULL). */
void http_url_split(const char *url, size_t len, const char **path,
                    size_t *path_len, const char **query, size_t *query_len);

/* Percent-decode (and '+' as space if plus_space) into out, which must hold
 * len bytes. Returns the decoded length or -1 on a bad escape. */
long http_url_decode(const char *in, size_t len, char *out, int plus_space);

const char *http_status_text(int status);

/* v in decimal at out (at most 20 bytes, no terminator); its length. */
size_t http_u64_format(char *out, uint64_t v);

/* A whole response in one new buffer: status line, Content-Length,
 * Connection, optional extra header lines ("Name: value\r\n"...). With
 * head set, the body is counted in Content-Length but not sent (HEAD). */
buf_t *http_response(int status, const char *content_type, const char *extra,
                     const void *body, size_t body_len, int keep_alive, int head);

#endif
