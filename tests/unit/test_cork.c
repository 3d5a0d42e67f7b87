/* Unit tests for daemon/cork.c: when a loop writes its subscribers'
 * frames. Times are made up (ns); a "turn" is what loop_flush does at the
 * end of a loop iteration: publish (or not), then cork_turn. */
#include "t.h"
#include "cork.h"

#define MS 1000000ULL
#define US 1000ULL

/* A turn that published a message at t, with frames queued. */
static unsigned publish_turn(cork_t *k, uint64_t t) {
    cork_published(k, t);
    return cork_turn(k, t, 1, 1);
}

/* What the loop does with a CORK_WRITE: write, note when it ended. */
static unsigned turn_and_write(cork_t *k, uint64_t t, unsigned what) {
    if (what & CORK_WRITE) cork_written(k, t);
    return what;
}

static void lone_message_is_written_at_once(void) {
    cork_t k = {0};
    CHECK_EQ_INT(publish_turn(&k, 100 * MS) & CORK_WRITE, CORK_WRITE);
    cork_written(&k, 100 * MS + 50 * US);
    /* the next one 5 ms later is alone too */
    CHECK_EQ_INT(publish_turn(&k, 105 * MS) & CORK_WRITE, CORK_WRITE);
}

static void second_message_within_the_gap_starts_a_cork(void) {
    cork_t k = {0};
    turn_and_write(&k, 100 * MS, publish_turn(&k, 100 * MS));
    unsigned w = publish_turn(&k, 100 * MS + 300 * US);
    CHECK_EQ_INT(w, CORK_ARM);
    CHECK(k.start_ns == 100 * MS + 300 * US);
}

/* The regression: a publisher slowed down (one emit every 0.3 ms) used to
 * be written 1 ms after the cork began, 3-4 frames a write; the cork now
 * lasts while the stream does, up to CORK_MAX_NS. */
static void slow_stream_is_held_past_one_gap_until_the_max(void) {
    cork_t k = {0};
    turn_and_write(&k, 100 * MS, publish_turn(&k, 100 * MS));
    uint64_t start = 100 * MS + 300 * US, t = start;
    int turns_held = 0;
    unsigned w = 0;
    for (; t < start + 10 * MS; t += 300 * US) {
        w = publish_turn(&k, t);
        if (w & CORK_WRITE) break;
        CHECK(w & CORK_ARM); /* every publishing turn pushes the pause back */
        turns_held++;
    }
    CHECK(w & CORK_WRITE);
    CHECK(w & CORK_DISARM);
    CHECK(t - start >= CORK_MAX_NS);
    CHECK(t - start < CORK_MAX_NS + 300 * US);
    CHECK(turns_held >= (int)(CORK_MAX_NS / (300 * US)));
    CHECK(t - start > 2 * CORK_GAP_NS); /* not the old fixed window */
}

static void pause_ends_the_cork_through_the_timer(void) {
    cork_t k = {0};
    turn_and_write(&k, 100 * MS, publish_turn(&k, 100 * MS));
    CHECK_EQ_INT(publish_turn(&k, 100 * MS + 200 * US), CORK_ARM);
    CHECK_EQ_INT(publish_turn(&k, 100 * MS + 400 * US), CORK_ARM);
    /* the timer fires: the stream paused */
    k.end = 1;
    CHECK_EQ_INT(cork_turn(&k, 102 * MS, 1, 1), CORK_WRITE | CORK_DISARM);
    CHECK_EQ_INT(k.start_ns, 0);
    CHECK_EQ_INT(k.end, 0);
}

static void turn_without_publish_keeps_or_ends_by_the_gap(void) {
    cork_t k = {0};
    turn_and_write(&k, 100 * MS, publish_turn(&k, 100 * MS));
    CHECK_EQ_INT(publish_turn(&k, 100 * MS + 200 * US), CORK_ARM);
    /* a pong read 0.5 ms later: the stream may go on, keep holding, and
     * leave the timer where it was */
    CHECK_EQ_INT(cork_turn(&k, 100 * MS + 700 * US, 1, 1), 0);
    /* a turn 1.3 ms after the last publish: the stream paused */
    CHECK_EQ_INT(cork_turn(&k, 101 * MS + 500 * US, 1, 1), CORK_WRITE | CORK_DISARM);
}

static void large_queue_or_shutdown_writes_at_once(void) {
    cork_t k = {0};
    turn_and_write(&k, 100 * MS, publish_turn(&k, 100 * MS));
    CHECK_EQ_INT(publish_turn(&k, 100 * MS + 100 * US), CORK_ARM);
    k.brk = 1; /* a client's queue passed CONN_CORK_BYTES */
    CHECK_EQ_INT(publish_turn(&k, 100 * MS + 200 * US), CORK_WRITE | CORK_DISARM);
    CHECK_EQ_INT(k.brk, 0);
    cork_written(&k, 100 * MS + 250 * US);
    cork_published(&k, 100 * MS + 300 * US);
    CHECK_EQ_INT(cork_turn(&k, 100 * MS + 300 * US, 1, 0), CORK_WRITE); /* stopping */
}

static void handed_over_stream_is_held_even_after_a_pause(void) {
    cork_t k = {0};
    turn_and_write(&k, 100 * MS, publish_turn(&k, 100 * MS));
    /* 20 ms later, but its own loop held it: this loop holds it too */
    k.stream_in = 1;
    CHECK_EQ_INT(publish_turn(&k, 120 * MS), CORK_ARM);
    CHECK_EQ_INT(k.stream_in, 0);
}

/* A message from Redis, handed over as part of a stream, for n clients. */
static unsigned remote_turn_for(cork_t *k, uint64_t t, size_t n) {
    k->stream_in = k->remote_in = 1;
    cork_published(k, t);
    return cork_turn(k, t, n, 1);
}

static unsigned remote_turn(cork_t *k, uint64_t t) {
    return remote_turn_for(k, t, CORK_REMOTE_MIN_CLIENTS);
}

/* Messages through Redis come a round trip apart (here 1.5 ms, past the
 * local gap): they are held with the longer gap, up to the longer max,
 * and once written a local stream has the local limits again. */
static void stream_from_redis_is_held_with_the_longer_gap_and_max(void) {
    cork_t k = {0};
    turn_and_write(&k, 100 * MS, publish_turn(&k, 100 * MS));
    uint64_t start = 200 * MS, t = start;
    unsigned w = 0;
    for (; t < start + 20 * MS; t += 1500 * US) {
        w = remote_turn(&k, t);
        if (w & CORK_WRITE) break;
        CHECK_EQ_INT(w, CORK_ARM);
        CHECK(cork_gap_ns(&k) == CORK_REMOTE_GAP_NS); /* the timer the loop arms */
        /* a turn without a message 1.2 ms later (past the local gap) holds on */
        CHECK_EQ_INT(cork_turn(&k, t + 1200 * US, CORK_REMOTE_MIN_CLIENTS, 1), 0);
    }
    CHECK(w & CORK_WRITE);
    CHECK(t - start >= CORK_REMOTE_MAX_NS);
    CHECK(t - start < CORK_REMOTE_MAX_NS + 1500 * US);
    CHECK_EQ_INT(k.remote, 0);
    cork_written(&k, t + 100 * US);
    /* a local stream right after: the local max again */
    t += 200 * US;
    CHECK_EQ_INT(publish_turn(&k, t), CORK_ARM);
    uint64_t s2 = t;
    while (!(publish_turn(&k, t += 300 * US) & CORK_WRITE)) {}
    CHECK(t - s2 >= CORK_MAX_NS && t - s2 < CORK_MAX_NS + 300 * US);
    /* a pause past the longer gap ends a stream from Redis */
    cork_written(&k, t);
    CHECK_EQ_INT(remote_turn(&k, t + 100 * US), CORK_ARM);
    CHECK_EQ_INT(cork_turn(&k, t + 100 * US + CORK_REMOTE_GAP_NS - 100 * US, 1, 1), 0);
    CHECK_EQ_INT(cork_turn(&k, t + 100 * US + CORK_REMOTE_GAP_NS, 1, 1), CORK_WRITE | CORK_DISARM);
}

/* With few clients a frame each costs little: a stream from Redis is not
 * held for them, whatever its pace (an emit every 2.7 ms, one subscriber). */
static void stream_from_redis_to_few_clients_is_written_at_once(void) {
    cork_t k = {0};
    uint64_t t = 100 * MS;
    for (int i = 0; i < 10; i++, t += 2700 * US) {
        unsigned w = remote_turn_for(&k, t, CORK_REMOTE_MIN_CLIENTS - 1);
        CHECK_EQ_INT(w & CORK_WRITE, CORK_WRITE);
        cork_written(&k, t + 50 * US);
    }
    CHECK_EQ_INT(k.remote, 0);
    /* the same pace for many clients is held */
    CHECK_EQ_INT(remote_turn_for(&k, t, CORK_REMOTE_MIN_CLIENTS), CORK_ARM);
    CHECK_EQ_INT(k.remote, 1);
}

static void nothing_queued_drops_the_cork(void) {
    cork_t k = {0};
    turn_and_write(&k, 100 * MS, publish_turn(&k, 100 * MS));
    CHECK_EQ_INT(publish_turn(&k, 100 * MS + 100 * US), CORK_ARM);
    /* every held client closed: nothing to write, the timer goes */
    CHECK_EQ_INT(cork_turn(&k, 100 * MS + 200 * US, 0, 1), CORK_DISARM);
    CHECK_EQ_INT(k.start_ns, 0);
    CHECK_EQ_INT(cork_turn(&k, 100 * MS + 300 * US, 0, 1), 0);
}

int main(void) {
    RUN(lone_message_is_written_at_once);
    RUN(second_message_within_the_gap_starts_a_cork);
    RUN(slow_stream_is_held_past_one_gap_until_the_max);
    RUN(pause_ends_the_cork_through_the_timer);
    RUN(turn_without_publish_keeps_or_ends_by_the_gap);
    RUN(large_queue_or_shutdown_writes_at_once);
    RUN(handed_over_stream_is_held_even_after_a_pause);
    RUN(stream_from_redis_is_held_with_the_longer_gap_and_max);
    RUN(stream_from_redis_to_few_clients_is_written_at_once);
    RUN(nothing_queued_drops_the_cork);
    return T_DONE();
}
