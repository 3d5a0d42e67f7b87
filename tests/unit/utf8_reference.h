/* The oracle for daemon/utf8.c, shared by its unit tests and its fuzz
 * target: decode by arithmetic, the way RFC 3629 section 3 describes it.
 * Slow and obvious, so the table-driven validator can be checked against
 * it. 1 when s is valid UTF-8. */
#ifndef HERALD_UTF8_REFERENCE_H
#define HERALD_UTF8_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

static inline int utf8_reference_valid(const unsigned char *s, size_t len) {
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

#endif
