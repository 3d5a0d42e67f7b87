/* The Pusher HTTP API on the emit listener (README "Laravel and Pusher
 * clients"), so the Pusher server SDKs work unchanged: trigger and batch
 * trigger publish as an emit does; channel queries read the hub. Every
 * request carries Pusher's signature (auth_key, auth_timestamp within
 * 600 s, body_md5, auth_signature), checked before anything else. */
#ifndef HERALD_PUSHERAPI_H
#define HERALD_PUSHERAPI_H

#include <stddef.h>

#include "conn.h"
#include "http.h"

/* The route handlers; rest is "{app_id}/..." from the path. */
void pusherapi_events(conn_t *c, http_req_t *req, const char *rest, size_t n);
void pusherapi_batch_events(conn_t *c, http_req_t *req, const char *rest, size_t n);
void pusherapi_channels(conn_t *c, http_req_t *req, const char *rest, size_t n);
void pusherapi_channel(conn_t *c, http_req_t *req, const char *rest, size_t n);
void pusherapi_users(conn_t *c, http_req_t *req, const char *rest, size_t n);

#endif
