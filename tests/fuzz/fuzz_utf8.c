/* libFuzzer target for daemon/utf8.c, differential: the validator fed whole,
 * fed in pieces (sizes from byte 0), and a plainly written reference
 * decoder must all agree, and the incremental state must match exactly. */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>

/* RFC 3629 by arithmetic: obvious and slow, the oracle. */
static int fuzz_utf8_reference(const uint8_t *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned b = s[i];
        int n;
        uint32_t cp, min;
        if (b < 0x80) { i++; continue; }
        if ((b & 0xE0) == 0xC0) { n = 1; cp = b & 0x1F; min = 0x80; }
        else if ((b & 0xF0) == 0xE0) { n = 2; cp = b & 0x0F; min = 0x800; }
        else if ((b & 0xF8) == 0xF0) { n = 3; cp = b & 0x07; min = 0x10000; }
        else return 0;
        if (len - i - 1 < (size_t)n) return 0;
        for (int k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += (size_t)n + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned step = data[0];
    const uint8_t *s = data + 1;
    size_t len = size - 1;
    int whole = utf8_valid(s, len);
    if (whole != fuzz_utf8_reference(s, len)) abort();
    uint32_t st_whole = utf8_feed(UTF8_ACCEPT, s, len);
    if ((st_whole == UTF8_ACCEPT) != whole) abort();
    uint32_t st = UTF8_ACCEPT;
    size_t at = 0, k = 0;
    while (at < len) {
        size_t piece = 1 + ((step + k++ * 7) % 13);
        if (piece > len - at) piece = len - at;
        st = utf8_feed(st, s + at, piece);
        at += piece;
    }
    if (st != st_whole) abort();
    /* every prefix state is a pure function of the bytes: REJECT sticks */
    if (st_whole == UTF8_REJECT && utf8_feed(st_whole, s, len) != UTF8_REJECT) abort();
    return 0;
}
