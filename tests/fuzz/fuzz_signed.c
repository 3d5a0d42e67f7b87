/* libFuzzer target for common/signed.c: herald_channel_check and
 * herald_verify on arbitrary names, with two configured secrets, plus a
 * sign -> verify round trip. Properties: only the documented channel bytes
 * pass the check; a name that verifies is exactly what herald_sign makes
 * for its channel and expiry (no second spelling of a valid name); every
 * error has a sentence. Byte 0 picks the clock; the rest is the name. */
#include "signed.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static herald_secret_t fuzz_signed_secrets[2];
static int fuzz_signed_ready;

/* The seeds in corpus/fuzz_signed were signed with these (make-seeds.mjs). */
static void fuzz_signed_init(void) {
    static const char a[] = "fuzz-secret-0123456789";
    static const char b[] = "k1:another-secret-abcdef";
    if (herald_secret_parse(&fuzz_signed_secrets[0], a, sizeof a - 1) != 0) abort();
    if (herald_secret_parse(&fuzz_signed_secrets[1], b, sizeof b - 1) != 0) abort();
    fuzz_signed_ready = 1;
}

static int fuzz_signed_channel_byte(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ':' || c == '@';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!fuzz_signed_ready) fuzz_signed_init();
    if (size < 1) return 0;
    /* clocks: before, between and after the seeds' expiries */
    static const uint64_t clocks[4] = {0, 1732530000, 1732540000, UINT64_MAX / 2};
    uint64_t now = clocks[data[0] & 3];
    size_t len = size - 1;
    char *name = malloc(len ? len : 1);       /* exact size: ASan sees over-reads */
    memcpy(name, data + 1, len);

    int cc = herald_channel_check(name, len);
    int expect_ok = len >= 1 && len <= HERALD_CHANNEL_MAX;
    for (size_t i = 0; i < len && expect_ok; i++)
        expect_ok = fuzz_signed_channel_byte((unsigned char)name[i]);
    if ((cc == 0) != expect_ok) abort();
    if (cc != 0 && cc != HERALD_SIGNED_ECHANNEL) abort();

    herald_signed_t v;
    int rc = herald_verify(fuzz_signed_secrets, 2, name, len, now, &v);
    if (herald_signed_strerror(rc) == NULL) abort();
    if (rc > 0 || rc < HERALD_SIGNED_ECRYPTO) abort();
    if (rc == 0) {
        if (v.channel < name || v.channel + v.channel_len > name + len) abort();
        if (herald_channel_check(v.channel, v.channel_len) != 0) abort();
        if (v.expiry != 0 && v.expiry < now) abort();
        char again[HERALD_SIGNED_MAX];
        int n = herald_sign(v.secret, v.channel, v.channel_len, v.expiry, again, sizeof again);
        if (n != (int)len || memcmp(again, name, len) != 0) abort();
    }

    if (cc == 0) {
        /* round trip: what we sign, we verify, with the same channel */
        char s[HERALD_SIGNED_MAX];
        uint64_t expiry = (data[0] & 4) ? 0 : 4102444800u;   /* never, or 2100 */
        const herald_secret_t *key = &fuzz_signed_secrets[data[0] >> 7];
        int n = herald_sign(key, name, len, expiry, s, sizeof s);
        if (n <= 0 || (size_t)n >= sizeof s || s[n] != '\0') abort();
        if (herald_verify(fuzz_signed_secrets, 2, s, (size_t)n, 1732530000, &v) != 0) abort();
        if (v.channel_len != len || memcmp(v.channel, name, len) != 0 || v.expiry != expiry) abort();
        /* a too-small buffer is refused, not overrun */
        if (herald_sign(key, name, len, expiry, s, (size_t)n) !=
            HERALD_SIGNED_ENOSPACE)
            abort();
    }
    free(name);
    return 0;
}
