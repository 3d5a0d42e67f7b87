#include "public.h"

#include "client_js.h"
#include "conn.h"
#include "pusher.h"
#include "socketio.h"
#include "sse.h"
#include "wsconn.h"

#include <string.h>

/* Unit and fuzz builds compile this file without the Makefile's version. */
#ifndef HERALD_VERSION
#define HERALD_VERSION "0.0.0"
#endif

/* herald.js?v=<version> changes URL with every release, so browsers may
 * keep it for a year; a bare URL gets five minutes. Any origin may load it
 * (a module script from another origin needs CORS): it holds no secret. */
static const char *public_client_js_headers(http_req_t *req) {
    static const char versioned[] = "v=" HERALD_VERSION;
    size_t ulen, plen, qlen;
    const char *url = http_req_url(req, &ulen), *path, *query;
    http_url_split(url, ulen, &path, &plen, &query, &qlen);
    if (qlen == sizeof(versioned) - 1 && memcmp(query, versioned, qlen) == 0)
        return "Cache-Control: public, max-age=31536000, immutable\r\n"
               "Access-Control-Allow-Origin: *\r\n";
    return "Cache-Control: public, max-age=300\r\nAccess-Control-Allow-Origin: *\r\n";
}

static void public_client_js(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    conn_respond(c, 200, "text/javascript; charset=utf-8", public_client_js_headers(req),
                 client_js_classic, sizeof(client_js_classic), http_req_keep_alive(req));
}

static void public_client_mjs(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    conn_respond(c, 200, "text/javascript; charset=utf-8", public_client_js_headers(req),
                 client_js_module, sizeof(client_js_module), http_req_keep_alive(req));
}

static void public_healthz(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    conn_respond(c, 200, NULL, NULL, "ok\n", 3, http_req_keep_alive(req));
}

static const route_t public_table[] = {
    {"/ws", HTTP_M_GET, wsconn_upgrade, 1},
    {"/sse", HTTP_M_GET, sse_start, 1},
    {"/healthz", HTTP_M_GET, public_healthz, 0},
    {"/herald.js", HTTP_M_GET, public_client_js, 0},
    {"/herald.mjs", HTTP_M_GET, public_client_mjs, 0},
    {"/app/*", HTTP_M_GET, pusher_upgrade, 1},
    {"/socket.io/socket.io.js", HTTP_M_GET, socketio_client_js, 0},
    {"/socket.io/", HTTP_M_GET | HTTP_M_POST, socketio_route, 1},
    {NULL, 0, NULL, 0},
};

const route_table_t public_routes = {
    .routes = public_table,
    .not_found = "not found",
};
