#include "http.h"

#include <http_parser.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* the headers a request keeps, with their lengths (compared first) */
#define HTTP_KEPT(name) {name, sizeof(name) - 1}
static const struct {
    const char *name;
    uint8_t len;
} http_kept[HTTP_H_COUNT] = {
    HTTP_KEPT("upgrade"), HTTP_KEPT("connection"), HTTP_KEPT("sec-websocket-key"),
    HTTP_KEPT("sec-websocket-version"), HTTP_KEPT("authorization"), HTTP_KEPT("last-event-id"),
    HTTP_KEPT("origin"), HTTP_KEPT("x-forwarded-for"), HTTP_KEPT("forwarded"), HTTP_KEPT("host"),
    HTTP_KEPT("expect"), HTTP_KEPT("idempotency-key"),
};

static int http_fail(http_req_t *r, int status, const char *reason) {
    if (r->status == 0) {
        r->status = status;
        r->reason = reason;
    }
    return 1; /* stops http_parser with a callback error */
}

/* Grow the request's memory with what arrived; the caller checked limits,
 * so this stays bounded by url + headers + body caps. */
static int http_append(http_req_t *r, http_span_t *s, const char *at, size_t n) {
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 512;
        while (cap < r->len + n) cap *= 2;
        char *m = realloc(r->mem, cap);
        if (m == NULL) return -1;
        r->mem = m;
        r->cap = cap;
    }
    if (!s->set) {
        s->set = 1;
        s->off = (uint32_t)r->len;
        s->len = 0;
    }
    memcpy(r->mem + r->len, at, n);
    r->len += n;
    s->len += (uint32_t)n;
    return 0;
}

_Static_assert(sizeof(http_parser) <= HTTP_PARSER_STATE, "HTTP_PARSER_STATE too small");

static http_parser *http_parser_of(http_req_t *r) { return (http_parser *)(void *)r->parser; }
static const http_parser *http_parser_const(const http_req_t *r) {
    return (const http_parser *)(const void *)r->parser;
}
static http_req_t *http_of(http_parser *p) { return (http_req_t *)p->data; }

static int http_on_url(http_parser *p, const char *at, size_t n) {
    http_req_t *r = http_of(p);
    if (r->url.len + n > r->lim->max_url)
        return http_fail(r, 414, "request URL too long");
    return http_append(r, &r->url, at, n) ? http_fail(r, 500, "out of memory") : 0;
}

static int http_header_bytes_add(http_req_t *r, size_t n) {
    r->header_bytes += n;
    if (r->header_bytes > r->lim->max_header_bytes)
        return http_fail(r, 431, "request headers too large");
    return 0;
}

static int http_on_header_field(http_parser *p, const char *at, size_t n) {
    http_req_t *r = http_of(p);
    if (r->in_value || r->header_count == 0) {
        /* a new header starts */
        r->in_value = 0;
        r->hname_len = 0;
        r->hname_long = 0;
        if (++r->header_count > r->lim->max_header_count)
            return http_fail(r, 431, "too many request headers");
    }
    if (http_header_bytes_add(r, n)) return 1;
    if (r->hname_len + n >= sizeof(r->hname)) {
        /* keep the prefix (Sec-Fetch-*), whatever pieces the name came in */
        size_t room = sizeof(r->hname) - 1 - r->hname_len;
        memcpy(r->hname + r->hname_len, at, room);
        r->hname_len = (uint8_t)(r->hname_len + room);
        r->hname_long = 1;
    } else {
        memcpy(r->hname + r->hname_len, at, n);
        r->hname_len = (uint8_t)(r->hname_len + n);
    }
    return 0;
}

static int http_on_header_value(http_parser *p, const char *at, size_t n) {
    http_req_t *r = http_of(p);
    if (!r->in_value) {
        r->in_value = 1;
        r->cur = -1;
        /* Sec-Fetch-Site, -Mode, -Dest, -User: only browsers send them
         * (Fetch Metadata); the name may be long, its prefix is kept. */
        if (r->hname_len >= 10 && strncasecmp(r->hname, "sec-fetch-", 10) == 0) r->sec_fetch = 1;
        if (!r->hname_long) {
            for (int i = 0; i < HTTP_H_COUNT; i++) {
                if (http_kept[i].len == r->hname_len &&
                    strncasecmp(http_kept[i].name, r->hname, r->hname_len) == 0) {
                    r->cur = (int8_t)i;
                    r->hdr[i].set = 0; /* a repeated header: the last wins */
                    break;
                }
            }
        }
    }
    if (http_header_bytes_add(r, n)) return 1;
    if (r->cur >= 0 && http_append(r, &r->hdr[r->cur], at, n))
        return http_fail(r, 500, "out of memory");
    return 0;
}

/* Here a non-zero return must be -1: http_parser reads 1 as "no body". */
static int http_on_headers_complete(http_parser *p) {
    http_req_t *r = http_of(p);
    int chunked = (p->flags & F_CHUNKED) != 0;
    int has_len = p->content_length != ULLONG_MAX;
    if (p->method == HTTP_POST && !chunked && !has_len)
        return -http_fail(r, 411, "a POST body needs Content-Length");
    if (has_len && p->content_length > r->lim->max_body)
        return -http_fail(r, 413, "request body too large");
    size_t en;
    const char *e = http_req_header(r, HTTP_H_EXPECT, &en);
    if (e && (chunked || (has_len && p->content_length > 0))) {
        while (en > 0 && (e[en - 1] == ' ' || e[en - 1] == '\t')) en--;
        if (en == 12 && strncasecmp(e, "100-continue", 12) == 0) r->expect_continue = 1;
    }
    return 0;
}

static int http_on_body(http_parser *p, const char *at, size_t n) {
    http_req_t *r = http_of(p);
    if (r->body.len + n > r->lim->max_body)
        return http_fail(r, 413, "request body too large");
    return http_append(r, &r->body, at, n) ? http_fail(r, 500, "out of memory") : 0;
}

/* Pause after each request, so pipelined requests are answered one by one
 * in order; an upgrade ends the parser's work by itself. */
static int http_on_message_complete(http_parser *p) {
    http_req_t *r = http_of(p);
    r->done = 1;
    r->expect_continue = 0; /* the body is here: nothing to wait for */
    if (!p->upgrade) http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings http_settings = {
    .on_url = http_on_url,
    .on_header_field = http_on_header_field,
    .on_header_value = http_on_header_value,
    .on_headers_complete = http_on_headers_complete,
    .on_body = http_on_body,
    .on_message_complete = http_on_message_complete,
};

void http_req_init(http_req_t *r, const http_limits_t *lim) {
    memset(r, 0, sizeof(*r));
    http_parser_init(http_parser_of(r), HTTP_REQUEST);
    http_parser_of(r)->data = r;
    r->lim = lim;
    r->cur = -1;
}

void http_req_free(http_req_t *r) {
    free(r->mem);
    r->mem = NULL;
    r->len = r->cap = 0;
}

int http_req_feed(http_req_t *r, const char *data, size_t len, size_t *consumed) {
    *consumed = 0;
    if (r->status) return HTTP_REQ_ERROR;
    if (r->done) return HTTP_REQ_DONE;
    http_parser *p = http_parser_of(r);
    size_t n = http_parser_execute(p, &http_settings, data, len);
    enum http_errno e = HTTP_PARSER_ERRNO(p);
    *consumed = n;
    if (r->done) {
        if (e == HPE_PAUSED) http_parser_pause(p, 0);
        return HTTP_REQ_DONE;
    }
    if (r->status) return HTTP_REQ_ERROR;
    if (e == HPE_HEADER_OVERFLOW) {
        http_fail(r, 431, "request headers too large");
        return HTTP_REQ_ERROR;
    }
    if (e != HPE_OK) {
        http_fail(r, 400, "malformed request");
        r->reason = http_errno_description(e);
        return HTTP_REQ_ERROR;
    }
    return HTTP_REQ_AGAIN;
}

static const char *http_span(const http_req_t *r, const http_span_t *s, size_t *len) {
    if (!s->set) {
        *len = 0;
        return NULL;
    }
    *len = s->len;
    return r->mem + s->off;
}

const char *http_req_header(const http_req_t *r, int h, size_t *len) {
    return http_span(r, &r->hdr[h], len);
}

const char *http_req_url(const http_req_t *r, size_t *len) {
    const char *u = http_span(r, &r->url, len);
    return u ? u : "";
}

const char *http_req_body(const http_req_t *r, size_t *len) {
    const char *b = http_span(r, &r->body, len);
    return b ? b : "";
}

int http_req_method(const http_req_t *r) {
    switch (http_parser_const(r)->method) {
    case HTTP_GET: return HTTP_M_GET;
    case HTTP_HEAD: return HTTP_M_HEAD;
    case HTTP_POST: return HTTP_M_POST;
    case HTTP_PUT: return HTTP_M_PUT;
    case HTTP_DELETE: return HTTP_M_DELETE;
    case HTTP_OPTIONS: return HTTP_M_OPTIONS;
    default: return HTTP_M_OTHER;
    }
}

int http_req_keep_alive(const http_req_t *r) { return http_should_keep_alive(http_parser_const(r)); }
int http_req_upgrade(const http_req_t *r) { return http_parser_const(r)->upgrade; }

int http_req_wants_continue(const http_req_t *r) { return r->expect_continue && !r->done; }

/* RFC 9110 7.2: Host = uri-host [ ":" port ]; uri-host is a reg-name, an
 * IPv4 address or "[" IPv6 "]". Only the host is returned (brackets kept
 * off), so callers compare names without caring about ports. */
int http_host_name(const char *v, size_t len, char *out, size_t size) {
    while (len > 0 && (*v == ' ' || *v == '\t')) v++, len--;
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
    const char *end = v + len, *host = v, *port;
    if (len == 0) return -1;
    if (v[0] == '[') {
        const char *close = memchr(v, ']', len);
        if (close == NULL || close == v + 1) return -1;
        host = v + 1;
        port = close + 1;
        if (port < end && *port != ':') return -1;
        len = (size_t)(close - host);
    } else {
        const char *colon = memchr(v, ':', len);
        port = colon ? colon : end;
        len = (size_t)(port - v);
    }
    if (port < end) { /* ":" and digits, possibly none (RFC 3986 3.2.3) */
        if (end - port > 6) return -1;
        for (const char *p = port + 1; p < end; p++)
            if (*p < '0' || *p > '9') return -1;
    }
    if (len == 0 || len >= size) return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)host[i];
        if (c <= ' ' || c >= 0x7f || c == '/' || c == '@' || c == '?' || c == '#' || c == '[' ||
            c == ']' || (c == ':' && v[0] != '['))
            return -1;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[len] = '\0';
    return 0;
}

void http_url_split(const char *url, size_t len, const char **path,
                    size_t *path_len, const char **query, size_t *query_len) {
    const char *q = memchr(url, '?', len);
    *path = url;
    *path_len = q ? (size_t)(q - url) : len;
    *query = q ? q + 1 : NULL;
    *query_len = q ? len - (size_t)(q - url) - 1 : 0;
}

static int http_hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long http_url_decode(const char *in, size_t len, char *out, int plus_space) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '%') {
            int h, l;
            if (i + 2 >= len) return -1;
            if ((h = http_hex(in[i + 1])) < 0 || (l = http_hex(in[i + 2])) < 0) return -1;
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else if (in[i] == '+' && plus_space) {
            out[o++] = ' ';
        } else {
            out[o++] = in[i];
        }
    }
    return (long)o;
}

const char *http_status_text(int status) {
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

size_t http_u64_format(char *out, uint64_t v) {
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

static char *http_put(char *p, const char *s, size_t n) {
    memcpy(p, s, n);
    return p + n;
}

/* Every emit is answered here: the head is assembled in place with
 * memcpy (snprintf's format parsing was a fifth of the emit request's
 * own instructions), into the one buffer that is queued. */
buf_t *http_response(int status, const char *content_type, const char *extra,
                     const void *body, size_t body_len, int keep_alive, int head_only) {
    const char *text = http_status_text(status);
    const char *ctype = content_type ? content_type : "text/plain; charset=utf-8";
    const char *conn = keep_alive ? "keep-alive" : "close";
    size_t tl = strlen(text), cl = strlen(ctype), kl = strlen(conn), el = extra ? strlen(extra) : 0;
    if (status < 100 || status > 999 || tl + cl + el > 1024) return NULL;
    static const char l1[] = "HTTP/1.1 ", l2[] = "\r\nContent-Type: ",
                      l3[] = "\r\nContent-Length: ", l4[] = "\r\nConnection: ";
    size_t head = sizeof(l1) - 1 + 4 + tl + sizeof(l2) - 1 + cl + sizeof(l3) - 1 + 20 +
                  sizeof(l4) - 1 + kl + 2 + el + 2;
    size_t sent = head_only ? 0 : body_len;
    buf_t *b = buf_new(head + sent);
    if (b == NULL) return NULL;
    char *p = (char *)b->data;
    p = http_put(p, l1, sizeof(l1) - 1);
    *p++ = (char)('0' + status / 100);
    *p++ = (char)('0' + status / 10 % 10);
    *p++ = (char)('0' + status % 10);
    *p++ = ' ';
    p = http_put(p, text, tl);
    p = http_put(p, l2, sizeof(l2) - 1);
    p = http_put(p, ctype, cl);
    p = http_put(p, l3, sizeof(l3) - 1);
    p += http_u64_format(p, body_len);
    p = http_put(p, l4, sizeof(l4) - 1);
    p = http_put(p, conn, kl);
    p = http_put(p, "\r\n", 2);
    p = http_put(p, extra ? extra : "", el);
    p = http_put(p, "\r\n", 2);
    if (sent) p = http_put(p, body, sent);
    b->len = (size_t)(p - (char *)b->data);
    return b;
}
