/* Emits in a cluster (README "Several servers"): published through the
 * Redis link, answered once Redis has answered. The connection reads on
 * meanwhile (up to conn.h's CONN_PENDING_MAX answers awaited), and its
 * answers go in request order whatever order Redis answers in. */
#ifndef HERALD_EMITREDIS_H
#define HERALD_EMITREDIS_H

#include <stddef.h>

#include "conn.h"
#include "http.h"
#include "redis.h"

/* How the answer is shaped: a single emit, the seed's GET route, a batch,
 * the Pusher HTTP API's events (200 {}). */
enum { EMITREDIS_SINGLE = 0, EMITREDIS_GET, EMITREDIS_BATCH, EMITREDIS_PUSHER };

/* Publish msgs (channel names already checked) and answer c when Redis
 * has: 202 with the ids (200 "OK" for GET), or 503 when Redis is down or
 * refused, nothing published. key (a single emit's Idempotency-Key, or
 * NULL; a batch's keys are in its msgs): Redis remembers it for
 * idempotency_window_ms for every node, so a repeat sent to any node is
 * answered with the first id and not published. */
void emitredis_publish(conn_t *c, http_req_t *req, int kind, const redis_pub_t *msgs, size_t n,
                       const char *key, size_t klen);

/* Any other answer that waits for Redis (the Pusher API's presence
 * queries): the answers after it on c wait until emitredis_hold_answer
 * answers it (or drops the answer if c closed meanwhile) and releases w.
 * NULL when out of memory (nothing waits). */
typedef struct emitredis_wait emitredis_wait_t;
emitredis_wait_t *emitredis_hold(conn_t *c, http_req_t *req);
void emitredis_hold_answer(emitredis_wait_t *w, int status, const char *type, const char *body,
                           size_t len);

#endif
