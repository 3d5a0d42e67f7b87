#include "idem.h"

#include "digest.h"

#include <stdlib.h>
#include <string.h>

struct idem_entry {
    idem_entry_t *hnext;      /* hash chain */
    idem_entry_t *newer;      /* the age list, oldest first */
    unsigned char digest[16];
    uint64_t id, at_ms;
};

void idem_init(idem_t *t, size_t max_keys, uint64_t window_ms) {
    memset(t, 0, sizeof(*t));
    t->max_keys = max_keys;
    t->window_ms = window_ms;
}

/* SHA-256 over the length and bytes of the channel, then the key, cut to
 * 16 bytes: two pairs share a digest only by a collision no emit client
 * can aim for, and the length prefix keeps "ab"+"c" apart from "a"+"bc".
 * Both were checked by the caller (a channel name, a 1-64 byte key). */
void idem_key_make(idem_key_t *k, const char *ch, size_t cl, const char *key, size_t kl) {
    unsigned char in[1 + IDEM_CHANNEL_MAX + IDEM_KEY_MAX], d[DIGEST_SHA256_BYTES];
    if (cl > IDEM_CHANNEL_MAX) cl = IDEM_CHANNEL_MAX;
    if (kl > IDEM_KEY_MAX) kl = IDEM_KEY_MAX;
    in[0] = (unsigned char)cl;
    memcpy(in + 1, ch, cl);
    memcpy(in + 1 + cl, key, kl);
    digest_sha256(in, 1 + cl + kl, d);
    memcpy(k->d, d, sizeof(k->d));
}

static size_t idem_bucket(const idem_t *t, const unsigned char d[16]) {
    uint64_t h;
    memcpy(&h, d, sizeof(h));
    return (size_t)(h & (t->nbuckets - 1));
}

/* Unlink the oldest entry from its chain and the age list, and free it. */
static void idem_drop_oldest(idem_t *t) {
    idem_entry_t *e = t->oldest;
    idem_entry_t **pp = &t->buckets[idem_bucket(t, e->digest)];
    while (*pp != e) pp = &(*pp)->hnext;
    *pp = e->hnext;
    t->oldest = e->newer;
    if (t->oldest == NULL) t->newest = NULL;
    t->count--;
    free(e);
}

void idem_expire(idem_t *t, uint64_t now_ms) {
    while (t->oldest && now_ms - t->oldest->at_ms >= t->window_ms) idem_drop_oldest(t);
}

void idem_limits_set(idem_t *t, size_t max_keys, uint64_t window_ms, uint64_t now_ms) {
    t->max_keys = max_keys;
    t->window_ms = window_ms;
    while (t->count > max_keys) {
        idem_drop_oldest(t);
        t->evicted++;
    }
    idem_expire(t, now_ms);
}

void idem_free(idem_t *t) {
    while (t->oldest) idem_drop_oldest(t);
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = 0;
}

int idem_find(idem_t *t, const char *channel, size_t channel_len, const char *key,
              size_t key_len, uint64_t now_ms, uint64_t *id) {
    if (t->count == 0) return 0;
    idem_key_t k;
    idem_key_make(&k, channel, channel_len, key, key_len);
    return idem_find_key(t, &k, now_ms, id);
}

int idem_find_key(idem_t *t, const idem_key_t *k, uint64_t now_ms, uint64_t *id) {
    if (t->count == 0) return 0;
    idem_expire(t, now_ms);
    if (t->count == 0) return 0;
    for (idem_entry_t *e = t->buckets[idem_bucket(t, k->d)]; e; e = e->hnext)
        if (memcmp(e->digest, k->d, 16) == 0) {
            *id = e->id;
            return 1;
        }
    return 0;
}

/* Twice as many buckets as entries at most; chains stay short. */
static int idem_grow(idem_t *t) {
    size_t n = t->nbuckets ? t->nbuckets * 2 : 64;
    idem_entry_t **b = calloc(n, sizeof(*b));
    if (b == NULL) return -1;
    idem_entry_t **old = t->buckets;
    size_t oldn = t->nbuckets;
    t->buckets = b;
    t->nbuckets = n;
    for (size_t i = 0; i < oldn; i++) {
        idem_entry_t *e = old[i], *next;
        for (; e; e = next) {
            next = e->hnext;
            size_t k = idem_bucket(t, e->digest);
            e->hnext = b[k];
            b[k] = e;
        }
    }
    free(old);
    return 0;
}

int idem_add(idem_t *t, const char *channel, size_t channel_len, const char *key,
             size_t key_len, uint64_t id, uint64_t now_ms) {
    if (t->max_keys == 0 || t->window_ms == 0) return 0;
    idem_key_t k;
    idem_key_make(&k, channel, channel_len, key, key_len);
    return idem_add_key(t, &k, id, now_ms);
}

int idem_add_key(idem_t *t, const idem_key_t *key, uint64_t id, uint64_t now_ms) {
    if (t->max_keys == 0 || t->window_ms == 0) return 0;
    idem_expire(t, now_ms);
    while (t->count >= t->max_keys) {
        idem_drop_oldest(t);
        t->evicted++;
    }
    if (t->count >= t->nbuckets && idem_grow(t) != 0) return -1;
    idem_entry_t *e = malloc(sizeof(*e));
    if (e == NULL) return -1;
    memcpy(e->digest, key->d, sizeof(e->digest));
    e->id = id;
    e->at_ms = now_ms;
    e->newer = NULL;
    size_t k = idem_bucket(t, e->digest);
    e->hnext = t->buckets[k];
    t->buckets[k] = e;
    if (t->newest) t->newest->newer = e;
    else t->oldest = e;
    t->newest = e;
    t->count++;
    return 0;
}
