/* socket.io compatibility (README "Coming from socket.io"): the server side
 * of Engine.IO 4 and Socket.IO 5 under /socket.io/ (long-polling, the
 * WebSocket transport and the upgrade between them, server pings, the
 * default namespace). Every client gets the messages of socketio_channels
 * as events named after the channel; other channels need
 * socket.emit('subscribe', signedName, ack). Browsers never publish. */
#ifndef HERALD_SOCKETIO_H
#define HERALD_SOCKETIO_H

#include <stddef.h>

#include "conn.h"
#include "route.h"

/* The routes public.c adds to its table: /socket.io/ (both transports)
 * and /socket.io/socket.io.js (socketio_client_js). */
void socketio_route(conn_t *c, http_req_t *req, const char *rest, size_t n);
void socketio_client_js(conn_t *c, http_req_t *req, const char *rest, size_t n);

#endif
