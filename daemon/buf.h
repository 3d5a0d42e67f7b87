/* Reference-counted byte buffers: a broadcast is encoded once into one of
 * these and the same bytes are queued on every subscriber's socket. */
#ifndef HERALD_BUF_H
#define HERALD_BUF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The count is atomic: with several loops one encoded message is queued
 * on clients of every loop, and each loop drops its references itself. */
typedef struct buf {
    atomic_uint refs;
    size_t len;             /* bytes of data in use */
    size_t cap;             /* bytes allocated for data */
    unsigned char data[];
} buf_t;

/* A new buffer with one reference (the caller's) and room for cap bytes. */
buf_t *buf_new(size_t cap);

/* A new buffer holding a copy of p[0..n). */
buf_t *buf_from(const void *p, size_t n);

/* Take another reference; whoever calls this drops it with buf_unref(). */
static inline buf_t *buf_ref(buf_t *b) {
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

/* Drop a reference; the last one frees the buffer. NULL is ignored. */
void buf_unref(buf_t *b);

#endif
