/* The channel table: name -> channel (its subscribers, next message id and
 * history). A channel left with neither subscribers nor history is freed by
 * the sweep once it has stayed so for history_ttl_ms: a client that drops
 * and comes back sooner resumes the same ids instead of hitting a gap. */
#ifndef HERALD_CHANNEL_H
#define HERALD_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "history.h"

#define HERALD_NAME_JSON_MAX 320 /* a message envelope up to its data */

struct conn;
struct channel;

/* One connection's subscription, linked into the channel's list. */
typedef struct sub {
    struct conn *conn;
    struct channel *ch;
    struct sub *prev, *next;
    uint64_t last_id;        /* last message id delivered: later ones only */
    /* cluster: a subscription waiting for its channel's state from Redis
     * (last_id is UINT64_MAX meanwhile); what its answer needs */
    uint64_t since;
    int64_t req;
    uint8_t wait;            /* SUB_WAIT_* bits */
} sub_t;

enum { SUB_WAIT = 1, SUB_WAIT_SINCE = 2, SUB_WAIT_REQ = 4 };

typedef struct channel {
    struct channel *hnext;   /* hash chain */
    uint32_t hash;
    sub_t *subs;
    uint32_t nsubs;
    uint64_t loops;          /* hub's copy: bit i = loop i has subscribers */
    uint64_t base_id, next_id;
    history_t hist;
    uint32_t busy;           /* > 0 while being published to: not freed */
    uint8_t ready;           /* hub, cluster: ids and history loaded from Redis */
    uint64_t idle_since_ms;  /* when the sweep first saw it empty; 0 = in use */
    uint16_t name_len;
    char name[];
} channel_t;

typedef struct channel_table {
    channel_t **buckets;
    size_t nbuckets, count;
} channel_table_t;

int channel_table_init(channel_table_t *t);
void channel_table_free(channel_table_t *t);

channel_t *channel_find(channel_table_t *t, const char *name, size_t len);

/* Find or create; a new channel's ids start at now_ms * 1000 (README). */
channel_t *channel_get(channel_table_t *t, const char *name, size_t len,
                       uint64_t now_ms, size_t history_size);

void channel_sub_add(channel_t *ch, sub_t *s);
void channel_sub_remove(channel_t *ch, sub_t *s);

/* Expire old history everywhere; free channels empty for ttl_ms. */
void channel_table_sweep(channel_table_t *t, uint64_t now_ms, uint64_t ttl_ms);

/* '*' matches any run of bytes (also empty); everything else literally. */
int channel_glob_match(const char *pat, size_t plen, const char *s, size_t slen);

/* 1 if name matches one of the comma-separated patterns. */
int channel_is_public(const char *patterns, const char *name, size_t len);

/* Encode a message once: the JSON envelope (data escaped, or base64 when
 * it is not UTF-8) behind room for the WebSocket frame header, which is
 * written just before it. m->ws gets the buffer (one reference). */
int channel_message_build(message_t *m, const channel_t *ch, uint64_t id,
                          uint64_t ms, const char *data, size_t len);

/* The SSE event for m, built at the first SSE subscriber and kept. */
buf_t *channel_message_sse(message_t *m, const channel_t *ch);

#endif
