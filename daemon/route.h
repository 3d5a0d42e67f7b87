/* A listener's routes: which paths it serves, with which methods, by
 * which handler. conn.c answers 404, 405 (with Allow) and HEAD for every
 * listener in one place, so a handler only sees requests it accepts. */
#ifndef HERALD_ROUTE_H
#define HERALD_ROUTE_H

#include <stddef.h>

struct conn;
struct http_req;

/* rest: the part of the path from its first wildcard on ("" if none). */
typedef void (*route_handler_t)(struct conn *c, struct http_req *req, const char *rest,
                                size_t rest_len);

/* path: literal bytes, '*' for one non-empty segment (no '/'), and "**"
 * at the end for whatever follows (also empty). */
typedef struct route {
    const char *path;          /* NULL ends a table */
    unsigned methods;          /* HTTP_M_* bits; a GET route also answers HEAD
                                * unless no_head is set */
    route_handler_t handler;
    int no_head;               /* HEAD is 405 here (upgrades, side effects) */
} route_t;

typedef struct route_table {
    const route_t *routes;
    /* Runs before routing (authorization): 0 to go on; otherwise the
     * request was answered. NULL: every request goes on. */
    int (*admit)(struct conn *c, struct http_req *req);
    int errors_keep_alive;     /* 404/405 keep the connection (emit: PHP's kept-alive socket) */
    const char *not_found;     /* the 404 reason: what does exist */
} route_table_t;

/* Answer one complete request by its listener's table (loop_listen). */
void route_dispatch(struct conn *c, struct http_req *req);

#endif
