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

/* One "channel" query value "NAME[,SINCE]" after decoding: split it.
 * 0 or -1 (empty name or SINCE not a decimal id). */
int sse_param_split(const char *v, size_t len, size_t *name_len, int *has_since,
                    uint64_t *since);

/* The CORS header line for a request's Origin under the allowed_origins
 * list (or "" if none applies). */
void sse_cors_header(const char *allowed, const char *origin, size_t olen, char *out,
                     size_t size);

#endif
