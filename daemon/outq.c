#include "outq.h"

#include <assert.h>
#include <stdlib.h>

int outq_push(outq_t *q, buf_t *b, size_t off) {
    if (q->len == q->cap) {
        /* An idle client's queue only ever held its handshake and one
         * answer; a burst doubles it (and it is kept while used). */
        uint32_t cap = q->cap ? q->cap * 2 : 2;
        outq_entry_t *r = malloc(cap * sizeof(*r));
        if (r == NULL) return -1;
        for (uint32_t i = 0; i < q->len; i++) r[i] = q->ring[(q->head + i) % q->cap];
        free(q->ring);
        q->ring = r;
        q->cap = cap;
        q->head = 0;
    }
    outq_entry_t *e = &q->ring[(q->head + q->len) % q->cap];
    e->buf = buf_ref(b);
    e->off = (uint32_t)off;
    q->len++;
    q->bytes += b->len - off;
    return 0;
}

void outq_pop(outq_t *q) {
    assert(q->len > 0);
    outq_entry_t *e = &q->ring[q->head];
    q->bytes -= e->buf->len - e->off;
    buf_unref(e->buf);
    q->head = (q->head + 1) % q->cap;
    q->len--;
}

uint32_t outq_iov(const outq_t *q, uv_buf_t *iov, uint32_t max, size_t *bytes) {
    uint32_t n = q->len < max ? q->len : max;
    *bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        const outq_entry_t *e = &q->ring[(q->head + i) % q->cap];
        iov[i] = uv_buf_init((char *)e->buf->data + e->off, (unsigned)(e->buf->len - e->off));
        *bytes += iov[i].len;
    }
    return n;
}

void outq_consume(outq_t *q, size_t n) {
    while (n > 0) {
        assert(q->len > 0);
        outq_entry_t *e = &q->ring[q->head];
        size_t left = e->buf->len - e->off;
        if (n < left) {
            e->off += (uint32_t)n;
            q->bytes -= n;
            return;
        }
        n -= left;
        outq_pop(q);
    }
}

void outq_truncate(outq_t *q, uint32_t keep) {
    while (q->len > keep) {
        outq_entry_t *e = &q->ring[(q->head + q->len - 1) % q->cap];
        q->bytes -= e->buf->len - e->off;
        buf_unref(e->buf);
        q->len--;
    }
}

void outq_trim(outq_t *q) {
    if (q->ring == NULL || q->len) return;
    free(q->ring);
    q->ring = NULL;
    q->cap = q->head = 0;
}

void outq_free(outq_t *q) {
    while (q->len) outq_pop(q);
    free(q->ring);
    q->ring = NULL;
    q->cap = q->head = 0;
}
