/* What heraldd reads from a Redis Cluster, apart from the connections
 * (rediscluster.c, redisshard.c): the seed list of the redis_cluster key,
 * a key's hash slot, the slot map a CLUSTER SLOTS answer describes, and
 * the MOVED/ASK redirections. Pure functions, unit-tested and fuzzed
 * without a server. */
#ifndef HERALD_CLUSTERWIRE_H
#define HERALD_CLUSTERWIRE_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "rediswire.h"

#define CLUSTERWIRE_SLOTS 16384
#define CLUSTERWIRE_MAX_SEEDS 16
#define CLUSTERWIRE_MAX_MASTERS 64
#define CLUSTERWIRE_NONE 0xFF     /* a slot no master serves */

/* The redis_cluster key: [redis://[[user]:password@]]host[:port],host[:port],...
 * Credentials, if any, come once, on the first address, and are used for
 * every node; no database (a cluster has only 0). */
typedef struct clusterwire_seeds {
    rediswire_addr_t auth;       /* the first seed: user, password, has_password */
    size_t n;
    struct {
        char host[256];
        int port;
    } seed[CLUSTERWIRE_MAX_SEEDS];
} clusterwire_seeds_t;

/* 0, or -1 with a sentence in why that never repeats the password. */
int clusterwire_seeds_parse(const char *s, size_t len, clusterwire_seeds_t *out, char *why,
                            size_t why_size);

/* Redis Cluster's CRC16 (XMODEM) of the key's hash tag: the text between
 * the first '{' and the next '}' if not empty, else the whole key. */
unsigned clusterwire_slot(const char *key, size_t len);

/* Which master serves each slot, and where the masters are. */
typedef struct clusterwire_map {
    uint8_t owner[CLUSTERWIRE_SLOTS];  /* index into node, or CLUSTERWIRE_NONE */
    size_t nnodes;
    struct {
        char host[256];
        int port;
    } node[CLUSTERWIRE_MAX_MASTERS];
} clusterwire_map_t;

/* A CLUSTER SLOTS answer ([[start, end, [ip, port, ...], replicas...], ...])
 * into *m; an empty ip is the node asked (asked_host). 0, or -1 with why
 * (malformed, a slot range out of bounds or claimed twice, more than
 * CLUSTERWIRE_MAX_MASTERS masters). Slots nobody claims are NONE. */
int clusterwire_slots_parse(const redisReply *r, const char *asked_host, clusterwire_map_t *m,
                            char *why, size_t why_size);

/* An error answer "MOVED <slot> <host>:<port>" or "ASK ...": 0 with *ask,
 * the slot and where (host may come back empty: the node that answered),
 * or -1 when it is neither. */
int clusterwire_redirect(const char *err, size_t len, int *ask, unsigned *slot, char *host,
                         size_t host_size, int *port);

#endif
