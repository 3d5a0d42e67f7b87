/* Unit tests for daemon/hubremote.c's presence side: joins and leaves
 * queued for the Redis link in order (refused without a link), and notes
 * routed to the right loops: a join's answer to its connection's loop
 * only, member events and resets to the loops with subscribers. */
#include "t.h"
#include "hubremote.h"

#include <stdlib.h>
#include <uv.h>

static void ops_wait_for_a_link_and_keep_their_order(void) {
    hub_t hub;
    uv_loop_t uv;
    uv_async_t wake;
    CHECK(hub_init(&hub, 2) == 0);
    uv_loop_init(&uv);
    uv_async_init(&uv, &wake, NULL);
    CHECK_EQ_INT(hub_presence_op_push(&hub, 1, 0, "presence-a", 10, "u1", "null", 100, 1), HUB_EDOWN);
    CHECK(hub_presence_op_pop(&hub) == NULL);
    hub_presence_ops_open(&hub, &wake);
    uint64_t t1 = hub_presence_token(&hub), t2 = hub_presence_token(&hub);
    CHECK(t1 != 0 && t2 > t1);
    CHECK_EQ_INT(hub_presence_op_push(&hub, 1, 1, "presence-a", 10, "u1", "{\"n\":1}", 100, t1), 0);
    CHECK_EQ_INT(hub_presence_op_push(&hub, 0, 1, "presence-a", 10, "u1", NULL, 0, 0), 0);
    CHECK_EQ_INT(hub_presence_op_push(&hub, 1, 0, "presence-b", 10, "u2", "null", 7, t2), 0);
    hub_presence_op_t *op = hub_presence_op_pop(&hub);
    CHECK(op && op->join == 1 && op->loop == 1 && op->token == t1 && op->max == 100);
    CHECK_STR(op->name, "presence-a");
    CHECK_STR(op->user_id, "u1");
    CHECK_STR(op->info, "{\"n\":1}");
    free(op);
    op = hub_presence_op_pop(&hub);
    CHECK(op && op->join == 0 && op->info == NULL);
    free(op);
    hub_presence_ops_open(&hub, NULL); /* the third is dropped, and later ones refused */
    CHECK(hub_presence_op_pop(&hub) == NULL);
    CHECK_EQ_INT(hub_presence_op_push(&hub, 0, 0, "presence-a", 10, "u1", NULL, 0, 0), HUB_EDOWN);
    CHECK(!hub_presence_is_up(&hub));
    hub_presence_set_up(&hub, 1);
    CHECK(hub_presence_is_up(&hub));
    uv_close((uv_handle_t *)&wake, NULL);
    uv_run(&uv, UV_RUN_DEFAULT);
    uv_loop_close(&uv);
    hub_free(&hub);
}

static void notes_reach_the_loops_they_are_for(void) {
    hub_t hub;
    config_t cfg;
    uv_loop_t uv;
    uv_async_t wake[2];
    config_defaults(&cfg);
    CHECK(hub_init(&hub, 2) == 0);
    uv_loop_init(&uv);
    for (unsigned i = 0; i < 2; i++) {
        uv_async_init(&uv, &wake[i], NULL);
        hub_mailbox_open(&hub, i, &wake[i]);
    }
    uint64_t last;
    message_t *replay;
    size_t nreplay;
    /* loop 1 has subscribers of presence-a and of plain; loop 0 of none */
    CHECK(hub_subscribe(&hub, 1, &cfg, "presence-a", 10, 1, 1, 0, 0, &last, &replay, &nreplay) >= 0);
    CHECK(hub_subscribe(&hub, 1, &cfg, "plain", 5, 1, 1, 0, 0, &last, &replay, &nreplay) >= 0);

    char *roll = strdup("{\"presence\":{}}");
    hub_presence_note(&hub, HUB_NOTE_JOINED, "presence-a", 10, 7, NULL, 0, 0, 42, 0, roll);
    hub_note_t *n = hub_note_pop(&hub, 0);
    CHECK(n && n->kind == HUB_NOTE_JOINED && n->token == 42 && n->seq == 7 && n->status == 0);
    CHECK(n && n->roll == roll);
    if (n) hub_note_release(n); /* frees roll */
    CHECK(hub_note_pop(&hub, 1) == NULL);

    buf_t *frame = buf_new(8);
    hub_presence_note(&hub, HUB_NOTE_EVENT, "presence-a", 10, 8, frame, 2, 0, 0, 0, NULL);
    CHECK(hub_note_pop(&hub, 0) == NULL);
    n = hub_note_pop(&hub, 1);
    CHECK(n && n->kind == HUB_NOTE_EVENT && n->seq == 8 && n->frame == frame && n->frame_off == 2);
    if (n) hub_note_release(n);
    hub_presence_note(&hub, HUB_NOTE_EVENT, "presence-none", 13, 9, frame, 2, 0, 0, 0, NULL);
    CHECK(hub_note_pop(&hub, 0) == NULL && hub_note_pop(&hub, 1) == NULL); /* nobody subscribes */
    buf_unref(frame);

    hub_presence_reset_all(&hub); /* presence- channels only */
    n = hub_note_pop(&hub, 1);
    CHECK(n && n->kind == HUB_NOTE_RESET && n->name_len == 10 && memcmp(n->name, "presence-a", 10) == 0);
    if (n) hub_note_release(n);
    CHECK(hub_note_pop(&hub, 1) == NULL);
    CHECK(hub_note_pop(&hub, 0) == NULL);

    for (unsigned i = 0; i < 2; i++) {
        hub_mailbox_close(&hub, i);
        uv_close((uv_handle_t *)&wake[i], NULL);
    }
    uv_run(&uv, UV_RUN_DEFAULT);
    uv_loop_close(&uv);
    hub_free(&hub);
}

int main(void) {
    RUN(ops_wait_for_a_link_and_keep_their_order);
    RUN(notes_reach_the_loops_they_are_for);
    return T_DONE();
}
