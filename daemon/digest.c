#include "digest.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <string.h>

static EVP_MD *digest_md;
static pthread_once_t digest_once = PTHREAD_ONCE_INIT;

/* One fetch for the process (OpenSSL 3 "explicit fetching"): every loop
 * thread then digests with the same algorithm object, read-only. */
static void digest_md_fetch(void) { digest_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

int digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_BYTES]) {
    pthread_once(&digest_once, digest_md_fetch);
    unsigned int n = 0;
    if (digest_md != NULL && EVP_Digest(data, len, out, &n, digest_md, NULL) == 1 &&
        n == DIGEST_SHA256_BYTES)
        return 0;
    memset(out, 0, DIGEST_SHA256_BYTES);
    return -1;
}

void digest_script_sha1(const char *text, char out[41]) {
    static const char hex[] = "0123456789abcdef";
    unsigned char d[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)text, strlen(text), d);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * SHA_DIGEST_LENGTH] = '\0';
}
