/* A lock-free multi-producer single-consumer queue (Vyukov's intrusive
 * design): any loop pushes, only the owning loop pops. Nodes live inside
 * the caller's items, so a push never allocates. */
#ifndef HERALD_MPSC_H
#define HERALD_MPSC_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct mpsc_node {
    _Atomic(struct mpsc_node *) next;
} mpsc_node_t;

typedef struct mpsc {
    _Atomic(mpsc_node_t *) head;  /* producers swap themselves in here */
    mpsc_node_t *tail;            /* the consumer's end */
    mpsc_node_t stub;
} mpsc_t;

void mpsc_init(mpsc_t *q);

/* Any thread. FIFO per producer; pushes from several producers interleave
 * in the order their exchanges on head happened. */
void mpsc_push(mpsc_t *q, mpsc_node_t *n);

/* The owning thread only. The oldest node, or NULL when the queue is empty
 * or a producer is half-way through a push (it wakes the consumer after). */
mpsc_node_t *mpsc_pop(mpsc_t *q);

/* The owning thread only: 1 when no producer has begun a push since the
 * last pop that emptied the queue. Sequentially consistent, so a consumer
 * that announces it will sleep and then finds the queue empty cannot miss a
 * producer that pushes and then looks at that announcement (hub.c). */
int mpsc_empty(mpsc_t *q);

#endif
