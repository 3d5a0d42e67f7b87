/* Herald's own WebSocket protocol (README "WebSocket"): the upgrade on
 * GET /ws, JSON commands under a rate limit, pings, and frames for the
 * messages of subscribed channels. */
#ifndef HERALD_WSCONN_H
#define HERALD_WSCONN_H

#include <stddef.h>

#include "conn.h"
#include "http.h"
#include "ws.h"

/* The /ws route: validate the handshake, check the Origin, answer 101 and
 * take the connection over. */
void wsconn_upgrade(conn_t *c, http_req_t *req, const char *rest, size_t rest_len);

/* What every protocol over WebSocket shares (socketio.c too): */

/* Validate the handshake and the Origin, init p and answer 101; 0, or -1
 * when c was answered (400/403/426). The caller installs its protocol. */
int wsconn_handshake(conn_t *c, http_req_t *req, ws_parser_t *p);

/* Feed bytes to p, calling cb per message; a protocol error closes c with
 * the right code. */
void wsconn_feed_with(conn_t *c, ws_parser_t *p, char *data, size_t n, ws_message_cb cb);

/* Control frames and binary messages, the same for every protocol: pong
 * (under the rate limit), close echoed, binary refused 1003. 0, or 1 when
 * c is no longer open. */
int wsconn_control(conn_t *c, int opcode, const unsigned char *data, size_t len);

/* Idle clients get a WebSocket ping; one that does not answer within
 * pong_timeout_ms is dropped (a conn_proto_t tick). */
void wsconn_tick(conn_t *c, uint64_t now);

/* Queue a text frame holding p[0..n). */
int wsconn_text(conn_t *c, const char *p, size_t n);

/* A close frame with code and reason, then the connection drains. */
void wsconn_close(conn_t *c, uint16_t code, const char *reason);

#endif
