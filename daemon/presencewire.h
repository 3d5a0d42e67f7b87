/* Cluster presence on the wire (README "Several servers"): the Redis keys
 * of a presence channel's members and of a node's liveness, and the
 * member events nodes publish to each other on the channel's pub/sub
 * channel, beside its messages ("P<seq> a <user_id>\n<user_info>" when a
 * user's first connection anywhere joined, "P<seq> r <user_id>" when its
 * last one left). Pure functions: unit-tested and fuzzed without Redis. */
#ifndef HERALD_PRESENCEWIRE_H
#define HERALD_PRESENCEWIRE_H

#include <stddef.h>
#include <stdint.h>

/* A channel's keys, all under its hash tag {name} (one Redis Cluster
 * slot, with its id, history and pub/sub channel): members (user_id ->
 * user_info), connections per node and user ("node|user_id" -> n),
 * connections per user (user_id -> n, every node), the event sequence,
 * and the nodes with subscribers of the channel (any protocol: occupied
 * while there is one). */
enum { PRESENCEWIRE_MEMBERS = 0, PRESENCEWIRE_NODES, PRESENCEWIRE_USERS, PRESENCEWIRE_SEQ,
       PRESENCEWIRE_OCCUPIED };

/* Length written, or -1 when out is too small. */
int presencewire_key(char *out, size_t size, int kind, const char *channel, size_t len);

/* The sorted set of live nodes (node id -> deadline, Redis ms), and a
 * node's presence channels (name -> the serial of its last join there).
 * '#' is no channel name's byte, so these never meet a channel's keys. */
#define PRESENCEWIRE_LIVE_KEY "herald:{#nodes}:live"
int presencewire_node_key(char *out, size_t size, const char *node);

#define PRESENCEWIRE_NODE_ID_LEN 16 /* hex of 8 random bytes */

typedef struct presencewire_event {
    uint64_t seq;
    int added;               /* 1 member_added, 0 member_removed */
    const char *user_id, *info;
    size_t user_len, info_len; /* info: added only */
} presencewire_event_t;

/* Is p (a pub/sub payload) a member event rather than a message? */
int presencewire_is_event(const char *p, size_t n);

/* Decode a member event: 0, or -1 when malformed (a user id that is empty,
 * over 127 bytes or not JSON-safe; a NUL in user_info; a seq that is not
 * canonical decimal). */
int presencewire_event_decode(const char *p, size_t n, presencewire_event_t *out);

/* The data of member_added ({"user_id":…,"user_info":…}) or member_removed
 * ({"user_id":…}) for the event, into out. Length or -1. */
int presencewire_event_data(char *out, size_t size, const presencewire_event_t *e);

#endif
