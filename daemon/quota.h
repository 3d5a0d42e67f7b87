/* Token buckets that bound how fast a client may make heraldd create
 * state (channels): one per connection (two integers in conn_t) and one
 * per client address, kept here beyond the address's connections so that
 * reconnecting does not refill it. Entries go once their bucket is full
 * again, so the table holds only addresses active in the last seconds. */
#ifndef HERALD_QUOTA_H
#define HERALD_QUOTA_H

#include <stddef.h>
#include <stdint.h>

#include "peer.h"

/* A bucket of burst units refilled at rate per second, counted in
 * thousandths; ms 0 means untouched (full). Take n units: 0, or -1 (and
 * nothing taken) when fewer are left. */
int quota_bucket_take(uint64_t *tokens, uint64_t *ms, size_t n, uint64_t now_ms, uint64_t rate,
                      uint64_t burst);

typedef struct quota_entry {
    struct quota_entry *next;
    peer_addr_t addr;
    uint32_t hash;
    uint64_t tokens, ms;
} quota_entry_t;

typedef struct quota_table {
    quota_entry_t **buckets;
    size_t nbuckets, count, cursor;
    const unsigned char *key; /* SipHash key: addresses come from outside */
} quota_table_t;

int quota_table_init(quota_table_t *t);
void quota_table_free(quota_table_t *t);

/* Take n units of a's bucket. 0, or -1 when refused (or out of memory:
 * refusing is the bounded answer). */
int quota_take(quota_table_t *t, const peer_addr_t *a, size_t n, uint64_t now_ms, uint64_t rate,
               uint64_t burst);

/* Forget addresses whose bucket is full again, visiting at most
 * max_buckets buckets from where the last call stopped. */
void quota_table_sweep(quota_table_t *t, uint64_t now_ms, uint64_t rate, uint64_t burst,
                       size_t max_buckets);

#endif
