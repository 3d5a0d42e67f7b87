/* What every protocol does the same way: admit an upgrade request (the
 * client behind a trusted proxy, the Origin policy), resolve a channel
 * name (public pattern or signed name), and subscribe with resume. */
#ifndef HERALD_SUBSCRIBE_H
#define HERALD_SUBSCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "http.h"

/* An upgrade request on the public listener: count c under the client a
 * trusted proxy names (max_connections_per_ip). 0 to go on; -1 when c was
 * answered 503. */
int subscribe_admit(conn_t *c, http_req_t *req);

/* The CORS header line for a request's Origin under allowed_origins, or
 * "" if none applies (EventSource and XHR from an allowed origin need it). */
void subscribe_cors_header(const loop_t *loop, http_req_t *req, char *out, size_t size);

/* A token bucket per connection for what a client sends (commands, pings,
 * events): init at the upgrade; take one per message. */
enum { SUBSCRIBE_RATE_OK = 0, SUBSCRIBE_RATE_REFUSED = 1, SUBSCRIBE_RATE_CLOSE = 2 };
void subscribe_rate_init(conn_t *c);
int subscribe_rate_take(conn_t *c);

/* allowed_origins: 1 when c was answered 403. */
int subscribe_origin_refuse(conn_t *c, http_req_t *req);

/* What a name grants besides its channel: until when (Unix seconds, 0 =
 * never) and under which key (a fingerprint of key id and secret; 0 for a
 * public name, which no reload revokes). */
typedef struct subscribe_grant {
    uint64_t expires;
    uint32_t keyfp;
} subscribe_grant_t;

/* Resolve a subscribe request's name: the plain channel (pointing into
 * name) and, when g is not NULL, its grant; or -1 with an error code and
 * reason as in README. */
int subscribe_authorize(loop_t *loop, const char *name, size_t len, const char **plain,
                        size_t *plain_len, subscribe_grant_t *g, const char **code,
                        const char **reason);

/* Before answering a request that subscribes to n channels at once (SSE):
 * charge the client now for those that do not exist yet, so a refusal can
 * still be the HTTP status (*status 429 rate_limited, 503 max_channels,
 * with *reason); the credit is spent by subscribe_resume. 0 or -1. */
int subscribe_reserve(conn_t *c, const char *const *names, const size_t *lens, size_t n,
                      int *status, const char **reason);

/* Subscribe with optional resume: answer through the protocol
 * (command_subscribed_format; cmd may be NULL), then replay history after
 * since. A channel heraldd does not hold yet is charged to the client
 * (max_new_channels_per_second, _per_ip_: rate_limited) and needs room
 * (max_channels: too_many_channels). The subscription keeps grant g
 * (NULL: never expires). 0, or -1 with code and reason set. */
int subscribe_resume(conn_t *c, const char *plain, size_t plain_len, int has_since,
                     uint64_t since, const subscribe_grant_t *g, const void *cmd,
                     const char **code, const char **reason);

/* The subscription of c to plain now holds grant g (a fresh name): no
 * message is missed or repeated, only its expiry and key change. 0, or -1
 * (not subscribed). */
int subscribe_refresh(conn_t *c, const char *plain, size_t plain_len,
                      const subscribe_grant_t *g);

/* How a protocol ends one subscription heraldd decided to end (reason
 * "expired" or "revoked"): tell the client, drop the subscription. */
typedef void (*subscribe_end_cb)(conn_t *c, sub_t *s, const char *reason);

/* From a protocol's tick: send 'expiring' notices that are due (through
 * proto->answer) and end subscriptions whose name expired or whose key a
 * reload removed. Costs one compare for a connection with no expiring
 * name and no reload since its last check. */
void subscribe_expiry_tick(conn_t *c, subscribe_end_cb end);

/* The cluster's notices for a channel (loop->on_channel): HUB_MSG_READY
 * answers the subscriptions that waited for its state; HUB_MSG_GAP closes
 * the others (1012), whose clients then resume and are told gap. */
void subscribe_on_channel(loop_t *loop, int kind, const char *name, size_t len);

#endif
