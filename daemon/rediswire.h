/* What heraldd writes to and reads from Redis, apart from the link that
 * carries it (redis.c): the address in the `redis` key, the names of a
 * channel's keys and pub/sub channel, and the message payload nodes
 * publish to each other. Pure functions, so they are unit-tested and
 * fuzzed without a server. */
#ifndef HERALD_REDISWIRE_H
#define HERALD_REDISWIRE_H

#include <stddef.h>
#include <stdint.h>

#define REDISWIRE_DEFAULT_PORT 6379
#define REDISWIRE_SECRET_MAX 256

typedef struct rediswire_addr {
    int is_unix;
    char host[256];        /* a name or an address ("::1" without brackets) */
    int port;
    char path[108];        /* unix: the socket (sun_path's size) */
    char user[128];        /* ACL user (Redis 6), empty: the default user */
    char password[REDISWIRE_SECRET_MAX];
    int has_password;
    unsigned db;           /* SELECT db (0-65535) */
} rediswire_addr_t;

/* redis://[[user]:password@]host[:port][/db] (user and password may be
 * percent-encoded; host may be [v6]) or unix:/path. 0, or -1 with a
 * sentence in why that never repeats the password. */
int rediswire_url_parse(const char *s, size_t len, rediswire_addr_t *out, char *why,
                        size_t why_size);

/* The two keys of a channel and its pub/sub channel. The hash tag {name}
 * puts all three in one slot of a Redis Cluster. Length written, or -1
 * when out is too small. */
enum { REDISWIRE_KEY_ID = 0, REDISWIRE_KEY_HISTORY, REDISWIRE_KEY_PUBSUB };
int rediswire_key(char *out, size_t size, int kind, const char *channel, size_t len,
                  unsigned db);

/* An emit's idempotency key in Redis: herald:{channel}:k:<key>, in the
 * channel's slot, so the publish script may read and write it. The key
 * was checked by the caller (1-64 bytes of visible ASCII); a '{' or '}'
 * in it does not matter, the hash tag being the first {...}, the
 * channel's. Length, or -1 when out is too small or the key is empty. */
int rediswire_idem_key(char *out, size_t size, const char *channel, size_t len, const char *key,
                       size_t key_len);

/* The channel name inside a pub/sub channel name made by rediswire_key;
 * 0 or -1 when it is not one of ours (or not a valid channel name). */
int rediswire_pubsub_channel(const char *s, size_t len, const char **name, size_t *name_len);

/* A published message: "<id> <ms>\n<data>" (ids > 0, decimal, no sign or
 * leading zero). 0 or -1 when malformed. */
int rediswire_msg_decode(const char *p, size_t n, uint64_t *id, uint64_t *ms,
                         const char **data, size_t *dlen);

/* A canonical decimal (no sign, no leading zero) into *v: 0 or -1. */
int rediswire_u64(const char *s, size_t len, uint64_t *v);

/* "0-<id>", a history Stream entry's id (ids are ours, so the
 * millisecond part is 0): the id, or 0 when it is not one. */
uint64_t rediswire_entry_id(const char *s, size_t len);

/* The Lua scripts every node loads: a publish (PUBLISH, or SPUBLISH in a
 * Redis Cluster) and a channel's load; rediswire.c says what they do. */
extern const char rediswire_publish_lua[], rediswire_spublish_lua[], rediswire_load_lua[];

/* The keyed variant of a publish script (rediswire.c says how it checks
 * and keeps an emit's idempotency key), malloc'd; NULL when out of memory. */
char *rediswire_keyed_lua(const char *publish_lua);

#endif
