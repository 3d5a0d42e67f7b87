/* Unit tests for daemon/idem.c: keys per channel, the window, the bound
 * on keys (oldest first), new limits on reload, and growth past many
 * entries. */
#include "t.h"
#include "idem.h"

#include <stdint.h>
#include <stdio.h>

#define S(lit) lit, sizeof(lit) - 1

static void a_key_is_found_on_its_channel_only(void) {
    idem_t t;
    uint64_t id = 0;
    idem_init(&t, 10, 1000);
    CHECK_EQ_INT(idem_find(&t, S("orders"), S("k1"), 0, &id), 0);
    CHECK_EQ_INT(idem_add(&t, S("orders"), S("k1"), 42, 0), 0);
    CHECK_EQ_INT(idem_find(&t, S("orders"), S("k1"), 10, &id), 1);
    CHECK(id == 42);
    CHECK_EQ_INT(idem_find(&t, S("news"), S("k1"), 10, &id), 0);
    CHECK_EQ_INT(idem_find(&t, S("orders"), S("k2"), 10, &id), 0);
    /* the channel's length is hashed too: "ab"+"c" is not "a"+"bc" */
    CHECK_EQ_INT(idem_add(&t, S("ab"), S("c"), 7, 0), 0);
    CHECK_EQ_INT(idem_find(&t, S("a"), S("bc"), 1, &id), 0);
    idem_free(&t);
}

static void keys_leave_when_their_window_ends(void) {
    idem_t t;
    uint64_t id;
    idem_init(&t, 10, 1000);
    idem_add(&t, S("c"), S("old"), 1, 0);
    idem_add(&t, S("c"), S("new"), 2, 600);
    CHECK_EQ_INT(idem_find(&t, S("c"), S("old"), 999, &id), 1);
    CHECK_EQ_INT(idem_find(&t, S("c"), S("old"), 1000, &id), 0);
    CHECK_EQ_INT(t.count, 1);
    CHECK_EQ_INT(idem_find(&t, S("c"), S("new"), 1599, &id), 1);
    idem_expire(&t, 1600);
    CHECK_EQ_INT(t.count, 0);
    CHECK(t.oldest == NULL && t.newest == NULL);
    idem_free(&t);
}

static void at_max_keys_the_oldest_leaves_early(void) {
    idem_t t;
    uint64_t id;
    idem_init(&t, 3, 100000);
    char k[16];
    for (int i = 0; i < 5; i++) {
        int n = snprintf(k, sizeof(k), "k%d", i);
        CHECK_EQ_INT(idem_add(&t, S("c"), k, (size_t)n, (uint64_t)i, (uint64_t)i), 0);
    }
    CHECK_EQ_INT(t.count, 3);
    CHECK_EQ_INT(t.evicted, 2);
    CHECK_EQ_INT(idem_find(&t, S("c"), S("k1"), 5, &id), 0);
    CHECK_EQ_INT(idem_find(&t, S("c"), S("k2"), 5, &id), 1);
    CHECK(id == 2);
    /* a reload with a smaller bound drops the oldest at once */
    idem_limits_set(&t, 1, 100000, 5);
    CHECK_EQ_INT(t.count, 1);
    CHECK_EQ_INT(idem_find(&t, S("c"), S("k4"), 5, &id), 1);
    /* and 0 keys: nothing is remembered */
    idem_limits_set(&t, 0, 100000, 5);
    CHECK_EQ_INT(idem_add(&t, S("c"), S("k9"), 9, 6), 0);
    CHECK_EQ_INT(idem_find(&t, S("c"), S("k9"), 6, &id), 0);
    idem_free(&t);
}

static void many_keys_grow_the_table_and_all_stay_findable(void) {
    idem_t t;
    uint64_t id;
    idem_init(&t, 100000, 60000);
    char k[16];
    int missing = 0;
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(k, sizeof(k), "key-%d", i);
        CHECK_EQ_INT(idem_add(&t, S("ch"), k, (size_t)n, (uint64_t)i + 1, 1), 0);
    }
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(k, sizeof(k), "key-%d", i);
        if (!idem_find(&t, S("ch"), k, (size_t)n, 2, &id) || id != (uint64_t)i + 1) missing++;
    }
    CHECK_EQ_INT(missing, 0);
    CHECK(t.nbuckets >= 4096);
    idem_free(&t);
    CHECK_EQ_INT(t.count, 0);
}

/* An emit digests (channel, key) once and looks up and adds with it: the
 * same entries as the name-and-key calls, in both directions. */
static void a_digest_taken_once_finds_what_names_added(void) {
    idem_t t;
    idem_key_t k, other;
    uint64_t id = 0;
    idem_init(&t, 10, 1000);
    idem_key_make(&k, S("orders"), S("k1"));
    idem_key_make(&other, S("ab"), S("c"));
    CHECK_EQ_INT(idem_find_key(&t, &k, 0, &id), 0);
    CHECK_EQ_INT(idem_add_key(&t, &k, 42, 0), 0);
    CHECK_EQ_INT(idem_find(&t, S("orders"), S("k1"), 10, &id), 1);
    CHECK(id == 42);
    CHECK_EQ_INT(idem_find_key(&t, &other, 10, &id), 0);
    CHECK_EQ_INT(idem_add(&t, S("ab"), S("c"), 7, 0), 0);
    CHECK_EQ_INT(idem_find_key(&t, &other, 10, &id), 1);
    CHECK(id == 7);
    idem_key_make(&other, S("a"), S("bc"));
    CHECK_EQ_INT(idem_find_key(&t, &other, 10, &id), 0);
    /* the window and max_keys 0 hold for digests too */
    CHECK_EQ_INT(idem_find_key(&t, &k, 1000, &id), 0);
    idem_limits_set(&t, 0, 1000, 1000);
    CHECK_EQ_INT(idem_add_key(&t, &k, 43, 1000), 0);
    CHECK_EQ_INT(idem_find_key(&t, &k, 1001, &id), 0);
    idem_free(&t);
}

int main(void) {
    RUN(a_key_is_found_on_its_channel_only);
    RUN(keys_leave_when_their_window_ends);
    RUN(at_max_keys_the_oldest_leaves_early);
    RUN(many_keys_grow_the_table_and_all_stay_findable);
    RUN(a_digest_taken_once_finds_what_names_added);
    return T_DONE();
}
