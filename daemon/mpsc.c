#include "mpsc.h"

void mpsc_init(mpsc_t *q) {
    atomic_store_explicit(&q->stub.next, NULL, memory_order_relaxed);
    atomic_store_explicit(&q->head, &q->stub, memory_order_relaxed);
    q->tail = &q->stub;
}

/* One exchange claims the producer's place; the link that follows makes
 * the node visible to the consumer (release pairs with its acquire). */
void mpsc_push(mpsc_t *q, mpsc_node_t *n) {
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    mpsc_node_t *prev = atomic_exchange_explicit(&q->head, n, memory_order_acq_rel);
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
