/* libFuzzer target for what heraldd reads from its redis key and from
 * Redis (daemon/rediswire.c): the first byte picks the parser, the rest is
 * its input, in an exact-size allocation (no NUL terminator) so reads past
 * the end are caught. Properties: an address that parses has a NUL-
 * terminated host or path of valid length, a port 1-65535 and a password
 * without NUL bytes, and a refusal's reason never repeats the password; a
 * decoded message lies inside the input with an id > 0, and re-encoding
 * it gives the input back (one spelling per message); a pub/sub name
 * found is inside the input and round-trips through rediswire_key. */
#include "rediswire.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fuzz_url(const char *s, size_t n) {
    rediswire_addr_t a;
    char why[200];
    if (rediswire_url_parse(s, n, &a, why, sizeof(why)) != 0) {
        if (memchr(why, '\0', sizeof(why)) == NULL || why[0] == '\0') abort();
        return;
    }
    if (a.is_unix) {
        if (a.path[0] != '/' || strlen(a.path) >= sizeof(a.path)) abort();
        return;
    }
    size_t hl = strnlen(a.host, sizeof(a.host));
    if (hl == 0 || hl >= sizeof(a.host)) abort();
    if (a.port < 1 || a.port > 65535 || a.db > 65535) abort();
    if (a.has_password && strnlen(a.password, sizeof(a.password)) >= sizeof(a.password)) abort();
    if (!a.has_password && (a.password[0] || a.user[0])) abort();
}

static void fuzz_msg(const char *s, size_t n) {
    uint64_t id, ms;
    const char *d;
    size_t dl;
    if (rediswire_msg_decode(s, n, &id, &ms, &d, &dl) != 0) return;
    if (id == 0 || d < s || d + dl != s + n) abort();
    char head[64];
    int hl = snprintf(head, sizeof(head), "%" PRIu64 " %" PRIu64 "\n", id, ms);
    if ((size_t)hl != (size_t)(d - s) || memcmp(head, s, (size_t)hl) != 0) abort();
}

static void fuzz_names(const char *s, size_t n) {
    const char *name;
    size_t len;
    if (rediswire_pubsub_channel(s, n, &name, &len) == 0) {
        if (name < s || name + len > s + n || len == 0) abort();
        char k[512];
        int kl = rediswire_key(k, sizeof(k), REDISWIRE_KEY_PUBSUB, name, len, 0);
        const char *n2;
        size_t l2;
        if (kl > 0 && (rediswire_pubsub_channel(k, (size_t)kl, &n2, &l2) != 0 || l2 != len ||
                       memcmp(n2, name, len) != 0))
            abort();
    }
    uint64_t v = rediswire_entry_id(s, n);
    if (v) {
        char e[32];
        int el = snprintf(e, sizeof(e), "0-%" PRIu64, v);
        if ((size_t)el != n || memcmp(e, s, n) != 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    size_t n = size - 1;
    char *s = malloc(n ? n : 1);
    memcpy(s, data + 1, n);
    switch (data[0] % 3) {
    case 0: fuzz_url(s, n); break;
    case 1: fuzz_msg(s, n); break;
    default: fuzz_names(s, n); break;
    }
    free(s);
    return 0;
}
