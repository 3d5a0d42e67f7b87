/* Unit tests for daemon/batch.c: good records, every malformation with the
 * failing record's index in the reason, lengths at the edges. */
#include "t.h"
#include "batch.h"

#define B(lit) lit, sizeof(lit) - 1

static void two_records_parse_with_raw_bytes(void) {
    const char body[] = "orders 5\nab\ncd\nnews 0\n\n";
    batch_iter_t it;
    batch_record_t r;
    batch_iter_init(&it, body, sizeof(body) - 1);
    CHECK_EQ_INT(batch_next(&it, &r), 1);
    CHECK_MEM(r.channel, r.channel_len, "orders", 6);
    CHECK_MEM(r.data, r.len, "ab\ncd", 5);
    CHECK_EQ_INT(batch_next(&it, &r), 1);
    CHECK_MEM(r.channel, r.channel_len, "news", 4);
    CHECK_EQ_INT(r.len, 0);
    CHECK_EQ_INT(batch_next(&it, &r), 0);
    char why[160];
    CHECK_EQ_INT(batch_validate(body, sizeof(body) - 1, why, sizeof(why)), 2);
}

static void binary_message_bytes_are_kept(void) {
    const char body[] = "a 3\n\0\xff\n\n";
    batch_iter_t it;
    batch_record_t r;
    batch_iter_init(&it, body, sizeof(body) - 1);
    CHECK_EQ_INT(batch_next(&it, &r), 1);
    CHECK_MEM(r.data, r.len, "\0\xff\n", 3);
}

static void check_bad(const char *body, size_t len, const char *reason) {
    char why[160] = "";
    CHECK_EQ_INT(batch_validate(body, len, why, sizeof(why)), -1);
    if (strstr(why, reason) == NULL) {
        fprintf(stderr, "  reason '%s' lacks '%s'\n", why, reason);
        t_failed_checks++;
    }
}

static void malformed_records_name_their_index(void) {
    check_bad(B("a 1\nx\nb 2\nxyz\n"), "record 1: message not followed by LF");
    check_bad(B("a 1\nx"), "record 0: message not followed by LF");
    check_bad(B("a 5\nx\n"), "record 0: length exceeds the body");
    check_bad(B("a 1\nx\nb 99999999999999999999999\nx\n"), "record 1: length");
    check_bad(B("a 01\nx\n"), "record 0: length has a leading zero");
    check_bad(B("a 1x\nx\n"), "record 0: length is not a decimal number");
    check_bad(B("a -1\nx\n"), "record 0: length is not a decimal number");
    check_bad(B("a \nx\n"), "record 0: missing length");
    check_bad(B("a\nx\n"), "record 0: header is not");
    check_bad(B("a 1\nx\nbad/name 1\nx\n"), "record 1: invalid channel name");
    check_bad(B(" 1\nx\n"), "record 0: invalid channel name");
    /* a third field is an idempotency key now (it was refused before) */
    check_bad(B("a 1 \nx\n"), "record 0: idempotency key");
    check_bad(B("a 1 k\tk\nx\n"), "record 0: idempotency key");
    check_bad(B("a 1 k k\nx\n"), "record 0: idempotency key");
    check_bad(B("a 1x k\nx\n"), "record 0: length is not a decimal number");
    check_bad(B("a  k\nx\n"), "record 0: missing length");
    check_bad(B("a 1"), "record 0: header line without LF");
    check_bad("", 0, "empty batch");
}

static void header_longer_than_possible_is_refused(void) {
    char body[400];
    memset(body, 'a', 300);
    memcpy(body + 300, " 1\nx\n", 5);
    check_bad(body, 305, "record 0:");
}

static void records_may_carry_an_idempotency_key(void) {
    char body[300];
    int n = snprintf(body, sizeof(body), "a 2 order-17:v1\nhi\nb 0\n\nc 1 %.*s\nx\n", 64,
                     "0123456789012345678901234567890123456789012345678901234567890123");
    batch_iter_t it;
    batch_record_t r;
    batch_iter_init(&it, body, (size_t)n);
    CHECK_EQ_INT(batch_next(&it, &r), 1);
    CHECK_MEM(r.channel, r.channel_len, "a", 1);
    CHECK_MEM(r.data, r.len, "hi", 2);
    CHECK_MEM(r.key, r.key_len, "order-17:v1", 11);
    CHECK_EQ_INT(batch_next(&it, &r), 1);
    CHECK(r.key == NULL && r.key_len == 0);
    CHECK_EQ_INT(batch_next(&it, &r), 1);
    CHECK_EQ_INT(r.key_len, 64);
    CHECK_EQ_INT(batch_next(&it, &r), 0);
    /* 65 bytes is one too many */
    n = snprintf(body, sizeof(body), "c 1 %.*sX\nx\n", 64,
                 "0123456789012345678901234567890123456789012345678901234567890123");
    check_bad(body, (size_t)n, "record 0: idempotency key");
    CHECK_EQ_INT(batch_key_check("\x7f", 1), -1);
    CHECK_EQ_INT(batch_key_check("~", 1), 0);
    CHECK_EQ_INT(batch_key_check("", 0), -1);
}

static void validate_rejects_whole_batch_before_publishing(void) {
    /* batch_validate is what emit.c calls before publishing anything: a bad
     * last record must make it fail even though earlier ones are fine. */
    char why[160];
    CHECK_EQ_INT(batch_validate(B("a 1\nx\nb 1\ny\nc 1\nzz"), why, sizeof(why)), -1);
    CHECK(strstr(why, "record 2") != NULL);
}

int main(void) {
    RUN(two_records_parse_with_raw_bytes);
    RUN(binary_message_bytes_are_kept);
    RUN(malformed_records_name_their_index);
    RUN(header_longer_than_possible_is_refused);
    RUN(validate_rejects_whole_batch_before_publishing);
    RUN(records_may_carry_an_idempotency_key);
    return T_DONE();
}
