/* Unit tests for daemon/mpsc.c (the loops' inboxes) and the atomic count of
 * daemon/buf.c: FIFO order, empty and refilled queues, and several producer
 * threads against one consumer (run under ThreadSanitizer by the
 * unit-sanitizers suite) losing, duplicating or reordering nothing. */
#include "t.h"
#include "buf.h"
#include "mpsc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct item {
    mpsc_node_t node; /* first: a node pointer is the item pointer */
    unsigned producer;
    uint64_t seq;
} item_t;

static void empty_queue_pops_null(void) {
    mpsc_t q;
    mpsc_init(&q);
    CHECK(mpsc_pop(&q) == NULL);
    CHECK(mpsc_pop(&q) == NULL);
}

static void pops_in_push_order_and_refills_after_empty(void) {
    mpsc_t q;
    item_t it[5];
    mpsc_init(&q);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5; i++) {
            it[i].seq = (uint64_t)i;
            mpsc_push(&q, &it[i].node);
        }
        for (int i = 0; i < 5; i++) {
            item_t *p = (item_t *)mpsc_pop(&q);
            CHECK(p == &it[i]);
        }
        CHECK(mpsc_pop(&q) == NULL);
    }
}

static void single_item_goes_in_and_out_repeatedly(void) {
    mpsc_t q;
    item_t a, b;
    mpsc_init(&q);
    for (int i = 0; i < 100; i++) {
        mpsc_push(&q, &a.node);
        CHECK(mpsc_pop(&q) == &a.node);
        CHECK(mpsc_pop(&q) == NULL);
        mpsc_push(&q, &a.node);
        mpsc_push(&q, &b.node);
        CHECK(mpsc_pop(&q) == &a.node);
        CHECK(mpsc_pop(&q) == &b.node);
    }
    CHECK(mpsc_pop(&q) == NULL);
}

/* Empty means nothing left to pop and no push begun: also after the last
 * node went out (the stub is back at both ends), not while one remains. */
static void empty_holds_exactly_when_nothing_is_left(void) {
    mpsc_t q;
    item_t a, b;
    mpsc_init(&q);
    CHECK(mpsc_empty(&q));
    mpsc_push(&q, &a.node);
    CHECK(!mpsc_empty(&q));
    mpsc_push(&q, &b.node);
    CHECK(mpsc_pop(&q) == &a.node);
    CHECK(!mpsc_empty(&q)); /* b is the consumer's tail: still to come */
    CHECK(mpsc_pop(&q) == &b.node);
    CHECK(mpsc_empty(&q));
    CHECK(mpsc_pop(&q) == NULL);
    CHECK(mpsc_empty(&q));
    mpsc_push(&q, &a.node);
    CHECK(!mpsc_empty(&q));
    CHECK(mpsc_pop(&q) == &a.node);
    CHECK(mpsc_empty(&q));
}

enum { PRODUCERS = 4, PER_PRODUCER = 20000 };

typedef struct producer {
    mpsc_t *q;
    unsigned id;
    item_t *items;
    buf_t *shared;
} producer_t;

static void *produce(void *arg) {
    producer_t *p = arg;
    for (uint64_t i = 0; i < PER_PRODUCER; i++) {
        p->items[i].producer = p->id;
        p->items[i].seq = i;
        buf_ref(p->shared);          /* as a loop queues a shared message */
        mpsc_push(p->q, &p->items[i].node);
    }
    return NULL;
}

static void producers_against_one_consumer_lose_and_reorder_nothing(void) {
    mpsc_t q;
    mpsc_init(&q);
    buf_t *shared = buf_new(8);
    producer_t ps[PRODUCERS];
    pthread_t th[PRODUCERS];
    uint64_t next[PRODUCERS] = {0};
    for (unsigned i = 0; i < PRODUCERS; i++) {
        ps[i] = (producer_t){&q, i, calloc(PER_PRODUCER, sizeof(item_t)), shared};
        pthread_create(&th[i], NULL, produce, &ps[i]);
    }
    uint64_t got = 0, bad = 0;
    while (got < (uint64_t)PRODUCERS * PER_PRODUCER) {
        item_t *it = (item_t *)mpsc_pop(&q);
        if (it == NULL) continue; /* empty, or a push half-way: try again */
        if (it->producer >= PRODUCERS || it->seq != next[it->producer]) bad++;
        else next[it->producer]++;
        buf_unref(shared);
        got++;
    }
    for (unsigned i = 0; i < PRODUCERS; i++) pthread_join(th[i], NULL);
    CHECK(mpsc_pop(&q) == NULL);
    CHECK_EQ_INT(bad, 0);
    for (unsigned i = 0; i < PRODUCERS; i++) CHECK_EQ_INT(next[i], PER_PRODUCER);
    CHECK_EQ_INT(atomic_load(&shared->refs), 1); /* every reference came back */
    buf_unref(shared);
    for (unsigned i = 0; i < PRODUCERS; i++) free(ps[i].items);
}

int main(void) {
    RUN(empty_queue_pops_null);
    RUN(pops_in_push_order_and_refills_after_empty);
    RUN(single_item_goes_in_and_out_repeatedly);
    RUN(empty_holds_exactly_when_nothing_is_left);
    RUN(producers_against_one_consumer_lose_and_reorder_nothing);
    return T_DONE();
}
