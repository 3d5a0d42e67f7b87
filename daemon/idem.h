/* Idempotency keys of emits (README "Emit API"): which (channel, key)
 * pairs were published, and under which message id, for a window of time,
 * so a retried emit answers the first id instead of publishing twice.
 * Entries hold a 16-byte digest of channel and key (32 bytes each whatever
 * their length), live in a hash table and a list oldest first; expired
 * ones leave from the front, and at max_keys the oldest leaves early.
 * Owned by one loop (the emit listeners are on loop 0): no lock. */
#ifndef HERALD_IDEM_H
#define HERALD_IDEM_H

#include <stddef.h>
#include <stdint.h>

#define IDEM_CHANNEL_MAX 255   /* longer channels or keys are cut (callers check) */
#define IDEM_KEY_MAX 64

typedef struct idem_entry idem_entry_t;

/* A (channel, key) pair as the table holds it: its 16-byte digest, taken
 * once per emit for both the look-up and the insertion. */
typedef struct idem_key {
    unsigned char d[16];
} idem_key_t;

typedef struct idem {
    idem_entry_t **buckets;
    size_t nbuckets, count;
    idem_entry_t *oldest, *newest;
    size_t max_keys;          /* 0: keys are not remembered */
    uint64_t window_ms;
    uint64_t evicted;         /* left before their window ended (max_keys) */
} idem_t;

/* An empty table; nothing is allocated until the first key. */
void idem_init(idem_t *t, size_t max_keys, uint64_t window_ms);

/* New limits (a reload): entries over the new max_keys leave, oldest first. */
void idem_limits_set(idem_t *t, size_t max_keys, uint64_t window_ms, uint64_t now_ms);

void idem_free(idem_t *t);

/* The digest of (channel, key), for idem_find_key and idem_add_key. */
void idem_key_make(idem_key_t *k, const char *channel, size_t channel_len, const char *key,
                   size_t key_len);

/* 1 and *id when (channel, key) was published within the window, else 0. */
int idem_find(idem_t *t, const char *channel, size_t channel_len, const char *key,
              size_t key_len, uint64_t now_ms, uint64_t *id);

/* Remember (channel, key) -> id from now_ms. 0, or -1 out of memory (the
 * emit is published all the same; only a retry would not be recognised). */
int idem_add(idem_t *t, const char *channel, size_t channel_len, const char *key,
             size_t key_len, uint64_t id, uint64_t now_ms);

/* The same, for a digest already taken (an emit looks up, then adds). */
int idem_find_key(idem_t *t, const idem_key_t *k, uint64_t now_ms, uint64_t *id);
int idem_add_key(idem_t *t, const idem_key_t *key, uint64_t id, uint64_t now_ms);

/* Drop what left the window (called by the sweep too, so memory goes back
 * without emits). */
void idem_expire(idem_t *t, uint64_t now_ms);

#endif
