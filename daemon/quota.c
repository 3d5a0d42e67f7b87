#include "quota.h"

#include "siphash.h"

#include <stdlib.h>
#include <string.h>

/* The bucket as of now_ms: refilled for the time since it was last seen. */
static uint64_t quota_bucket_level(uint64_t tokens, uint64_t ms, uint64_t now_ms, uint64_t rate,
                                   uint64_t burst) {
    uint64_t full = burst * 1000;
    if (ms == 0) return full;
    uint64_t dt = now_ms > ms ? now_ms - ms : 0;
    if (rate && dt > full / rate) return full;
    uint64_t t = tokens + dt * rate;
    return t > full ? full : t;
}

int quota_bucket_take(uint64_t *tokens, uint64_t *ms, size_t n, uint64_t now_ms, uint64_t rate,
                      uint64_t burst) {
    uint64_t t = quota_bucket_level(*tokens, *ms, now_ms, rate, burst);
    *tokens = t;
    *ms = now_ms ? now_ms : 1;
    if (t < (uint64_t)n * 1000) return -1;
    *tokens = t - (uint64_t)n * 1000;
    return 0;
}

int quota_table_init(quota_table_t *t) {
    memset(t, 0, sizeof(*t));
    t->key = siphash_process_key();
    t->nbuckets = 64;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    return t->key && t->buckets ? 0 : -1;
}

void quota_table_free(quota_table_t *t) {
    for (size_t i = 0; t->buckets && i < t->nbuckets; i++) {
        quota_entry_t *e = t->buckets[i];
        while (e) {
            quota_entry_t *next = e->next;
            free(e);
            e = next;
        }
    }
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}

static size_t quota_addr_len(const peer_addr_t *a) { return a->family == 4 ? 4 : 16; }

static uint32_t quota_hash(const quota_table_t *t, const peer_addr_t *a) {
    unsigned char k[17];
    k[0] = a->family;
    memcpy(k + 1, a->bytes, quota_addr_len(a));
    return (uint32_t)siphash24(t->key, k, 1 + quota_addr_len(a));
}

static void quota_table_grow(quota_table_t *t) {
    size_t n = t->nbuckets * 2;
    quota_entry_t **b = calloc(n, sizeof(*b));
    if (b == NULL) return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        quota_entry_t *e = t->buckets[i];
        while (e) {
            quota_entry_t *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

int quota_take(quota_table_t *t, const peer_addr_t *a, size_t n, uint64_t now_ms, uint64_t rate,
               uint64_t burst) {
    uint32_t h = quota_hash(t, a);
    quota_entry_t *e = t->buckets[h & (t->nbuckets - 1)];
    while (e && (e->hash != h || e->addr.family != a->family ||
                 memcmp(e->addr.bytes, a->bytes, quota_addr_len(a)) != 0))
        e = e->next;
    if (e == NULL) {
        if (n > burst) return -1;
        if (t->count + 1 > t->nbuckets) quota_table_grow(t);
        e = calloc(1, sizeof(*e));
        if (e == NULL) return -1;
        e->addr = *a;
        e->hash = h;
        e->next = t->buckets[h & (t->nbuckets - 1)];
        t->buckets[h & (t->nbuckets - 1)] = e;
        t->count++;
    }
    return quota_bucket_take(&e->tokens, &e->ms, n, now_ms, rate, burst);
}

void quota_table_sweep(quota_table_t *t, uint64_t now_ms, uint64_t rate, uint64_t burst,
                       size_t max_buckets) {
    for (size_t n = 0; n < max_buckets && n < t->nbuckets; n++) {
        if (t->cursor >= t->nbuckets) t->cursor = 0;
        quota_entry_t **pp = &t->buckets[t->cursor++];
        while (*pp) {
            quota_entry_t *e = *pp;
            if (quota_bucket_level(e->tokens, e->ms, now_ms, rate, burst) >= burst * 1000) {
                *pp = e->next;
                t->count--;
                free(e);
            } else {
                pp = &e->next;
            }
        }
    }
}
