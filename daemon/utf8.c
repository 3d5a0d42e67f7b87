/* Incremental UTF-8 validation (RFC 3629) as a small DFA over byte classes.
 *
 * States (the value kept between calls):
 *   0 ACCEPT      at a character boundary
 *   1 REJECT      invalid, sticky
 *   2 TAIL1       one continuation byte 80..BF still expected
 *   3 TAIL2       two continuation bytes 80..BF expected
 *   4 TAIL3       three continuation bytes 80..BF expected
 *   5 AFTER_E0    next must be A0..BF (no overlong 3-byte forms), then TAIL1
 *   6 AFTER_ED    next must be 80..9F (no surrogates D800..DFFF), then TAIL1
 *   7 AFTER_F0    next must be 90..BF (no overlong 4-byte forms), then TAIL2
 *   8 AFTER_F4    next must be 80..8F (nothing above U+10FFFF), then TAIL2
 * C0, C1 and F5..FF can never appear. A message is complete and valid only
 * when the final state is ACCEPT, so a truncated sequence at the end fails. */
#include "utf8.h"

#include <string.h>

enum {
    C_ASCII, C_CONT_LO /* 80..8F */, C_CONT_MID /* 90..9F */,
    C_CONT_HI /* A0..BF */, C_BAD, C_LEAD2, C_E0, C_E1, C_ED, C_F0, C_F1,
    C_F4, C_COUNT
};

enum { S_ACCEPT, S_REJECT, S_TAIL1, S_TAIL2, S_TAIL3, S_E0, S_ED, S_F0,
       S_F4, S_COUNT };

/* Byte classes and transitions, written as the RFC 3629 section 4 ranges so
 * they stay reviewable; constant, so no start-up step and no data race. */
static const unsigned char utf8_class[256] = {
    [0x00 ... 0x7F] = C_ASCII,   [0x80 ... 0x8F] = C_CONT_LO,
    [0x90 ... 0x9F] = C_CONT_MID, [0xA0 ... 0xBF] = C_CONT_HI,
    [0xC0 ... 0xC1] = C_BAD,     [0xC2 ... 0xDF] = C_LEAD2,
    [0xE0] = C_E0, [0xE1 ... 0xEC] = C_E1, [0xED] = C_ED,
    [0xEE ... 0xEF] = C_E1, [0xF0] = C_F0, [0xF1 ... 0xF3] = C_F1,
    [0xF4] = C_F4, [0xF5 ... 0xFF] = C_BAD,
};

#define R S_REJECT
static const unsigned char utf8_next[S_COUNT][C_COUNT] = {
    /* columns: ASCII 80-8F 90-9F A0-BF bad C2-DF E0 E1 ED F0 F1-F3 F4 */
    [S_ACCEPT] = {S_ACCEPT, R, R, R, R, S_TAIL1, S_E0, S_TAIL2, S_ED, S_F0, S_TAIL3, S_F4},
    [S_REJECT] = {R, R, R, R, R, R, R, R, R, R, R, R},
    [S_TAIL1] = {R, S_ACCEPT, S_ACCEPT, S_ACCEPT, R, R, R, R, R, R, R, R},
    [S_TAIL2] = {R, S_TAIL1, S_TAIL1, S_TAIL1, R, R, R, R, R, R, R, R},
    [S_TAIL3] = {R, S_TAIL2, S_TAIL2, S_TAIL2, R, R, R, R, R, R, R, R},
    [S_E0] = {R, R, R, S_TAIL1, R, R, R, R, R, R, R, R},
    [S_ED] = {R, S_TAIL1, S_TAIL1, R, R, R, R, R, R, R, R, R},
    [S_F0] = {R, R, S_TAIL2, S_TAIL2, R, R, R, R, R, R, R, R},
    [S_F4] = {R, S_TAIL2, R, R, R, R, R, R, R, R, R, R},
};
#undef R

/* Text messages are mostly ASCII (JSON commands), so at a character boundary
 * whole 8-byte words with no high bit are skipped without the table. */
uint32_t utf8_feed(uint32_t state, const unsigned char *s, size_t len) {
    if (state >= S_COUNT) return UTF8_REJECT;
    size_t i = 0;
    while (i < len) {
        if (state == S_ACCEPT) {
            while (len - i >= 8) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ull) break;
                i += 8;
            }
            while (i < len && s[i] < 0x80) i++;
            if (i == len) break;
        }
        state = utf8_next[state][utf8_class[s[i++]]];
        if (state == S_REJECT) return UTF8_REJECT;
    }
    return state;
}

/* The whole-buffer form, for close reasons and emitted messages. */
int utf8_valid(const unsigned char *s, size_t len) {
    return utf8_feed(UTF8_ACCEPT, s, len) == UTF8_ACCEPT;
}
