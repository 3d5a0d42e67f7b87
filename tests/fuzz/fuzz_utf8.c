/* libFuzzer target for daemon/utf8.c, differential: the validator fed whole,
 * fed in pieces (sizes from byte 0), and a plainly written reference
 * decoder must all agree, and the incremental state must match exactly. */
#include "utf8.h"
#include "../unit/utf8_reference.h"

#include <stdint.h>
#include <stdlib.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned step = data[0];
    const uint8_t *s = data + 1;
    size_t len = size - 1;
    int whole = utf8_valid(s, len);
    if (whole != utf8_reference_valid(s, len)) abort();
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
