/* The Pusher Channels protocol (README "Laravel and Pusher clients"):
 * pusher-js 8 and Laravel Echo connect to GET /app/{key} unchanged.
 * Public channels are Herald's public_channels; private-, presence- and
 * private-encrypted- are authorized by the app's signature as Pusher's
 * are; presence keeps one member per user however many tabs it has.
 * Browsers never publish: client events are refused (4301). */
#ifndef HERALD_PUSHER_H
#define HERALD_PUSHER_H

#include <stddef.h>

#include "conn.h"
#include "http.h"

/* The /app/{key} route: upgrade and greet (pusher:connection_established). */
void pusher_upgrade(conn_t *c, http_req_t *req, const char *key, size_t key_len);

/* Presence for the HTTP API, every loop's: how many users, and who
 * ([{"id":…}], a new jansson array). */
size_t pusher_presence_count(loop_t *loop, const char *name, size_t len);
struct json_t *pusher_presence_users(loop_t *loop, const char *name, size_t len);

/* A presence member came or went (loop_conn_ops_t.presence): tell this
 * loop's Pusher subscribers of the channel that have not seen it. */
void pusher_presence_deliver(loop_t *loop, const hub_note_t *n);

#endif
