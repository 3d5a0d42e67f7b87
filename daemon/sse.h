/* Server-Sent Events (README "Server-Sent Events"): GET /sse with one or
 * more channel=NAME[,SINCE], Last-Event-ID resume, heartbeats. Messages
 * are the WebSocket JSON, encoded once more as an SSE event, lazily. */
#ifndef HERALD_SSE_H
#define HERALD_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "conn.h"

/* The /sse route: 403/400 with a reason, or start the stream. */
void sse_start(conn_t *c, http_req_t *req, const char *rest, size_t rest_len);

#endif
