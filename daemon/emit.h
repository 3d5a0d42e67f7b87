/* The emit API (README "Emit API"), served only on the private listeners:
 * single and batch publishes, the seed's GET route, health and stats. */
#ifndef HERALD_EMIT_H
#define HERALD_EMIT_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "server.h"

/* Answer one complete request from an emit listener. */
void emit_route(conn_t *c, http_req_t *req);

/* Publish one message: assign its id, encode it once, queue it on every
 * subscriber and keep it in history. 0 or -1 (invalid channel name). */
int emit_publish(server_t *srv, const char *channel, size_t channel_len,
                 const char *data, size_t len, uint64_t *id, size_t *subscribers);

#endif
