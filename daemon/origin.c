/* daemon/origin.c: allowed_origins parsing and matching. */
#include "origin.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int origin_is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int origin_is_digit(char c) { return c >= '0' && c <= '9'; }

/* Ports a browser leaves out of an origin: https://a and https://a:443 are
 * the same origin, so both sides compare with the port filled in. */
static unsigned origin_default_port(const char *scheme, size_t n) {
    if ((n == 4 && strncasecmp(scheme, "http", 4) == 0) || (n == 2 && strncasecmp(scheme, "ws", 2) == 0))
        return 80;
    if ((n == 5 && strncasecmp(scheme, "https", 5) == 0) || (n == 3 && strncasecmp(scheme, "wss", 3) == 0))
        return 443;
    return 0;
}

/* A host is an ASCII name (browsers send IDNs as punycode) of labels
 * separated by single dots, or a bracketed IPv6 literal. */
static int origin_host_ok(const char *h, size_t n) {
    if (n == 0 || n > 255) return 0;
    if (h[0] == '[') {
        if (n < 3 || h[n - 1] != ']') return 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.') return 0;
        return 1;
    }
    if (h[0] == '.' || h[n - 1] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.' && i + 1 < n && h[i + 1] == '.') return 0;
        if (!origin_is_alpha(c) && !origin_is_digit(c) && c != '.' && c != '-' && c != '_') return 0;
    }
    return 1;
}

int origin_parse(const char *s, size_t len, int allow_wildcard, origin_t *out) {
    memset(out, 0, sizeof(*out));
    size_t i = 0;
    if (len == 0 || !origin_is_alpha(s[0])) return -1;
    while (i < len && i < 32 && (origin_is_alpha(s[i]) || origin_is_digit(s[i]) ||
                                 s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (len - i < 3 || memcmp(s + i, "://", 3) != 0) return -1;
    out->scheme = s;
    out->scheme_len = i;
    i += 3;
    if (allow_wildcard && len - i > 2 && s[i] == '*' && s[i + 1] == '.') {
        out->wildcard = 1;
        i += 2;
    }
    size_t h = i;
    if (i < len && s[i] == '[') {
        while (i < len && s[i] != ']') i++;
        if (i < len) i++;
    } else {
        while (i < len && s[i] != ':') i++;
    }
    if (!origin_host_ok(s + h, i - h) || (out->wildcard && s[h] == '[')) return -1;
    out->host = s + h;
    out->host_len = i - h;
    out->port = origin_default_port(out->scheme, out->scheme_len);
    if (i == len) return 0;
    if (s[i] != ':' || i + 1 == len || len - i - 1 > 5) return -1;
    unsigned port = 0;
    for (i++; i < len; i++) {
        if (!origin_is_digit(s[i])) return -1;
        port = port * 10 + (unsigned)(s[i] - '0');
    }
    if (port == 0 || port > 65535) return -1;
    out->port = port;
    return 0;
}

/* One allowed entry against a parsed Origin: scheme and port exactly,
 * the host exactly or, for a "*." entry, as a subdomain. */
static int origin_matches(const origin_t *e, const origin_t *o) {
    if (e->scheme_len != o->scheme_len || strncasecmp(e->scheme, o->scheme, e->scheme_len) != 0)
        return 0;
    if (e->port != o->port || o->wildcard) return 0;
    if (!e->wildcard)
        return e->host_len == o->host_len && strncasecmp(e->host, o->host, e->host_len) == 0;
    /* "*.example.com": at least one label, then ".example.com" */
    if (o->host[0] == '[' || o->host_len < e->host_len + 2) return 0;
    const char *tail = o->host + o->host_len - e->host_len;
    return tail[-1] == '.' && strncasecmp(tail, e->host, e->host_len) == 0;
}

/* Call fn for each trimmed, non-empty entry of a comma-separated list;
 * stop at the first non-zero result and return it. */
static int origin_list_each(const char *list, int (*fn)(const char *, size_t, void *), void *arg) {
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *end = e;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
        if (end > p) {
            int r = fn(p, (size_t)(end - p), arg);
            if (r) return r;
        }
        p = e;
    }
    return 0;
}

typedef struct {
    char *err;
    size_t es;
} origin_check_t;

static int origin_check_one(const char *s, size_t n, void *arg) {
    origin_check_t *c = arg;
    origin_t o;
    if (n == 1 && s[0] == '*') return 0;
    if (n == 4 && strncasecmp(s, "null", 4) == 0) {
        snprintf(c->err, c->es, "'null' is refused: every sandboxed page on any site sends it");
        return -1;
    }
    if (origin_parse(s, n, 1, &o) != 0) {
        snprintf(c->err, c->es, "'%.*s' is not an origin: scheme://host[:port] with no path, "
                 "e.g. https://app.example or https://*.app.example", (int)(n > 200 ? 200 : n), s);
        return -1;
    }
    return 0;
}

int origin_list_check(const char *list, char *err, size_t es) {
    origin_check_t c = {err, es};
    return origin_list_each(list, origin_check_one, &c) ? -1 : 0;
}

typedef struct {
    origin_t origin;
    int parsed;
} origin_want_t;

static int origin_allows_one(const char *s, size_t n, void *arg) {
    const origin_want_t *w = arg;
    origin_t e;
    if (n == 1 && s[0] == '*') return 1;
    return w->parsed && origin_parse(s, n, 1, &e) == 0 && origin_matches(&e, &w->origin);
}

int origin_list_allows(const char *list, const char *origin, size_t len) {
    origin_want_t w;
    w.parsed = origin_parse(origin, len, 0, &w.origin) == 0;
    return origin_list_each(list, origin_allows_one, &w);
}
