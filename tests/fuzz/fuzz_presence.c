/* libFuzzer target for the member events heraldd nodes publish to each
 * other through Redis (daemon/presencewire.c), in an exact-size allocation
 * (no NUL terminator) so reads past the end are caught. Properties: a
 * decoded event lies inside the input, its user id is 1-127 JSON-safe
 * bytes, re-encoding it ("P<seq> a|r <user>[\n<info>]") gives the input
 * back (one spelling per event), and the member_added / member_removed
 * data made from it is what was decoded. */
#include "presencewire.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size ? size : 1);
    if (s == NULL) return 0;
    memcpy(s, data, size);
    presencewire_event_t e;
    if (presencewire_event_decode(s, size, &e) == 0) {
        if (e.seq == 0 || e.user_len == 0 || e.user_len > 127 || e.user_id < s ||
            e.user_id + e.user_len > s + size)
            abort();
        for (size_t i = 0; i < e.user_len; i++)
            if (e.user_id[i] == '"' || e.user_id[i] == '\\' || (unsigned char)e.user_id[i] < 0x20) abort();
        if (e.added && (e.info_len == 0 || e.info + e.info_len != s + size)) abort();
        char *back = malloc(size + 1);
        if (back == NULL) abort();
        int n = snprintf(back, size + 1, "P%" PRIu64 " %c %.*s%s%.*s", e.seq, e.added ? 'a' : 'r',
                         (int)e.user_len, e.user_id, e.added ? "\n" : "", (int)e.info_len,
                         e.added ? e.info : "");
        if (n < 0 || (size_t)n != size || memcmp(back, s, size) != 0) abort();
        free(back);
        char *out = malloc(size + 64);
        if (out == NULL) abort();
        n = presencewire_event_data(out, size + 64, &e);
        if (n < 0 || memcmp(out, "{\"user_id\":\"", 12) != 0 || memcmp(out + 12, e.user_id, e.user_len) != 0)
            abort();
        free(out);
    }
    free(s);
    return 0;
}
