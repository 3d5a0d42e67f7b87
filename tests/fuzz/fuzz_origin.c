/* libFuzzer target for the Origin policy parser (daemon/origin.c): an
 * allowed_origins list, then an Origin header value, from one input split
 * at its first NUL byte. Properties: no crash or over-read (the header is
 * not NUL-terminated); an origin that parses points inside the input, is
 * allowed by a list naming exactly itself and by "*", and parses the same
 * when wildcards are allowed. */
#include "origin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    const char *z = memchr(s, 0, size);
    size_t l1 = z ? (size_t)(z - s) : size;
    const char *hdr = z ? z + 1 : s + size;
    size_t hl = z ? size - l1 - 1 : 0;

    char *list = malloc(l1 + 1);
    memcpy(list, s, l1);
    list[l1] = '\0';
    char err[300];
    (void)origin_list_check(list, err, sizeof(err));
    (void)origin_list_allows(list, hdr, hl);
    if (!origin_list_allows("*", hdr, hl)) abort();

    origin_t o, w;
    if (origin_parse(hdr, hl, 0, &o) == 0) {
        if (o.host < hdr || o.host + o.host_len > hdr + hl || o.scheme != hdr) abort();
        if (origin_parse(hdr, hl, 1, &w) != 0 || w.wildcard || w.port != o.port) abort();
        char *self = malloc(hl + 1);
        memcpy(self, hdr, hl);
        self[hl] = '\0';
        if (origin_list_check(self, err, sizeof(err)) != 0) abort();
        if (!origin_list_allows(self, hdr, hl)) abort();
        free(self);
    }
    free(list);
    return 0;
}
