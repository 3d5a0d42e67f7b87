/* Unit tests for daemon/digest.c: SHA-256 against libcrypto's one-shot
 * call, and a Lua script's EVALSHA name against known SHA-1 vectors. */
#include "t.h"
#include "digest.h"

#include <openssl/sha.h>
#include <string.h>

static void sha256_matches_the_one_shot_call(void) {
    static const char text[] = "herald:{chat.42}:k:retry-1";
    unsigned char got[DIGEST_SHA256_BYTES], want[SHA256_DIGEST_LENGTH];
    CHECK_EQ_INT(digest_sha256(text, strlen(text), got), 0);
    SHA256((const unsigned char *)text, strlen(text), want);
    CHECK_MEM(got, sizeof(got), want, sizeof(want));
    CHECK_EQ_INT(digest_sha256("", 0, got), 0);
    SHA256((const unsigned char *)"", 0, want);
    CHECK_MEM(got, sizeof(got), want, sizeof(want));
}

static void a_script_name_is_its_sha1_in_lowercase_hex(void) {
    char out[41];
    memset(out, 'x', sizeof(out));
    digest_script_sha1("", out);
    CHECK_STR(out, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    digest_script_sha1("abc", out);
    CHECK_STR(out, "a9993e364706816aba3e25717850c26c9cd0d89d");
    digest_script_sha1("return redis.call('PING')", out);
    CHECK_EQ_INT((int)strlen(out), 40);
    for (int i = 0; i < 40; i++) CHECK(strchr("0123456789abcdef", out[i]) != NULL);
}

int main(void) {
    RUN(sha256_matches_the_one_shot_call);
    RUN(a_script_name_is_its_sha1_in_lowercase_hex);
    return T_DONE();
}
