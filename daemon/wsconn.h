/* Herald's own WebSocket protocol (README "WebSocket"): the upgrade on
 * GET /ws, JSON commands under a rate limit, pings, and frames for the
 * messages of subscribed channels. */
#ifndef HERALD_WSCONN_H
#define HERALD_WSCONN_H

#include <stddef.h>

#include "conn.h"
#include "http.h"

/* The /ws route: validate the handshake, check the Origin, answer 101 and
 * take the connection over. */
void wsconn_upgrade(conn_t *c, http_req_t *req, const char *rest, size_t rest_len);

#endif
