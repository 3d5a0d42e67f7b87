/* The channel table: name -> channel (its subscribers, next message id and
 * history), hashed with SipHash under the process's random key. A channel
 * that has neither subscribers nor history holds no state: it is freed at
 * once, and the highest id it issued is folded into one of
 * CHANNEL_LOST_SLOTS "lost" marks, which is all a later resume needs to
 * tell a gap from nothing missed (README "Resume"). */
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
    /* The name it was granted with (subscribe.c): when it expires and when
     * the client hears so ahead (Unix seconds, 0 = never / told; 32 bits
     * keep an idle connection small and last until 2106), and which key
     * signed it (a fingerprint; 0 = a public name, never revoked). */
    uint32_t expires_s, notice_s, keyfp;
    /* cluster: a subscription waiting for its channel's state from Redis
     * (last_id is UINT64_MAX meanwhile); what its answer needs */
    uint64_t since;
    int64_t req;
    uint8_t wait;            /* SUB_WAIT_* bits */
} sub_t;

/* SUB_ANNOUNCE: its protocol announces the subscription itself once the
 * wait ends (Pusher's subscription_succeeded, pusher.c), so a client never
 * hears it before this node takes the channel's messages. */
enum { SUB_WAIT = 1, SUB_WAIT_SINCE = 2, SUB_WAIT_REQ = 4, SUB_ANNOUNCE = 8 };

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
    uint16_t name_len;
    char name[];
} channel_t;

/* Slots of lost marks (a power of two): a freed channel raises its slot's
 * mark, so more slots mean fewer channels sharing a mark (and its
 * conservative gaps). 64 KiB. */
#define CHANNEL_LOST_BITS 13
#define CHANNEL_LOST_SLOTS (1u << CHANNEL_LOST_BITS)

typedef struct channel_table {
    channel_t **buckets;
    size_t nbuckets, count;
    size_t cursor;           /* the next bucket the sweep visits */
    const unsigned char *key; /* SipHash key (the process's) */
    history_pool_t hist;     /* every channel's history: total bytes, oldest first */
    uint64_t *lost;          /* [CHANNEL_LOST_SLOTS] or NULL (tables without ids) */
} channel_table_t;

int channel_table_init(channel_table_t *t);
void channel_table_free(channel_table_t *t);

/* Give the table lost marks (the hub's: the table that issues ids). Ids up
 * to start_ms * 1000 - 1 count as lost: they can only come from an earlier
 * process. 0 or -1. */
int channel_table_lost_init(channel_table_t *t, uint64_t start_ms);

channel_t *channel_find(channel_table_t *t, const char *name, size_t len);

/* Find or create. A new channel's ids start at now_ms * 1000 (README), or
 * just past its lost mark if that is higher, so ids never repeat. */
channel_t *channel_get(channel_table_t *t, const char *name, size_t len, uint64_t now_ms);

/* The highest id that a former incarnation of ch issued and that is gone
 * (for history_since); 0 in tables without lost marks. */
uint64_t channel_lost_before(const channel_table_t *t, const channel_t *ch);

/* Free ch now if nobody holds it (no subscriber, no history, not busy);
 * 1 if it was freed. */
int channel_release(channel_table_t *t, channel_t *ch);

/* Drop the oldest messages of all while the table's history is over
 * max_bytes, freeing the channels left with nothing (but keep, which the
 * caller still uses; it releases it itself). */
void channel_table_trim(channel_table_t *t, size_t max_bytes, channel_t *keep);

void channel_sub_add(channel_t *ch, sub_t *s);
void channel_sub_remove(channel_t *ch, sub_t *s);

/* Visit at most max_buckets buckets from where the last call stopped:
 * expire old history (ttl_ms 0: none), shrink rings, free channels nobody
 * holds. Bounded work per call, whatever the table's size; 1 when the
 * visit wrapped around (every bucket seen since the previous wrap). */
int channel_table_sweep(channel_table_t *t, uint64_t now_ms, uint64_t ttl_ms,
                        size_t max_buckets);

/* '*' matches any run of bytes (also empty); everything else literally. */
int channel_glob_match(const char *pat, size_t plen, const char *s, size_t slen);

/* 1 if name matches one of the comma-separated patterns. */
int channel_is_public(const char *patterns, const char *name, size_t len);

/* Encode a message once: the JSON envelope (data escaped, or base64 when
 * it is not UTF-8) behind room for the WebSocket frame header, which is
 * written just before it. m->ws gets the buffer (one reference). */
int channel_message_build(message_t *m, const channel_t *ch, uint64_t id,
                          uint64_t ms, const char *data, size_t len);

/* At least the bytes of the largest frame (WebSocket or SSE) a message of
 * data would make: a pass over data, for checks made before publishing. */
size_t channel_message_frame_max(const char *data, size_t len);

/* The SSE event for m, built at the first SSE subscriber and kept. */
buf_t *channel_message_sse(message_t *m, const channel_t *ch);

#endif
