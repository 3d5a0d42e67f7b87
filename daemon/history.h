/* A channel's recent messages, so a client that reconnects resumes from
 * the last id it saw: a ring bounded by count (history_size) and age
 * (history_ttl_ms) of shared, already encoded messages. */
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

typedef struct history {
    message_t *ring;      /* allocated at the first push */
    uint32_t cap, head, count;
} history_t;

void history_init(history_t *h, size_t cap);
void history_free(history_t *h);

/* Append (taking references to m's buffers), evicting the oldest when full.
 * 0, or UV_ENOMEM-like -1 when the ring could not be allocated. */
int history_push(history_t *h, const message_t *m);

/* Drop messages older than ttl_ms (0: keep forever). */
void history_expire(history_t *h, uint64_t now_ms, uint64_t ttl_ms);

static inline size_t history_count(const history_t *h) { return h->count; }

/* The i-th kept message, 0 being the oldest. */
message_t *history_at(const history_t *h, size_t i);

/* Can a client that saw `since` resume? The channel's ids run from base_id
 * to next_id - 1. Returns 1 (resume: *start is the index of the first
 * message after since, possibly == count) or 0 (gap). */
int history_since(const history_t *h, uint64_t since, uint64_t base_id,
                  uint64_t next_id, size_t *start);

#endif
