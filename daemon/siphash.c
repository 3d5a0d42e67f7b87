#include "siphash.h"

#include <openssl/rand.h>
#include <pthread.h>

#define SIPHASH_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* Little-endian loads whatever the host's byte order (the paper's
 * convention). */
static uint64_t siphash_load64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

#define SIPHASH_ROUND(v0, v1, v2, v3)                                             \
    do {                                                                          \
        v0 += v1; v1 = SIPHASH_ROTL(v1, 13); v1 ^= v0; v0 = SIPHASH_ROTL(v0, 32); \
        v2 += v3; v3 = SIPHASH_ROTL(v3, 16); v3 ^= v2;                            \
        v0 += v3; v3 = SIPHASH_ROTL(v3, 21); v3 ^= v0;                            \
        v2 += v1; v1 = SIPHASH_ROTL(v1, 17); v1 ^= v2; v2 = SIPHASH_ROTL(v2, 32); \
    } while (0)

/* Paper section 2: initialise from the key, compress each 8-byte word with
 * two rounds, the last word carrying len mod 256 in its top byte, then
 * xor 0xff into v2 and finish with four rounds. */
uint64_t siphash24(const unsigned char key[SIPHASH_KEY_BYTES], const void *data, size_t len) {
    const unsigned char *p = data;
    uint64_t k0 = siphash_load64(key), k1 = siphash_load64(key + 8);
    uint64_t v0 = k0 ^ UINT64_C(0x736f6d6570736575), v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
    uint64_t v2 = k0 ^ UINT64_C(0x6c7967656e657261), v3 = k1 ^ UINT64_C(0x7465646279746573);
    size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = siphash_load64(p + i);
        v3 ^= m;
        SIPHASH_ROUND(v0, v1, v2, v3);
        SIPHASH_ROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < len % 8; i++) last |= (uint64_t)p[whole + i] << (8 * i);
    v3 ^= last;
    SIPHASH_ROUND(v0, v1, v2, v3);
    SIPHASH_ROUND(v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xff;
    for (int i = 0; i < 4; i++) SIPHASH_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

static unsigned char siphash_key[SIPHASH_KEY_BYTES];
static int siphash_key_ok;
static pthread_once_t siphash_once = PTHREAD_ONCE_INIT;

static void siphash_key_draw(void) {
    siphash_key_ok = RAND_bytes(siphash_key, sizeof(siphash_key)) == 1;
}

/* One key for every table of the process: drawn at the first table, so a
 * restart (or another process) hashes differently. */
const unsigned char *siphash_process_key(void) {
    pthread_once(&siphash_once, siphash_key_draw);
    return siphash_key_ok ? siphash_key : NULL;
}
