/* SHA-256 for the emit path's per-request digests (the emit token, the
 * idempotency keys): libcrypto's one-shot SHA256() looks the algorithm up
 * again on every call, which cost more than the hashing itself. */
#ifndef HERALD_DIGEST_H
#define HERALD_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_BYTES 32

/* out = SHA-256(data[0..len)). 0, or -1 when libcrypto failed (no
 * SHA-256 provider, out of memory): out is then zeroed. */
int digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_BYTES]);

/* A Lua script's name for EVALSHA: the SHA-1 of its text in 40 lowercase
 * hex digits and a NUL. Taken once per link start, never per emit. */
void digest_script_sha1(const char *text, char out[41]);

#endif
