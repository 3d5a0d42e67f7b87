/* A connection's queue of shared buffers waiting to be written: a ring that
 * grows by doubling and is kept while used (sized by the bursts a client
 * has seen, not allocated per message), and freed when idle. */
#ifndef HERALD_OUTQ_H
#define HERALD_OUTQ_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"

typedef struct outq_entry {
    buf_t *buf;
    uint32_t off;          /* first byte not yet written */
} outq_entry_t;

typedef struct outq {
    outq_entry_t *ring;
    uint32_t cap, head, len;
    size_t bytes;          /* not yet written, over all entries */
} outq_t;

/* Append b from off (taking a reference). 0, or -1 out of memory. */
int outq_push(outq_t *q, buf_t *b, size_t off);

/* Drop the oldest entry (there must be one). */
void outq_pop(outq_t *q);

/* Bytes of the oldest entry not yet written (the frame in flight); 0 if none. */
static inline size_t outq_head_bytes(const outq_t *q) {
    return q->len ? q->ring[q->head].buf->len - q->ring[q->head].off : 0;
}

/* Point iov at up to max of the oldest entries; *bytes gets their total. */
uint32_t outq_iov(const outq_t *q, uv_buf_t *iov, uint32_t max, size_t *bytes);

/* n bytes were written from the head: drop what is done, advance the rest. */
void outq_consume(outq_t *q, size_t n);

/* Keep only the keep oldest entries (a slow consumer's backlog goes). */
void outq_truncate(outq_t *q, uint32_t keep);

/* Release the ring of an empty queue (idle connections hold none). */
void outq_trim(outq_t *q);

/* Drop every entry and the ring. */
void outq_free(outq_t *q);

#endif
