/* A channel's recent messages, so a client that reconnects resumes from
 * the last id it saw: a ring of shared, already encoded messages bounded
 * by count (history_size), age (history_ttl_ms) and bytes
 * (history_max_bytes_per_channel), and across every channel by bytes
 * (history_max_bytes, oldest message of all dropped first: the pool). */
#ifndef HERALD_HISTORY_H
#define HERALD_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* One published message: its id, when, and its encodings. ws holds the
 * WebSocket frame starting at ws_off, the JSON envelope at
 * WS_FRAME_HEADER_MAX; the other protocols' encodings are built only
 * when a loop has subscribers speaking them, and dropped after delivery. */
typedef struct message {
    uint64_t id;
    uint64_t ms;
    buf_t *ws;
    buf_t *sse;
    buf_t *sio;           /* the socket.io event packet, built only when needed */
    buf_t *pusher;        /* the Pusher event frame, likewise */
    uint8_t ws_off;
    uint8_t sio_off;      /* where sio's WebSocket frame starts */
    uint8_t pusher_off;
} message_t;

/* What a kept message costs besides its frame: the ring slot and the
 * buffer's header, rounded up (accounting, not exact malloc figures). */
#define HISTORY_MESSAGE_OVERHEAD 96

/* The ring grows by doubling as it fills (HISTORY_RING_MIN slots at the
 * first message) up to the count limit, and shrinks as it empties, so a
 * channel with one message costs one small slot array. */
#define HISTORY_RING_MIN 1

typedef struct history {
    message_t *ring;      /* NULL while empty */
    uint32_t alloc;       /* slots allocated */
    uint32_t head, count;
    uint32_t heap_i;      /* position in the pool's heap while not empty */
    size_t bytes;         /* what the kept messages cost (history_message_bytes) */
} history_t;

/* Every ring's bytes together, and the rings ordered by the age of their
 * oldest message (a binary min-heap), so the oldest message of all is the
 * first to go when the total is over. */
typedef struct history_pool {
    history_t **heap;
    size_t n, cap;
    size_t bytes;
} history_pool_t;

/* What one message costs in history. */
size_t history_message_bytes(const message_t *m);

void history_init(history_t *h);

/* Drop every message (and leave the pool's heap). */
void history_free(history_pool_t *pool, history_t *h);

void history_pool_free(history_pool_t *pool);

/* Append (taking references to m's buffers), dropping the oldest while
 * over max_count or max_bytes. A message that alone is over max_bytes (or
 * max_count 0) empties the history: the ring always holds the last ids, so
 * resume stays arithmetic. 1 kept, 0 not kept, -1 out of memory (then the
 * history is emptied too: an older suffix would lie about the last id). */
int history_push(history_pool_t *pool, history_t *h, const message_t *m, size_t max_count,
                 size_t max_bytes);

/* Drop messages older than ttl_ms (0: keep forever). */
void history_expire(history_pool_t *pool, history_t *h, uint64_t now_ms, uint64_t ttl_ms);

/* Drop the oldest message of every ring in the pool; returns its ring (now
 * perhaps empty), or NULL when the pool holds nothing. */
history_t *history_pool_drop_oldest(history_pool_t *pool);

static inline size_t history_count(const history_t *h) { return h->count; }

/* The i-th kept message, 0 being the oldest. */
message_t *history_at(const history_t *h, size_t i);

/* Can a client that saw `since` resume? This incarnation of the channel
 * issued ids base_id .. next_id - 1; lost_before is the highest id a
 * former incarnation issued that is gone (0: none), see README "Resume".
 * Returns 1 (resume: *start is the index of the first message after since,
 * possibly == count) or 0 (gap: something after since may be lost). */
int history_since(const history_t *h, uint64_t since, uint64_t base_id, uint64_t next_id,
                  uint64_t lost_before, size_t *start);

#endif
