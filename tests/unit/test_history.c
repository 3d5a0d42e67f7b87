/* Unit tests for daemon/history.c: bounds by count and age, resume inside
 * and outside the ring, gaps and other incarnations. */
#include "t.h"
#include "history.h"

static void push_id(history_t *h, uint64_t id, uint64_t ms) {
    message_t m = {.id = id, .ms = ms, .ws = buf_new(1)};
    history_push(h, &m);
    buf_unref(m.ws);
}

static void ring_keeps_the_newest_size_messages(void) {
    history_t h;
    history_init(&h, 3);
    for (uint64_t i = 0; i < 5; i++) push_id(&h, 100 + i, 1);
    CHECK_EQ_INT(history_count(&h), 3);
    CHECK_EQ_INT(history_at(&h, 0)->id, 102);
    CHECK_EQ_INT(history_at(&h, 2)->id, 104);
    CHECK(history_at(&h, 3) == NULL);
    history_free(&h);
}

static void zero_size_keeps_nothing(void) {
    history_t h;
    history_init(&h, 0);
    push_id(&h, 1, 1);
    CHECK_EQ_INT(history_count(&h), 0);
    history_free(&h);
}

static void ttl_drops_old_messages(void) {
    history_t h;
    history_init(&h, 10);
    push_id(&h, 1, 1000);
    push_id(&h, 2, 2000);
    push_id(&h, 3, 3000);
    history_expire(&h, 3500, 0);
    CHECK_EQ_INT(history_count(&h), 3); /* ttl 0: forever */
    history_expire(&h, 3500, 2000);
    CHECK_EQ_INT(history_count(&h), 2);
    CHECK_EQ_INT(history_at(&h, 0)->id, 2);
    history_expire(&h, 10000, 2000);
    CHECK_EQ_INT(history_count(&h), 0);
    push_id(&h, 4, 10000); /* usable again after emptying */
    CHECK_EQ_INT(history_at(&h, 0)->id, 4);
    history_free(&h);
}

static void since_inside_the_ring_resumes_after_it(void) {
    history_t h;
    history_init(&h, 3);
    /* channel base 100, messages 100..104, ring holds 102..104, next 105 */
    for (uint64_t i = 0; i < 5; i++) push_id(&h, 100 + i, 1);
    size_t start = 99;
    CHECK_EQ_INT(history_since(&h, 101, 100, 105, &start), 1);
    CHECK_EQ_INT(start, 0);
    CHECK_EQ_INT(history_since(&h, 103, 100, 105, &start), 1);
    CHECK_EQ_INT(start, 2);
    CHECK_EQ_INT(history_since(&h, 104, 100, 105, &start), 1); /* up to date */
    CHECK_EQ_INT(start, 3);
    history_free(&h);
}

static void since_outside_the_ring_is_a_gap(void) {
    history_t h;
    history_init(&h, 3);
    for (uint64_t i = 0; i < 5; i++) push_id(&h, 100 + i, 1);
    size_t start;
    CHECK_EQ_INT(history_since(&h, 100, 100, 105, &start), 0);  /* 101 evicted */
    CHECK_EQ_INT(history_since(&h, 105, 100, 105, &start), 0);  /* from the future */
    CHECK_EQ_INT(history_since(&h, 50, 100, 105, &start), 0);   /* other incarnation */
    CHECK_EQ_INT(history_since(&h, 0, 100, 105, &start), 0);
    history_free(&h);
}

static void empty_history_resumes_only_at_the_last_id(void) {
    history_t h;
    history_init(&h, 3);
    size_t start;
    /* new channel, base 500, no messages yet: last is 499 */
    CHECK_EQ_INT(history_since(&h, 499, 500, 500, &start), 1);
    CHECK_EQ_INT(start, 0);
    CHECK_EQ_INT(history_since(&h, 498, 500, 500, &start), 0);
    /* messages 500..501 expired by ttl: since 501 is fine, 500 is a gap */
    CHECK_EQ_INT(history_since(&h, 501, 500, 502, &start), 1);
    CHECK_EQ_INT(history_since(&h, 500, 500, 502, &start), 0);
    history_free(&h);
}

int main(void) {
    RUN(ring_keeps_the_newest_size_messages);
    RUN(zero_size_keeps_nothing);
    RUN(ttl_drops_old_messages);
    RUN(since_inside_the_ring_resumes_after_it);
    RUN(since_outside_the_ring_is_a_gap);
    RUN(empty_history_resumes_only_at_the_last_id);
    return T_DONE();
}
