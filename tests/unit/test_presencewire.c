/* Unit tests for daemon/presencewire.c: a presence channel's Redis keys
 * share the channel's hash tag, node keys never meet a channel's, and the
 * member events nodes publish decode (and junk does not). */
#include "t.h"
#include "presencewire.h"

#include <stdint.h>

static void keys_share_the_channels_hash_tag(void) {
    char k[64];
    CHECK_EQ_INT(presencewire_key(k, sizeof(k), PRESENCEWIRE_MEMBERS, "presence-a", 10), 22);
    CHECK_STR(k, "herald:{presence-a}:pm");
    presencewire_key(k, sizeof(k), PRESENCEWIRE_NODES, "presence-a", 10);
    CHECK_STR(k, "herald:{presence-a}:pn");
    presencewire_key(k, sizeof(k), PRESENCEWIRE_USERS, "presence-a", 10);
    CHECK_STR(k, "herald:{presence-a}:pu");
    presencewire_key(k, sizeof(k), PRESENCEWIRE_SEQ, "presence-a", 10);
    CHECK_STR(k, "herald:{presence-a}:ps");
    presencewire_key(k, sizeof(k), PRESENCEWIRE_OCCUPIED, "orders", 6);
    CHECK_STR(k, "herald:{orders}:oc");
    CHECK_EQ_INT(presencewire_key(k, sizeof(k), 9, "presence-a", 10), -1);
    CHECK_EQ_INT(presencewire_key(k, 10, PRESENCEWIRE_MEMBERS, "presence-a", 10), -1); /* too small */
    CHECK_EQ_INT(presencewire_node_key(k, sizeof(k), "00ff00ff00ff00ff"), 34);
    CHECK_STR(k, "herald:{#node:00ff00ff00ff00ff}:pc"); /* '#' is no channel byte */
    CHECK_EQ_INT(presencewire_node_key(k, 20, "00ff00ff00ff00ff"), -1);
}

static void member_events_decode(void) {
    presencewire_event_t e;
    const char *a = "P42 a user-7\n{\"name\":\"Ann\"}";
    CHECK(presencewire_is_event(a, strlen(a)));
    CHECK(!presencewire_is_event("42 1700\nhello", 13)); /* a message starts with its id */
    CHECK_EQ_INT(presencewire_event_decode(a, strlen(a), &e), 0);
    CHECK(e.seq == 42);
    CHECK_EQ_INT(e.added, 1);
    CHECK_MEM(e.user_id, e.user_len, "user-7", 6);
    CHECK_MEM(e.info, e.info_len, "{\"name\":\"Ann\"}", 14);
    char d[128];
    int n = presencewire_event_data(d, sizeof(d), &e);
    CHECK_MEM(d, (size_t)n, "{\"user_id\":\"user-7\",\"user_info\":{\"name\":\"Ann\"}}", 47);
    CHECK_EQ_INT(presencewire_event_data(d, 20, &e), -1);

    const char *r = "P18446744073709551615 r 9";
    CHECK_EQ_INT(presencewire_event_decode(r, strlen(r), &e), 0);
    CHECK(e.seq == UINT64_MAX);
    CHECK_EQ_INT(e.added, 0);
    CHECK_MEM(e.user_id, e.user_len, "9", 1);
    n = presencewire_event_data(d, sizeof(d), &e);
    CHECK_MEM(d, (size_t)n, "{\"user_id\":\"9\"}", 15);
}

static void junk_is_refused(void) {
    static const char *const bad[] = {
        "", "P", "P0 a u\nnull", "P01 a u\nnull", "P1", "P1 ", "P1 a", "P1 a ", "P1 x u\nnull",
        "P1  a u\nnull", "P1 a u", "P1 a u\n", "P1 a \nnull", "P1 r u\nnull", "P1 r ",
        "P18446744073709551616 r u", "P1 r a\"b", "P1 r a\\b", "P1 r a\tb", "Q1 r u", "p1 r u",
        "P1a r u",
    };
    presencewire_event_t e;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = presencewire_event_decode(bad[i], strlen(bad[i]), &e);
        if (r != -1) fprintf(stderr, "  accepted: '%s'\n", bad[i]);
        CHECK_EQ_INT(r, -1);
    }
    CHECK_EQ_INT(presencewire_event_decode("P1 a u\nnu\0l", 12, &e), -1); /* a NUL in user_info */
    char longid[200] = "P1 r ";
    memset(longid + 5, 'x', 128);
    CHECK_EQ_INT(presencewire_event_decode(longid, strlen(longid), &e), -1); /* 128 bytes: too long */
    longid[5 + 127] = '\0';
    CHECK_EQ_INT(presencewire_event_decode(longid, strlen(longid), &e), 0);
}

int main(void) {
    RUN(keys_share_the_channels_hash_tag);
    RUN(member_events_decode);
    RUN(junk_is_refused);
    return T_DONE();
}
