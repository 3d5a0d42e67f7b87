/* libFuzzer target for the multi-channel SSE id (daemon/sseid.c), read
 * from a client's Last-Event-ID: the first byte picks the stream's channel
 * count, the rest is the header. A parse either fails and leaves the
 * positions alone, or succeeds, and then formatting the positions gives an
 * id no longer than the input (leading zeros go) that parses to the same
 * positions. */
#include "sseid.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t n = data[0] % (N_MAX + 1);
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    uint64_t pos[N_MAX], again[N_MAX];
    uint8_t known[N_MAX], kagain[N_MAX];
    memset(pos, 0xab, sizeof(pos));
    memset(known, 0xcd, sizeof(known));
    if (sseid_parse(s, len, n, pos, known) != 0) {
        for (size_t i = 0; i < N_MAX; i++)
            if (pos[i] != 0xababababababababull || known[i] != 0xcd) abort();
        return 0;
    }
    char out[N_MAX * (SSEID_DIGITS_MAX + 2) + 2];
    int k = sseid_format(out, sizeof(out), n, pos, known);
    if (k < 0 || (size_t)k > len) abort();     /* never longer than what was read */
    if (sseid_parse(out, (size_t)k, n, again, kagain) != 0) abort();
    for (size_t i = 0; i < n; i++) {
        if (kagain[i] != known[i] || known[i] > 1) abort();
        if (known[i] && again[i] != pos[i]) abort();
    }
    return 0;
}
