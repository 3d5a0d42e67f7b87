#include "buf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* One allocation holds the header and the bytes, so a message costs one
 * malloc however many subscribers share it. */
buf_t *buf_new(size_t cap) {
    buf_t *b = malloc(sizeof(*b) + cap);
    if (b == NULL) return NULL;
    atomic_init(&b->refs, 1);
    b->len = 0;
    b->cap = cap;
    return b;
}

/* Small control frames and HTTP responses are built elsewhere and copied. */
buf_t *buf_from(const void *p, size_t n) {
    buf_t *b = buf_new(n);
    if (b == NULL) return NULL;
    memcpy(b->data, p, n);
    b->len = n;
    return b;
}

/* The last reference frees: queue entries and history each hold one. */
void buf_unref(buf_t *b) {
    if (b == NULL) return;
    unsigned before = atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel);
    assert(before > 0);
    if (before == 1) free(b);
}
