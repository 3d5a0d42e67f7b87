#include "sseid.h"

#include <stdio.h>

int sseid_format(char *out, size_t size, size_t n, const uint64_t *pos, const uint8_t *known) {
    size_t len = 0;
    if (size < 2) return -1;
    out[len++] = '~';
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            if (len + 1 >= size) return -1;
            out[len++] = '.';
        }
        if (!known[i]) continue;
        int k = snprintf(out + len, size - len, "%llu", (unsigned long long)pos[i]);
        if (k < 0 || (size_t)k >= size - len) return -1;
        len += (size_t)k;
    }
    out[len] = '\0';
    return (int)len;
}

/* Two passes: check every field first, so a bad id changes nothing. */
int sseid_parse(const char *s, size_t len, size_t n, uint64_t *pos, uint8_t *known) {
    if (len < 1 || s[0] != '~' || n == 0) return -1;
    for (int pass = 0; pass < 2; pass++) {
        size_t field = 0, digits = 0;
        uint64_t v = 0;
        for (size_t i = 1; i <= len; i++) {
            if (i == len || s[i] == '.') {
                if (field >= n) return -1;
                if (pass == 1) {
                    known[field] = digits > 0;
                    if (digits) pos[field] = v;
                }
                field++;
                digits = 0;
                v = 0;
            } else if (s[i] >= '0' && s[i] <= '9' && digits < SSEID_DIGITS_MAX) {
                v = v * 10 + (uint64_t)(s[i] - '0');
                digits++;
            } else {
                return -1;
            }
        }
        if (field != n) return -1;
    }
    return 0;
}
