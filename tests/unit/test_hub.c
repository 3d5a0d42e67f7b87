/* Unit tests for daemon/hub.c's hand-over between loops: messages reach the
 * other loop in id order, a loop is woken once per batch (not per message,
 * and not for messages it finds while it is still popping), and no wake-up
 * is lost when senders race the owner going to sleep (several sender
 * threads; run under ThreadSanitizer by the unit-sanitizers suite). */
#include "t.h"
#include "hub.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

typedef struct owner {
    hub_t *hub;
    const config_t *cfg;
    uv_loop_t uv;
    uv_async_t wake;
    uv_timer_t watchdog;
    uint64_t got, expected, wakes, bad;
    atomic_uint_fast64_t delivered; /* got, for a sender thread to watch */
    uint64_t last_id[4];
    uint64_t seen_at_tick;
    int stalls;
    int publish_inside;       /* messages to publish from inside a delivery */
    atomic_int senders_done;
} owner_t;

static void on_msg(void *ctx, hub_msg_t *hm) {
    owner_t *o = ctx;
    unsigned ch = (unsigned)(hm->name[1] - '0');
    if (ch >= 4 || hm->m.id <= o->last_id[ch]) o->bad++;
    else o->last_id[ch] = hm->m.id;
    o->got++;
    atomic_store(&o->delivered, o->got);
    /* a sender that hands a message over while the owner pops */
    while (o->publish_inside > 0) {
        o->publish_inside--;
        message_t m;
        size_t everywhere;
        uint64_t handed;
        if (hub_publish(o->hub, 0, o->cfg, "s0", 2, "x", 1, 0, &m, &everywhere, &handed) == 0)
            buf_unref(m.ws);
        hub_wake(o->hub, handed);
    }
}

static void owner_done(owner_t *o) {
    hub_mailbox_close(o->hub, 1);
    uv_close((uv_handle_t *)&o->wake, NULL);
    uv_close((uv_handle_t *)&o->watchdog, NULL);
}

static void on_wake(uv_async_t *a) {
    owner_t *o = a->data;
    o->wakes++;
    hub_mailbox_drain(o->hub, 1, on_msg, o);
    if (o->expected && o->got == o->expected) owner_done(o);
}

/* No progress for a whole second after every sender finished: a message
 * waits and nobody woke the owner. Count it and pop by hand to end. */
static void on_watchdog(uv_timer_t *t) {
    owner_t *o = t->data;
    if (atomic_load(&o->senders_done) && o->got == o->seen_at_tick && o->got < o->expected) {
        o->stalls++;
        hub_mailbox_drain(o->hub, 1, on_msg, o);
        if (o->got == o->expected) owner_done(o);
    }
    o->seen_at_tick = o->got;
}

static void owner_init(owner_t *o, hub_t *hub, config_t *cfg, unsigned nchannels) {
    memset(o, 0, sizeof(*o));
    config_defaults(cfg);
    CHECK(hub_init(hub, 2) == 0);
    o->hub = hub;
    o->cfg = cfg;
    uv_loop_init(&o->uv);
    uv_async_init(&o->uv, &o->wake, on_wake);
    o->wake.data = o;
    uv_timer_init(&o->uv, &o->watchdog);
    o->watchdog.data = o;
    hub_mailbox_open(hub, 1, &o->wake);
    for (unsigned i = 0; i < nchannels; i++) { /* a subscriber on loop 1 for each */
        char name[3] = {'s', (char)('0' + i), 0};
        uint64_t last;
        message_t *replay;
        size_t nreplay;
        CHECK(hub_subscribe(hub, 1, cfg, name, 2, 1, 1, 0, 0, &last, &replay, &nreplay) >= 0);
    }
}

static void owner_free(owner_t *o) {
    uv_run(&o->uv, UV_RUN_DEFAULT); /* the close callbacks */
    uv_loop_close(&o->uv);
    hub_free(o->hub);
}

static void publish(owner_t *o, const char *name, int n, uint64_t *handed) {
    for (int i = 0; i < n; i++) {
        message_t m;
        size_t everywhere;
        uint64_t h;
        CHECK(hub_publish(o->hub, 0, o->cfg, name, 2, "x", 1, 0, &m, &everywhere, &h) == 0);
        buf_unref(m.ws);
        *handed |= h;
    }
}

static void batch_of_messages_costs_one_wake_up(void) {
    hub_t hub;
    config_t cfg;
    owner_t o;
    owner_init(&o, &hub, &cfg, 1);
    uint64_t handed = 0;
    publish(&o, "s0", 10, &handed);
    CHECK_EQ_INT(handed, 2); /* loop 1 only, never the sender's own */
    hub_wake(&hub, handed);
    hub_wake(&hub, handed);
    uv_run(&o.uv, UV_RUN_NOWAIT);
    CHECK_EQ_INT(o.got, 10);
    CHECK_EQ_INT(o.wakes, 1);
    CHECK_EQ_INT(o.bad, 0);
    /* asleep again: the next batch wakes it again */
    handed = 0;
    publish(&o, "s0", 3, &handed);
    hub_wake(&hub, handed);
    uv_run(&o.uv, UV_RUN_NOWAIT);
    CHECK_EQ_INT(o.got, 13);
    CHECK_EQ_INT(o.wakes, 2);
    owner_done(&o);
    owner_free(&o);
}

/* A message handed over while the owner pops is found by that same pass:
 * no second wake-up (libuv alone would run the callback again). */
static void messages_sent_while_the_owner_pops_cost_no_wake_up(void) {
    hub_t hub;
    config_t cfg;
    owner_t o;
    owner_init(&o, &hub, &cfg, 1);
    uint64_t handed = 0;
    publish(&o, "s0", 1, &handed);
    o.publish_inside = 5;
    hub_wake(&hub, handed);
    for (int i = 0; i < 3; i++) uv_run(&o.uv, UV_RUN_NOWAIT);
    CHECK_EQ_INT(o.got, 6);
    CHECK_EQ_INT(o.wakes, 1);
    owner_done(&o);
    owner_free(&o);
}

/* Nothing is handed to a loop without subscribers of the channel. */
static void nothing_is_handed_without_subscribers(void) {
    hub_t hub;
    config_t cfg;
    owner_t o;
    owner_init(&o, &hub, &cfg, 1);
    uint64_t handed = 0;
    publish(&o, "s5", 4, &handed);
    CHECK_EQ_INT(handed, 0);
    owner_done(&o);
    owner_free(&o);
}

enum { SENDERS = 3, PER_SENDER = 10000 };

typedef struct sender {
    owner_t *o;
    unsigned id;
} sender_t;

/* Like a loop: a few emits per turn, one hub_wake for the turn, then a
 * pause of varying length, so the owner goes to sleep thousands of times
 * with senders arriving at every moment of it. */
static void *sender_run(void *arg) {
    sender_t *s = arg;
    char name[3] = {'s', (char)('0' + s->id), 0};
    uint64_t handed = 0;
    unsigned r = s->id + 1;
    for (int i = 0; i < PER_SENDER; i++) {
        publish(s->o, name, 1, &handed);
        if (i % (1 + (int)s->id) == 0) {
            hub_wake(s->o->hub, handed);
            handed = 0;
            r = r * 1103515245u + 12345u;
            uint64_t until = uv_hrtime() + (r >> 16) % 40000; /* up to 40 us */
            while (uv_hrtime() < until) {}
        }
    }
    hub_wake(s->o->hub, handed);
    atomic_fetch_add(&s->o->senders_done, 1);
    return NULL;
}

static void racing_senders_lose_no_wake_up_and_reorder_nothing(void) {
    hub_t hub;
    config_t cfg;
    owner_t o;
    owner_init(&o, &hub, &cfg, SENDERS);
    o.expected = (uint64_t)SENDERS * PER_SENDER;
    uv_timer_start(&o.watchdog, on_watchdog, 1000, 1000);
    pthread_t th[SENDERS];
    sender_t ss[SENDERS];
    for (unsigned i = 0; i < SENDERS; i++) {
        ss[i] = (sender_t){&o, i};
        pthread_create(&th[i], NULL, sender_run, &ss[i]);
    }
    uv_run(&o.uv, UV_RUN_DEFAULT);
    for (unsigned i = 0; i < SENDERS; i++) pthread_join(th[i], NULL);
    CHECK_EQ_INT(o.got, o.expected);
    CHECK_EQ_INT(o.bad, 0);
    CHECK_EQ_INT(o.stalls, 0);       /* a lost wake-up stalls until the watchdog */
    CHECK(o.wakes < o.expected / 2); /* batches, not one wake-up per message */
    fprintf(stderr, "  %llu messages, %llu wake-ups\n", (unsigned long long)o.got,
            (unsigned long long)o.wakes);
    uv_loop_close(&o.uv);
    hub_free(&hub);
}

enum { PINGS = 2000 };

/* One message at a time, the next sent the moment the owner has the last
 * one, so a send lands, again and again, just as the owner decides to
 * sleep. A message that waits 200 ms had its wake-up lost. */
static void *pinger_run(void *arg) {
    owner_t *o = arg;
    for (uint64_t i = 1; i <= PINGS; i++) {
        uint64_t handed = 0;
        publish(o, "s0", 1, &handed);
        hub_wake(o->hub, handed);
        uint64_t start = uv_hrtime(), now = start;
        while (atomic_load(&o->delivered) < i && now - start < 200000000) {
            if (now - start > 20000) sched_yield(); /* spin first: react at once */
            now = uv_hrtime();
        }
        if (atomic_load(&o->delivered) < i) o->stalls++;
    }
    atomic_fetch_add(&o->senders_done, 1);
    return NULL;
}

static void a_send_as_the_owner_falls_asleep_still_wakes_it(void) {
    hub_t hub;
    config_t cfg;
    owner_t o;
    owner_init(&o, &hub, &cfg, 1);
    o.expected = PINGS;
    uv_timer_start(&o.watchdog, on_watchdog, 1000, 1000);
    pthread_t th;
    pthread_create(&th, NULL, pinger_run, &o);
    uv_run(&o.uv, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    CHECK_EQ_INT(o.got, PINGS);
    CHECK_EQ_INT(o.stalls, 0);
    uv_loop_close(&o.uv);
    hub_free(&hub);
}

int main(void) {
    RUN(batch_of_messages_costs_one_wake_up);
    RUN(messages_sent_while_the_owner_pops_cost_no_wake_up);
    RUN(nothing_is_handed_without_subscribers);
    RUN(racing_senders_lose_no_wake_up_and_reorder_nothing);
    RUN(a_send_as_the_owner_falls_asleep_still_wakes_it);
    return T_DONE();
}
