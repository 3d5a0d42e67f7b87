#include "history.h"

#include <stdlib.h>
#include <string.h>

/* The WebSocket frame only: history copies are kept without their SSE
 * event (each loop builds its own when it needs one). */
size_t history_message_bytes(const message_t *m) {
    return (m->ws ? m->ws->cap : 0) + HISTORY_MESSAGE_OVERHEAD;
}

void history_init(history_t *h) { memset(h, 0, sizeof(*h)); }

/* The heap is keyed by the emit time of each ring's oldest message. */
static uint64_t history_key(const history_t *h) { return h->ring[h->head].ms; }

static void history_heap_set(history_pool_t *p, size_t i, history_t *h) {
    p->heap[i] = h;
    h->heap_i = (uint32_t)i;
}

static void history_heap_up(history_pool_t *p, size_t i) {
    history_t *h = p->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (history_key(p->heap[parent]) <= history_key(h)) break;
        history_heap_set(p, i, p->heap[parent]);
        i = parent;
    }
    history_heap_set(p, i, h);
}

static void history_heap_down(history_pool_t *p, size_t i) {
    history_t *h = p->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, least = i;
        uint64_t lk = history_key(h);
        if (l < p->n && history_key(p->heap[l]) < lk) {
            least = l;
            lk = history_key(p->heap[l]);
        }
        if (r < p->n && history_key(p->heap[r]) < lk) least = r;
        if (least == i) break;
        history_heap_set(p, i, p->heap[least]);
        i = least;
    }
    history_heap_set(p, i, h);
}

static int history_heap_insert(history_pool_t *p, history_t *h) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        history_t **heap = realloc(p->heap, cap * sizeof(*heap));
        if (heap == NULL) return -1;
        p->heap = heap;
        p->cap = cap;
    }
    history_heap_set(p, p->n++, h);
    history_heap_up(p, p->n - 1);
    return 0;
}

static void history_heap_remove(history_pool_t *p, history_t *h) {
    size_t i = h->heap_i;
    history_t *last = p->heap[--p->n];
    if (i == p->n) return;
    history_heap_set(p, i, last);
    history_heap_down(p, i);
    history_heap_up(p, last->heap_i);
}

/* The oldest message goes; the ring leaves the heap when empty, or moves
 * down it (its oldest is now younger). */
static void history_drop_oldest(history_pool_t *pool, history_t *h) {
    message_t *m = &h->ring[h->head];
    size_t cost = history_message_bytes(m);
    buf_unref(m->ws);
    buf_unref(m->sse);
    h->bytes -= cost;
    pool->bytes -= cost;
    h->head = (h->head + 1) % h->alloc;
    h->count--;
    if (h->count == 0) {
        history_heap_remove(pool, h);
        free(h->ring);
        h->ring = NULL;
        h->alloc = h->head = 0;
    } else {
        history_heap_down(pool, h->heap_i);
    }
}

void history_free(history_pool_t *pool, history_t *h) {
    while (h->count) history_drop_oldest(pool, h);
}

void history_pool_free(history_pool_t *pool) {
    while (pool->n) history_free(pool, pool->heap[0]);
    free(pool->heap);
    memset(pool, 0, sizeof(*pool));
}

/* Move the ring into alloc slots, oldest first at slot 0. */
static int history_resize(history_t *h, uint32_t alloc) {
    message_t *ring = malloc((size_t)alloc * sizeof(*ring));
    if (ring == NULL) return -1;
    for (uint32_t i = 0; i < h->count; i++) ring[i] = h->ring[(h->head + i) % h->alloc];
    free(h->ring);
    h->ring = ring;
    h->alloc = alloc;
    h->head = 0;
    return 0;
}

/* Room for one more message: double up to max_count (never allocated whole
 * at the first message: most channels keep a few). */
static int history_make_room(history_t *h, size_t max_count) {
    if (h->count < h->alloc) return 0;
    size_t want = h->alloc ? (size_t)h->alloc * 2 : HISTORY_RING_MIN;
    if (want > max_count) want = max_count;
    if (want > UINT32_MAX) want = UINT32_MAX;
    return history_resize(h, (uint32_t)want);
}

int history_push(history_pool_t *pool, history_t *h, const message_t *m, size_t max_count,
                 size_t max_bytes) {
    size_t cost = history_message_bytes(m);
    if (max_count == 0 || cost > max_bytes) {
        history_free(pool, h);
        return 0;
    }
    while (h->count && (h->count >= max_count || h->bytes + cost > max_bytes))
        history_drop_oldest(pool, h);
    if (history_make_room(h, max_count) != 0) {
        history_free(pool, h);
        return -1;
    }
    message_t *slot = &h->ring[(h->head + h->count) % h->alloc];
    *slot = *m;
    slot->sse = NULL;
    /* the heap reads the oldest message's time: insert once it is there */
    if (h->count == 0 && history_heap_insert(pool, h) != 0) {
        free(h->ring);
        h->ring = NULL;
        h->alloc = h->head = 0;
        return -1;
    }
    if (slot->ws) buf_ref(slot->ws);
    h->count++;
    h->bytes += cost;
    pool->bytes += cost;
    return 1;
}

/* Rings also shrink here (a quarter full: halve), not at each drop, so a
 * ring at its limit does not resize back and forth. */
void history_expire(history_pool_t *pool, history_t *h, uint64_t now_ms, uint64_t ttl_ms) {
    if (ttl_ms != 0)
        while (h->count && h->ring[h->head].ms + ttl_ms <= now_ms) history_drop_oldest(pool, h);
    if (h->count && h->alloc > HISTORY_RING_MIN && h->count <= h->alloc / 4)
        history_resize(h, h->alloc / 2); /* out of memory: keep the larger ring */
}

history_t *history_pool_drop_oldest(history_pool_t *pool) {
    if (pool->n == 0) return NULL;
    history_t *h = pool->heap[0];
    history_drop_oldest(pool, h);
    return h;
}

message_t *history_at(const history_t *h, size_t i) {
    if (i >= h->count) return NULL;
    return &h->ring[(h->head + i) % h->alloc];
}

/* Ids are consecutive within an incarnation, so the index of since+1 is
 * arithmetic. An id from before this incarnation resumes only when this
 * incarnation lost nothing and no former one lost an id past since. */
int history_since(const history_t *h, uint64_t since, uint64_t base_id, uint64_t next_id,
                  uint64_t lost_before, size_t *start) {
    uint64_t first = h->count ? history_at(h, 0)->id : next_id;
    if (since >= next_id) return 0;
    if (since + 1 >= base_id) {
        if (since + 1 < first) return 0;
        *start = (size_t)(since + 1 - first);
        return 1;
    }
    if (first != base_id || since < lost_before) return 0;
    *start = 0;
    return 1;
}
