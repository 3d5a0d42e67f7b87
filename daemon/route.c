#include "route.h"

#include "conn.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

/* A path against a route's pattern (route.h); *rest gets what the first
 * wildcard matched onwards. */
static int route_match(const char *pat, const char *p, size_t n, const char **rest) {
    size_t i = 0;
    *rest = NULL;
    for (; *pat; pat++) {
        if (pat[0] == '*' && pat[1] == '*') {
            if (*rest == NULL) *rest = p + i;
            return 1;
        }
        if (*pat == '*') {
            if (*rest == NULL) *rest = p + i;
            size_t j = i;
            while (j < n && p[j] != '/') j++;
            if (j == i) return 0;
            i = j;
        } else if (i < n && p[i] == *pat) {
            i++;
        } else {
            return 0;
        }
    }
    return i == n;
}

static unsigned route_methods(const route_t *r) {
    return r->methods | ((r->methods & HTTP_M_GET) && !r->no_head ? HTTP_M_HEAD : 0);
}

/* 404 and 405 (with Allow) for every listener; HEAD is a GET whose answer
 * loses its body (conn_respond). */
static void route_answer(conn_t *c, http_req_t *req) {
    const route_table_t *t = c->l->routes;
    if (t->admit && t->admit(c, req) != 0) return;
    size_t ulen, plen, qlen;
    const char *url = http_req_url(req, &ulen), *path, *query;
    http_url_split(url, ulen, &path, &plen, &query, &qlen);
    unsigned method = (unsigned)http_req_method(req), allow = 0;
    for (const route_t *r = t->routes; r->path; r++) {
        const char *rest;
        if (!route_match(r->path, path, plen, &rest)) continue;
        unsigned methods = route_methods(r);
        allow |= methods;
        if (!(methods & method)) continue;
        r->handler(c, req, rest ? rest : "", rest ? plen - (size_t)(rest - path) : 0);
        return;
    }
    int keep = t->errors_keep_alive && http_req_keep_alive(req);
    if (allow == 0) {
        log_info("%s: HTTP 404: %s", c->peer, t->not_found);
        char body[256];
        int n = snprintf(body, sizeof(body), "%s\n", t->not_found);
        conn_respond(c, 404, NULL, NULL, body, (size_t)n, keep);
        return;
    }
    const char *m = (allow & HTTP_M_GET) && (allow & HTTP_M_POST) ? "GET, POST"
                    : allow & HTTP_M_GET ? "GET" : "POST";
    char hdr[64], body[64];
    snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", m);
    int n = snprintf(body, sizeof(body), "use %s\n", m);
    log_info("%s: HTTP 405: use %s", c->peer, m);
    conn_respond(c, 405, NULL, hdr, body, (size_t)n, keep);
}

/* Any answer to a HEAD request, refusals included, goes without a body. */
void route_dispatch(conn_t *c, http_req_t *req) {
    c->head = http_req_method(req) == HTTP_M_HEAD;
    route_answer(c, req);
    c->head = 0;
}

