/* Unit tests for daemon/presence.c: one member per user however many
 * connections, the member cap, and the sequence that orders member events
 * against snapshots. */
#include "t.h"
#include "presence.h"

static void a_user_is_one_member_however_many_connections(void) {
    presence_table_t t;
    presence_table_init(&t);
    CHECK_EQ_INT(presence_join(&t, "presence-a", 10, "7", "{\"n\":1}", 100), 1);
    CHECK_EQ_INT(t.seq, 1);
    CHECK_EQ_INT(presence_join(&t, "presence-a", 10, "7", "{\"n\":2}", 100), 0);
    CHECK_EQ_INT(t.seq, 1); /* a second tab is no event */
    presence_channel_t *p = presence_find(&t, "presence-a", 10);
    CHECK(p != NULL);
    CHECK_EQ_INT(p->nmembers, 1);
    CHECK_STR(p->members->info, "{\"n\":1}"); /* the first tab's info stays */
    CHECK_EQ_INT(presence_leave(&t, "presence-a", 10, "7"), 0);
    CHECK_EQ_INT(t.seq, 1);
    CHECK_EQ_INT(presence_leave(&t, "presence-a", 10, "7"), 1);
    CHECK_EQ_INT(t.seq, 2);
    CHECK(presence_find(&t, "presence-a", 10) == NULL); /* the empty channel went */
    CHECK_EQ_INT(t.count, 0);
    CHECK_EQ_INT(presence_leave(&t, "presence-a", 10, "7"), PRESENCE_ENOENT);
    presence_table_free(&t);
}

static void channels_and_users_are_apart(void) {
    presence_table_t t;
    presence_table_init(&t);
    CHECK_EQ_INT(presence_join(&t, "presence-a", 10, "1", "null", 100), 1);
    CHECK_EQ_INT(presence_join(&t, "presence-b", 10, "1", "null", 100), 1);
    CHECK_EQ_INT(presence_join(&t, "presence-a", 10, "2", "null", 100), 1);
    CHECK_EQ_INT(presence_join(&t, "presence-a", 10, "12", "null", 100), 1);
    CHECK_EQ_INT(t.count, 2);
    CHECK_EQ_INT(presence_find(&t, "presence-a", 10)->nmembers, 3);
    CHECK_EQ_INT(presence_find(&t, "presence-b", 10)->nmembers, 1);
    CHECK(presence_find(&t, "presence-", 9) == NULL);
    CHECK_EQ_INT(presence_leave(&t, "presence-b", 10, "2"), PRESENCE_ENOENT);
    CHECK_EQ_INT(t.seq, 4);
    presence_table_free(&t); /* members still held are freed */
}

static void a_new_member_past_max_is_refused_a_known_one_counts(void) {
    presence_table_t t;
    presence_table_init(&t);
    CHECK_EQ_INT(presence_join(&t, "presence-a", 10, "1", "null", 2), 1);
    CHECK_EQ_INT(presence_join(&t, "presence-a", 10, "2", "null", 2), 1);
    CHECK_EQ_INT(presence_join(&t, "presence-a", 10, "3", "null", 2), PRESENCE_EFULL);
    CHECK_EQ_INT(presence_join(&t, "presence-a", 10, "2", "null", 2), 0);
    CHECK_EQ_INT(presence_find(&t, "presence-a", 10)->nmembers, 2);
    CHECK_EQ_INT(t.seq, 2);
    /* a refused first member leaves no empty channel behind */
    CHECK_EQ_INT(presence_join(&t, "presence-z", 10, "1", "null", 0), PRESENCE_EFULL);
    CHECK(presence_find(&t, "presence-z", 10) == NULL);
    presence_table_free(&t);
}

/* A channel emptied and filled again keeps counting up: an event from
 * before it emptied is never taken for one after a new snapshot. */
static void the_sequence_never_restarts(void) {
    presence_table_t t;
    presence_table_init(&t);
    presence_join(&t, "presence-a", 10, "1", "null", 100);
    presence_leave(&t, "presence-a", 10, "1");
    CHECK_EQ_INT(presence_join(&t, "presence-a", 10, "1", "null", 100), 1);
    CHECK_EQ_INT(t.seq, 3);
    presence_table_free(&t);
}

int main(void) {
    RUN(a_user_is_one_member_however_many_connections);
    RUN(channels_and_users_are_apart);
    RUN(a_new_member_past_max_is_refused_a_known_one_counts);
    RUN(the_sequence_never_restarts);
    return T_DONE();
}
