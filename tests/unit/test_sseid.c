/* Unit tests for daemon/sseid.c: the SSE id that carries every channel's
 * position, written and read back, and every malformed form refused
 * without touching the positions. */
#include "t.h"
#include "sseid.h"

#include <stdint.h>

static void three_positions_round_trip(void) {
    uint64_t pos[3] = {1732530000000001ull, 0, 17}, back[3] = {0};
    uint8_t known[3] = {1, 0, 1}, kback[3] = {9, 9, 9};
    char out[128];
    CHECK_EQ_INT(sseid_format(out, sizeof(out), 3, pos, known), 21);
    CHECK_STR(out, "~1732530000000001..17");
    CHECK_EQ_INT(sseid_parse(out, strlen(out), 3, back, kback), 0);
    CHECK(back[0] == pos[0] && back[2] == 17);
    CHECK_EQ_INT(kback[0], 1);
    CHECK_EQ_INT(kback[1], 0);
    CHECK_EQ_INT(kback[2], 1);
}

static void one_channel_and_the_largest_position(void) {
    uint64_t pos[1] = {1234567890123456789ull}, back[1];
    uint8_t known[1] = {1}, kb[1];
    char out[32];
    CHECK(sseid_format(out, sizeof(out), 1, pos, known) > 0);
    CHECK_EQ_INT(sseid_parse(out, strlen(out), 1, back, kb), 0);
    CHECK(back[0] == pos[0] && kb[0] == 1);
    CHECK_EQ_INT(sseid_parse("~9999999999999999999", 20, 1, back, kb), 0);
    CHECK(back[0] == 9999999999999999999ull);
}

static void too_small_a_buffer_is_refused(void) {
    uint64_t pos[2] = {123456, 7};
    uint8_t known[2] = {1, 1};
    char out[16];
    CHECK_EQ_INT(sseid_format(out, 8, 2, pos, known), -1);
    CHECK_EQ_INT(sseid_format(out, 9, 2, pos, known), -1);
    CHECK_EQ_INT(sseid_format(out, 10, 2, pos, known), 9);
    CHECK_EQ_INT(sseid_format(out, 1, 0, pos, known), -1);
}

static void expect_refused(const char *id, size_t n) {
    uint64_t pos[4] = {5, 5, 5, 5};
    uint8_t known[4] = {7, 7, 7, 7};
    if (sseid_parse(id, strlen(id), n, pos, known) != -1) {
        fprintf(stderr, "  '%s' (n=%zu) was accepted\n", id, n);
        t_failed_checks++;
    }
    for (int i = 0; i < 4; i++) CHECK(pos[i] == 5 && known[i] == 7);
}

static void malformed_ids_change_nothing(void) {
    expect_refused("", 1);
    expect_refused("orders:17", 1);     /* the one-channel form */
    expect_refused("17", 1);
    expect_refused("~1.2", 1);          /* more fields than channels */
    expect_refused("~1.2", 3);          /* fewer */
    expect_refused("~1.2.3.4.5", 4);
    expect_refused("~1.x", 2);
    expect_refused("~1.-2", 2);
    expect_refused("~1. 2", 2);
    expect_refused("~+1", 1);
    expect_refused("~18446744073709551616", 1); /* 20 digits */
    expect_refused("~1", 0);
    expect_refused("~~1", 1);
}

static void empty_fields_are_unknown(void) {
    uint64_t pos[3] = {5, 5, 5};
    uint8_t known[3] = {7, 7, 7};
    CHECK_EQ_INT(sseid_parse("~..", 3, 3, pos, known), 0);
    CHECK(!known[0] && !known[1] && !known[2]);
    CHECK_EQ_INT(sseid_parse("~", 1, 1, pos, known), 0);
    CHECK(!known[0]);
}

int main(void) {
    RUN(three_positions_round_trip);
    RUN(one_channel_and_the_largest_position);
    RUN(too_small_a_buffer_is_refused);
    RUN(malformed_ids_change_nothing);
    RUN(empty_fields_are_unknown);
    return T_DONE();
}
