#include "mpsc.h"

void mpsc_init(mpsc_t *q) {
    atomic_store_explicit(&q->stub.next, NULL, memory_order_relaxed);
    atomic_store_explicit(&q->head, &q->stub, memory_order_relaxed);
    q->tail = &q->stub;
}

/* One exchange claims the producer's place; the link that follows makes
 * the node visible to the consumer (release pairs with its acquire). The
 * exchange is sequentially consistent for mpsc_empty's sake. */
void mpsc_push(mpsc_t *q, mpsc_node_t *n) {
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    mpsc_node_t *prev = atomic_exchange_explicit(&q->head, n, memory_order_seq_cst);
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* The stub keeps one node in the list so the last real node can be handed
 * out without racing producers that are appending behind it. */
mpsc_node_t *mpsc_pop(mpsc_t *q) {
    mpsc_node_t *tail = q->tail;
    mpsc_node_t *next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (tail == &q->stub) {
        if (next == NULL) return NULL;
        q->tail = next;
        tail = next;
        next = atomic_load_explicit(&next->next, memory_order_acquire);
    }
    if (next) {
        q->tail = next;
        return tail;
    }
    if (tail != atomic_load_explicit(&q->head, memory_order_acquire)) return NULL;
    mpsc_push(q, &q->stub);
    next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (next) {
        q->tail = next;
        return tail;
    }
    return NULL;
}

/* The consumer's tail is the oldest node not yet handed out, or the stub
 * once everything was; a push begins by swapping head, so the stub at both
 * ends means nothing is queued and no push has begun. A push half-way (head
 * swapped, link not yet written) counts as not empty. */
int mpsc_empty(mpsc_t *q) {
    return q->tail == &q->stub &&
           atomic_load_explicit(&q->head, memory_order_seq_cst) == &q->stub;
}
