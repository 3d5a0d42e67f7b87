/* Unit tests for daemon/history.c: bounds by count, age and bytes, rings
 * that grow as they fill, the pool that drops the oldest message of all
 * first, and resume inside and outside the ring, across incarnations. */
#include "t.h"
#include "history.h"

#include <stdlib.h>

static history_pool_t pool;

/* A message whose frame buffer has cap bytes. */
static int push_sized(history_t *h, uint64_t id, uint64_t ms, size_t cap, size_t max_count,
                      size_t max_bytes) {
    message_t m = {.id = id, .ms = ms, .ws = buf_new(cap)};
    int rc = history_push(&pool, h, &m, max_count, max_bytes);
    buf_unref(m.ws);
    return rc;
}

static void push_id(history_t *h, uint64_t id, uint64_t ms, size_t max_count) {
    push_sized(h, id, ms, 1, max_count, SIZE_MAX);
}

static size_t cost(size_t cap) { return cap + HISTORY_MESSAGE_OVERHEAD; }

static void ring_keeps_the_newest_size_messages(void) {
    history_t h;
    history_init(&h);
    for (uint64_t i = 0; i < 5; i++) push_id(&h, 100 + i, 1, 3);
    CHECK_EQ_INT(history_count(&h), 3);
    CHECK_EQ_INT(history_at(&h, 0)->id, 102);
    CHECK_EQ_INT(history_at(&h, 2)->id, 104);
    CHECK(history_at(&h, 3) == NULL);
    history_free(&pool, &h);
    CHECK_EQ_INT(pool.bytes, 0);
}

static void zero_size_keeps_nothing(void) {
    history_t h;
    history_init(&h);
    CHECK_EQ_INT(push_sized(&h, 1, 1, 1, 0, SIZE_MAX), 0);
    CHECK_EQ_INT(history_count(&h), 0);
    CHECK(h.ring == NULL);
    CHECK_EQ_INT(pool.n, 0);
    history_free(&pool, &h);
}

static void ttl_drops_old_messages(void) {
    history_t h;
    history_init(&h);
    push_id(&h, 1, 1000, 10);
    push_id(&h, 2, 2000, 10);
    push_id(&h, 3, 3000, 10);
    history_expire(&pool, &h, 3500, 0);
    CHECK_EQ_INT(history_count(&h), 3); /* ttl 0: forever */
    history_expire(&pool, &h, 3500, 2000);
    CHECK_EQ_INT(history_count(&h), 2);
    CHECK_EQ_INT(history_at(&h, 0)->id, 2);
    history_expire(&pool, &h, 10000, 2000);
    CHECK_EQ_INT(history_count(&h), 0);
    CHECK(h.ring == NULL);               /* an empty ring costs nothing */
    CHECK_EQ_INT(pool.bytes, 0);
    push_id(&h, 4, 10000, 10);           /* usable again after emptying */
    CHECK_EQ_INT(history_at(&h, 0)->id, 4);
    history_free(&pool, &h);
}

/* One message on a channel must not cost history_size slots. */
static void ring_grows_as_it_fills_and_shrinks_as_it_empties(void) {
    history_t h;
    history_init(&h);
    push_id(&h, 1, 1, 100);
    CHECK_EQ_INT(h.alloc, HISTORY_RING_MIN);
    push_id(&h, 2, 1, 100);
    CHECK_EQ_INT(h.alloc, 2);
    push_id(&h, 3, 1, 100);
    CHECK_EQ_INT(h.alloc, 4);
    for (uint64_t id = 4; id <= 64; id++) push_id(&h, id, 1, 100);
    CHECK_EQ_INT(h.alloc, 64);
    push_id(&h, 65, 1, 100);
    CHECK_EQ_INT(h.alloc, 100);          /* capped at the count limit */
    for (uint64_t id = 66; id <= 250; id++) push_id(&h, id, id, 100);
    CHECK_EQ_INT(h.alloc, 100);
    CHECK_EQ_INT(history_count(&h), 100);
    /* order survives every resize */
    for (size_t i = 0; i < 100; i++) CHECK_EQ_INT(history_at(&h, i)->id, 151 + i);
    history_expire(&pool, &h, 240 + 10, 10); /* keeps ids 241..250 (ms > 240) */
    CHECK_EQ_INT(history_count(&h), 10);
    CHECK(h.alloc <= 50);
    for (size_t i = 0; i < 10; i++) CHECK_EQ_INT(history_at(&h, i)->id, 241 + i);
    history_free(&pool, &h);
}

static void bytes_per_channel_drop_the_oldest_first(void) {
    history_t h;
    history_init(&h);
    size_t max = 3 * cost(1000);
    for (uint64_t id = 1; id <= 5; id++) CHECK_EQ_INT(push_sized(&h, id, id, 1000, 100, max), 1);
    CHECK_EQ_INT(history_count(&h), 3);
    CHECK_EQ_INT(history_at(&h, 0)->id, 3);
    CHECK_EQ_INT(h.bytes, 3 * cost(1000));
    CHECK_EQ_INT(pool.bytes, 3 * cost(1000));
    /* a larger one makes room by dropping as many old ones as it needs */
    CHECK_EQ_INT(push_sized(&h, 6, 6, 2500, 100, max), 1);
    CHECK_EQ_INT(history_count(&h), 1);
    CHECK_EQ_INT(h.bytes, cost(2500));
    CHECK_EQ_INT(pool.bytes, cost(2500));
    history_free(&pool, &h);
    CHECK_EQ_INT(pool.bytes, 0);
}

/* The ring must end at the last id: a message too large to keep empties
 * it, and a resume from before it is then a gap. */
static void a_message_over_the_channel_limit_empties_the_history(void) {
    history_t h;
    history_init(&h);
    size_t max = 4 * cost(100);
    push_sized(&h, 10, 1, 100, 100, max);
    push_sized(&h, 11, 1, 100, 100, max);
    CHECK_EQ_INT(push_sized(&h, 12, 1, 1000, 100, max), 0);
    CHECK_EQ_INT(history_count(&h), 0);
    CHECK_EQ_INT(pool.bytes, 0);
    CHECK_EQ_INT(pool.n, 0);
    size_t start;
    CHECK_EQ_INT(history_since(&h, 11, 10, 13, 0, &start), 0);
    CHECK_EQ_INT(history_since(&h, 12, 10, 13, 0, &start), 1);
    history_free(&pool, &h);
}

/* The heap's top is always the ring whose oldest message is the oldest of
 * all: checked against a linear scan through random pushes and drops. */
static void pool_drops_the_oldest_message_of_all_first(void) {
    enum { N = 40 };
    history_t hs[N];
    uint64_t next[N];
    for (int i = 0; i < N; i++) {
        history_init(&hs[i]);
        next[i] = 1;
    }
    srand(7);
    uint64_t ms = 1;
    size_t kept = 0;
    for (int step = 0; step < 5000; step++) {
        int i = rand() % N;
        if (rand() % 3) {
            ms += (uint64_t)(rand() % 3);
            size_t before = history_count(&hs[i]);
            push_sized(&hs[i], next[i]++, ms, 10, 8, SIZE_MAX);
            kept += history_count(&hs[i]) - before;
        } else if (pool.n) {
            uint64_t oldest = UINT64_MAX;
            for (int j = 0; j < N; j++)
                if (history_count(&hs[j]) && history_at(&hs[j], 0)->ms < oldest)
                    oldest = history_at(&hs[j], 0)->ms;
            history_t *h = pool.heap[0];
            CHECK_EQ_INT(history_at(h, 0)->ms, oldest);
            CHECK(history_pool_drop_oldest(&pool) == h);
            kept--;
        }
        size_t total = 0;
        for (int j = 0; j < N; j++) total += hs[j].bytes;
        if (total != pool.bytes) {
            CHECK_EQ_INT(total, pool.bytes);
            break;
        }
    }
    CHECK_EQ_INT(pool.bytes, kept * cost(10));
    while (history_pool_drop_oldest(&pool)) {}
    CHECK_EQ_INT(pool.bytes, 0);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(history_count(&hs[i]), 0);
        history_free(&pool, &hs[i]);
    }
}

static void since_inside_the_ring_resumes_after_it(void) {
    history_t h;
    history_init(&h);
    /* channel base 100, messages 100..104, ring holds 102..104, next 105 */
    for (uint64_t i = 0; i < 5; i++) push_id(&h, 100 + i, 1, 3);
    size_t start = 99;
    CHECK_EQ_INT(history_since(&h, 101, 100, 105, 0, &start), 1);
    CHECK_EQ_INT(start, 0);
    CHECK_EQ_INT(history_since(&h, 103, 100, 105, 0, &start), 1);
    CHECK_EQ_INT(start, 2);
    CHECK_EQ_INT(history_since(&h, 104, 100, 105, 0, &start), 1); /* up to date */
    CHECK_EQ_INT(start, 3);
    history_free(&pool, &h);
}

static void since_outside_the_ring_is_a_gap(void) {
    history_t h;
    history_init(&h);
    for (uint64_t i = 0; i < 5; i++) push_id(&h, 100 + i, 1, 3);
    size_t start;
    CHECK_EQ_INT(history_since(&h, 100, 100, 105, 0, &start), 0);  /* 101 evicted */
    CHECK_EQ_INT(history_since(&h, 105, 100, 105, 0, &start), 0);  /* from the future */
    CHECK_EQ_INT(history_since(&h, 50, 100, 105, 0, &start), 0);   /* this incarnation lost 100, 101 */
    CHECK_EQ_INT(history_since(&h, 0, 100, 105, 0, &start), 0);
    history_free(&pool, &h);
}

static void empty_history_resumes_only_at_the_last_id(void) {
    history_t h;
    history_init(&h);
    size_t start;
    /* new channel, base 500, no messages yet: last is 499 */
    CHECK_EQ_INT(history_since(&h, 499, 500, 500, 400, &start), 1);
    CHECK_EQ_INT(start, 0);
    /* messages 500..501 expired by ttl: since 501 is fine, 500 is a gap */
    CHECK_EQ_INT(history_since(&h, 501, 500, 502, 400, &start), 1);
    CHECK_EQ_INT(history_since(&h, 500, 500, 502, 400, &start), 0);
    CHECK_EQ_INT(history_since(&h, 450, 500, 502, 400, &start), 0);
    history_free(&pool, &h);
}

/* README "Resume": an id from before this incarnation (since + 1 <
 * base_id) resumes when this incarnation lost nothing and no former one
 * issued an id after since that is gone (lost_before <= since). */
static void since_from_a_former_incarnation_resumes_when_nothing_was_lost(void) {
    history_t h;
    history_init(&h);
    size_t start = 9;
    /* state-free for a while, then re-created at base 500: no messages */
    CHECK_EQ_INT(history_since(&h, 300, 500, 500, 300, &start), 1);
    CHECK_EQ_INT(start, 0);
    CHECK_EQ_INT(history_since(&h, 301, 500, 500, 300, &start), 1);
    CHECK_EQ_INT(history_since(&h, 299, 500, 500, 300, &start), 0); /* id 300 is gone */
    /* messages 500..502 since the re-creation, all kept: replayed whole */
    for (uint64_t i = 0; i < 3; i++) push_id(&h, 500 + i, 1, 3);
    CHECK_EQ_INT(history_since(&h, 300, 500, 503, 300, &start), 1);
    CHECK_EQ_INT(start, 0);
    CHECK_EQ_INT(history_since(&h, 299, 500, 503, 300, &start), 0);
    /* 500 dropped from this incarnation: a gap whatever the mark says */
    push_id(&h, 503, 1, 3);
    CHECK_EQ_INT(history_since(&h, 300, 500, 504, 300, &start), 0);
    CHECK_EQ_INT(history_since(&h, 500, 500, 504, 300, &start), 1);
    CHECK_EQ_INT(start, 0);
    /* since from the future is never a resume */
    CHECK_EQ_INT(history_since(&h, 504, 500, 504, 0, &start), 0);
    history_free(&pool, &h);
}

int main(void) {
    RUN(ring_keeps_the_newest_size_messages);
    RUN(zero_size_keeps_nothing);
    RUN(ttl_drops_old_messages);
    RUN(ring_grows_as_it_fills_and_shrinks_as_it_empties);
    RUN(bytes_per_channel_drop_the_oldest_first);
    RUN(a_message_over_the_channel_limit_empties_the_history);
    RUN(pool_drops_the_oldest_message_of_all_first);
    RUN(since_inside_the_ring_resumes_after_it);
    RUN(since_outside_the_ring_is_a_gap);
    RUN(empty_history_resumes_only_at_the_last_id);
    RUN(since_from_a_former_incarnation_resumes_when_nothing_was_lost);
    history_pool_free(&pool);
    return T_DONE();
}
