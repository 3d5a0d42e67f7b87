#include "history.h"

#include <stdlib.h>

void history_init(history_t *h, size_t cap) {
    h->ring = NULL;
    h->cap = (uint32_t)cap;
    h->head = h->count = 0;
}

static void history_drop_oldest(history_t *h) {
    message_t *m = &h->ring[h->head];
    buf_unref(m->ws);
    buf_unref(m->sse);
    h->head = (h->head + 1) % h->cap;
    h->count--;
}

void history_free(history_t *h) {
    while (h->count) history_drop_oldest(h);
    free(h->ring);
    h->ring = NULL;
}

/* The ring is allocated at the first message, so idle channels and
 * history_size = 0 cost nothing. */
int history_push(history_t *h, const message_t *m) {
    if (h->cap == 0) return 0;
    if (h->ring == NULL) {
        h->ring = calloc(h->cap, sizeof(message_t));
        if (h->ring == NULL) return -1;
    }
    if (h->count == h->cap) history_drop_oldest(h);
    message_t *slot = &h->ring[(h->head + h->count) % h->cap];
    *slot = *m;
    if (slot->ws) buf_ref(slot->ws);
    if (slot->sse) buf_ref(slot->sse);
    h->count++;
    return 0;
}

void history_expire(history_t *h, uint64_t now_ms, uint64_t ttl_ms) {
    if (ttl_ms == 0) return;
    while (h->count && h->ring[h->head].ms + ttl_ms <= now_ms) history_drop_oldest(h);
    if (h->count == 0 && h->ring) {
        free(h->ring);
        h->ring = NULL;
        h->head = 0;
    }
}

message_t *history_at(const history_t *h, size_t i) {
    if (i >= h->count) return NULL;
    return &h->ring[(h->head + i) % h->cap];
}

/* Ids are consecutive, so the index of since+1 is arithmetic: resume works
 * when since is within [first kept - 1, last] of this incarnation. */
int history_since(const history_t *h, uint64_t since, uint64_t base_id,
                  uint64_t next_id, size_t *start) {
    uint64_t first = h->count ? history_at(h, 0)->id : next_id;
    if (since + 1 < base_id || since >= next_id) return 0;
    if (since + 1 < first) return 0;
    *start = (size_t)(since + 1 - first);
    return 1;
}
