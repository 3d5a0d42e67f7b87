/* Unit tests for daemon/utf8.c: RFC 3629 boundaries, the Autobahn 6.x
 * vector families, every split position, and an exhaustive comparison with
 * a plainly written reference decoder over all 1-3 byte inputs. */
#include "t.h"
#include "utf8.h"
#include "utf8_reference.h"

#include <stdint.h>
#include <stdlib.h>

#define S(lit) (const unsigned char *)(lit), sizeof(lit) - 1

/* Whole, byte by byte, and in every 2-piece split must all agree. */
static int valid_split_everywhere(const unsigned char *s, size_t len) {
    int whole = utf8_valid(s, len);
    uint32_t st = UTF8_ACCEPT;
    for (size_t i = 0; i < len; i++) st = utf8_feed(st, s + i, 1);
    if ((st == UTF8_ACCEPT) != whole) return -1;
    for (size_t cut = 0; cut <= len; cut++) {
        st = utf8_feed(utf8_feed(UTF8_ACCEPT, s, cut), s + cut, len - cut);
        if ((st == UTF8_ACCEPT) != whole) return -1;
    }
    return whole;
}

static void empty_input_is_valid(void) {
    CHECK(utf8_valid((const unsigned char *)"", 0));
    CHECK_EQ_INT(utf8_feed(UTF8_ACCEPT, NULL, 0), UTF8_ACCEPT);
}

static void ascii_is_valid(void) {
    CHECK(utf8_valid(S("Hello, world! {\"type\":\"ping\",\"req\":3}")));
    CHECK(utf8_valid(S("\x00\x01\x7f")));
}

static void boundary_code_points_are_valid(void) {
    CHECK(utf8_valid(S("\x7f")));                 /* U+007F */
    CHECK(utf8_valid(S("\xc2\x80")));             /* U+0080 */
    CHECK(utf8_valid(S("\xdf\xbf")));             /* U+07FF */
    CHECK(utf8_valid(S("\xe0\xa0\x80")));         /* U+0800 */
    CHECK(utf8_valid(S("\xed\x9f\xbf")));         /* U+D7FF */
    CHECK(utf8_valid(S("\xee\x80\x80")));         /* U+E000 */
    CHECK(utf8_valid(S("\xef\xbf\xbd")));         /* U+FFFD */
    CHECK(utf8_valid(S("\xef\xbf\xbf")));         /* U+FFFF */
    CHECK(utf8_valid(S("\xf0\x90\x80\x80")));     /* U+10000 */
    CHECK(utf8_valid(S("\xf4\x8f\xbf\xbf")));     /* U+10FFFF */
}

static void autobahn_6_2_to_6_4_valid_texts_pass_at_every_split(void) {
    CHECK_EQ_INT(valid_split_everywhere(S("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!")), 1);
    CHECK_EQ_INT(valid_split_everywhere(S("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")), 1);
    CHECK_EQ_INT(valid_split_everywhere(S("\xf0\x9f\x98\x80 emoji \xf0\x9f\x8e\x89")), 1);
}

static void overlong_forms_are_rejected(void) {
    CHECK(!utf8_valid(S("\xc0\x80")));
    CHECK(!utf8_valid(S("\xc0\xaf")));            /* overlong '/' */
    CHECK(!utf8_valid(S("\xc1\xbf")));
    CHECK(!utf8_valid(S("\xe0\x80\xaf")));
    CHECK(!utf8_valid(S("\xe0\x9f\xbf")));        /* max overlong 3-byte */
    CHECK(!utf8_valid(S("\xf0\x80\x80\xaf")));
    CHECK(!utf8_valid(S("\xf0\x8f\xbf\xbf")));    /* max overlong 4-byte */
    CHECK(!utf8_valid(S("\xf8\x80\x80\x80\xaf"))); /* 5-byte forms */
    CHECK(!utf8_valid(S("\xfc\x80\x80\x80\x80\xaf")));
}

static void surrogates_are_rejected(void) {
    CHECK(!utf8_valid(S("\xed\xa0\x80")));        /* U+D800 */
    CHECK(!utf8_valid(S("\xed\xad\xbf")));        /* U+DB7F */
    CHECK(!utf8_valid(S("\xed\xb0\x80")));        /* U+DC00 */
    CHECK(!utf8_valid(S("\xed\xbf\xbf")));        /* U+DFFF */
    CHECK(!utf8_valid(S("\xed\xa0\x80\xed\xb0\x80"))); /* a "pair" */
}

static void code_points_above_10ffff_are_rejected(void) {
    CHECK(!utf8_valid(S("\xf4\x90\x80\x80")));    /* U+110000 */
    CHECK(!utf8_valid(S("\xf7\xbf\xbf\xbf")));
    for (int b = 0xF5; b <= 0xFF; b++) {
        unsigned char s[4] = {(unsigned char)b, 0x80, 0x80, 0x80};
        CHECK(!utf8_valid(s, 4));
        CHECK(!utf8_valid(s, 1));
    }
}

static void lone_continuation_bytes_are_rejected(void) {
    CHECK(!utf8_valid(S("\x80")));
    CHECK(!utf8_valid(S("\xbf")));
    CHECK(!utf8_valid(S("a\x80")));
    CHECK(!utf8_valid(S("\x80\xbf\x80\xbf")));
    CHECK(!utf8_valid(S("\xc2\x80\x80")));        /* one too many */
}

static void truncated_sequence_at_end_is_incomplete_not_valid(void) {
    const char *cases[] = {"\xc2", "\xe0\xa0", "\xe1", "\xf0\x90\x80", "\xf4\x8f",
                           "ok\xce"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const unsigned char *s = (const unsigned char *)cases[i];
        uint32_t st = utf8_feed(UTF8_ACCEPT, s, strlen(cases[i]));
        CHECK(st != UTF8_ACCEPT);
        CHECK(st != UTF8_REJECT);
        CHECK(!utf8_valid(s, strlen(cases[i])));
    }
}

static void truncated_sequence_followed_by_ascii_is_rejected(void) {
    CHECK(!utf8_valid(S("\xc2" "A")));
    CHECK(!utf8_valid(S("\xe0\xa0" "A")));
    CHECK(!utf8_valid(S("\xf0\x90\x80" "A")));
}

static void invalid_byte_rejects_immediately_fail_fast(void) {
    /* Autobahn 6.4.1: κόσμε then a surrogate start; the state is REJECT as
     * soon as the byte that cannot continue arrives, before the rest. */
    const unsigned char *s = (const unsigned char *)"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80";
    uint32_t st = utf8_feed(UTF8_ACCEPT, s, 11);
    CHECK_EQ_INT(st, UTF8_ACCEPT);
    st = utf8_feed(st, s + 11, 1);
    CHECK(st != UTF8_REJECT);                     /* F4 may still be fine */
    st = utf8_feed(st, s + 12, 1);
    CHECK_EQ_INT(st, UTF8_REJECT);                /* 90 after F4 is not */
}

static void reject_state_is_sticky(void) {
    CHECK_EQ_INT(utf8_feed(UTF8_REJECT, S("abc")), UTF8_REJECT);
    CHECK_EQ_INT(utf8_feed(UTF8_REJECT, NULL, 0), UTF8_REJECT);
    CHECK_EQ_INT(utf8_feed(0xFFFFu, S("a")), UTF8_REJECT); /* garbage state */
}

static void ascii_fast_path_finds_a_bad_byte_at_every_offset(void) {
    unsigned char buf[80];
    for (size_t at = 0; at < 64; at++) {
        memset(buf, 'a', sizeof buf);
        buf[at] = 0xFF;
        CHECK(!utf8_valid(buf, sizeof buf));
        CHECK(!utf8_valid(buf + 1, sizeof buf - 1) == (at >= 1));
        memset(buf, 'a', sizeof buf);
        buf[at] = 0xC3; buf[at + 1] = 0xA9;       /* é stays valid */
        CHECK(utf8_valid(buf, sizeof buf));
        buf[at + 1] = 'a';                        /* é cut short */
        CHECK(!utf8_valid(buf, sizeof buf));
    }
}

static void all_one_and_two_byte_inputs_match_the_reference(void) {
    unsigned char s[2];
    int mismatches = 0;
    for (int a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        if (utf8_valid(s, 1) != utf8_reference_valid(s, 1)) mismatches++;
        for (int b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            if (utf8_valid(s, 2) != utf8_reference_valid(s, 2)) mismatches++;
        }
    }
    CHECK_EQ_INT(mismatches, 0);
}

static void all_three_byte_inputs_match_the_reference(void) {
    unsigned char s[3];
    int mismatches = 0;
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++)
            for (int c = 0; c < 256; c++) {
                s[0] = (unsigned char)a; s[1] = (unsigned char)b; s[2] = (unsigned char)c;
                if (utf8_valid(s, 3) != utf8_reference_valid(s, 3)) mismatches++;
            }
    CHECK_EQ_INT(mismatches, 0);
}

static void four_byte_leads_with_all_second_and_third_bytes_match_the_reference(void) {
    static const unsigned char last[] = {0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xFF};
    unsigned char s[4];
    int mismatches = 0;
    for (int a = 0xF0; a <= 0xFF; a++)
        for (int b = 0; b < 256; b++)
            for (int c = 0; c < 256; c++)
                for (size_t d = 0; d < sizeof last; d++) {
                    s[0] = (unsigned char)a; s[1] = (unsigned char)b;
                    s[2] = (unsigned char)c; s[3] = last[d];
                    if (utf8_valid(s, 4) != utf8_reference_valid(s, 4)) mismatches++;
                }
    CHECK_EQ_INT(mismatches, 0);
}

static void every_scalar_value_encoded_is_valid_and_surrogates_are_not(void) {
    int wrong = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        unsigned char s[4];
        size_t n;
        if (cp < 0x80) { s[0] = (unsigned char)cp; n = 1; }
        else if (cp < 0x800) { s[0] = (unsigned char)(0xC0 | cp >> 6); s[1] = (unsigned char)(0x80 | (cp & 0x3F)); n = 2; }
        else if (cp < 0x10000) { s[0] = (unsigned char)(0xE0 | cp >> 12); s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); s[2] = (unsigned char)(0x80 | (cp & 0x3F)); n = 3; }
        else { s[0] = (unsigned char)(0xF0 | cp >> 18); s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F)); s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); s[3] = (unsigned char)(0x80 | (cp & 0x3F)); n = 4; }
        int expect = !(cp >= 0xD800 && cp <= 0xDFFF);
        if (utf8_valid(s, n) != expect) wrong++;
    }
    CHECK_EQ_INT(wrong, 0);
}

static void random_inputs_split_anywhere_agree_with_whole(void) {
    uint32_t seed = 12345;
    unsigned char buf[64];
    int bad = 0;
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = (size_t)(iter % 64);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            /* bias towards bytes that make multi-byte sequences */
            buf[i] = (unsigned char)((r & 3) == 0 ? (r >> 2) : 0x80 | ((r >> 2) & 0x7F));
        }
        int v = valid_split_everywhere(buf, len);
        if (v < 0 || v != utf8_reference_valid(buf, len)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
}

int main(void) {
    RUN(empty_input_is_valid);
    RUN(ascii_is_valid);
    RUN(boundary_code_points_are_valid);
    RUN(autobahn_6_2_to_6_4_valid_texts_pass_at_every_split);
    RUN(overlong_forms_are_rejected);
    RUN(surrogates_are_rejected);
    RUN(code_points_above_10ffff_are_rejected);
    RUN(lone_continuation_bytes_are_rejected);
    RUN(truncated_sequence_at_end_is_incomplete_not_valid);
    RUN(truncated_sequence_followed_by_ascii_is_rejected);
    RUN(invalid_byte_rejects_immediately_fail_fast);
    RUN(reject_state_is_sticky);
    RUN(ascii_fast_path_finds_a_bad_byte_at_every_offset);
    RUN(all_one_and_two_byte_inputs_match_the_reference);
    RUN(all_three_byte_inputs_match_the_reference);
    RUN(four_byte_leads_with_all_second_and_third_bytes_match_the_reference);
    RUN(every_scalar_value_encoded_is_valid_and_surrogates_are_not);
    RUN(random_inputs_split_anywhere_agree_with_whole);
    return T_DONE();
}
