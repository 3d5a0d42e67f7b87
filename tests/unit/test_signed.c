/* Unit tests for common/signed.c: every vector of tests/vectors/signed.txt
 * (MACs computed by the openssl CLI, not by this code), then the edges:
 * expiry boundary, tampering at every position, unknown kid, rotation, the
 * maximum lengths and every byte class in every field.
 * Build by hand: cc -I common tests/unit/test_signed.c common/signed.c -lcrypto */
#include "t.h"
#include "signed.h"

#include <stdint.h>
#include <stdlib.h>

#define VEC_LINE_MAX 4096
#define VEC_SECRETS_MAX 16

static herald_secret_t vec_secrets[VEC_SECRETS_MAX];
static size_t vec_nsecrets;

/* The vectors live at the repository top; scripts/test exports HERALD_TOP,
 * and a hand run from the top, tests/unit or the build dir also finds them. */
static FILE *vectors_open(void) {
    char path[1024];
    const char *top = getenv("HERALD_TOP");
    if (top != NULL) {
        snprintf(path, sizeof path, "%s/tests/vectors/signed.txt", top);
        FILE *f = fopen(path, "r");
        if (f != NULL) return f;
    }
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    if (slash != NULL) {
        snprintf(path, sizeof path, "%.*s/../vectors/signed.txt",
                 (int)(slash - file), file);
        FILE *f = fopen(path, "r");
        if (f != NULL) return f;
    }
    static const char *const guesses[] = {
        "tests/vectors/signed.txt", "../vectors/signed.txt",
        "../../tests/vectors/signed.txt"};
    for (size_t i = 0; i < sizeof guesses / sizeof guesses[0]; i++) {
        FILE *f = fopen(guesses[i], "r");
        if (f != NULL) return f;
    }
    fprintf(stderr, "  cannot find tests/vectors/signed.txt (set HERALD_TOP)\n");
    return NULL;
}

static int error_code(const char *name) {
    static const struct { const char *name; int code; } codes[] = {
        {"ECHANNEL", HERALD_SIGNED_ECHANNEL}, {"EFORMAT", HERALD_SIGNED_EFORMAT},
        {"EVERSION", HERALD_SIGNED_EVERSION}, {"EKID", HERALD_SIGNED_EKID},
        {"EEXPIRED", HERALD_SIGNED_EEXPIRED}, {"EMAC", HERALD_SIGNED_EMAC},
        {"ESECRET", HERALD_SIGNED_ESECRET}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(codes[i].name, name) == 0) return codes[i].code;
    return 1; /* never returned by the code under test */
}

/* Split a line in place on single spaces; returns the number of fields. */
static int fields_split(char *line, char **f, int max) {
    int n = 0;
    line[strcspn(line, "\n")] = '\0';
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *sp = strchr(p, ' ');
        if (sp == NULL) break;
        *sp = '\0';
        p = sp + 1;
    }
    return n;
}

static int vec_sign, vec_verify, vec_bad;

/* One pass over the file: secrets first (they precede the vectors), then
 * each vector is checked as it is read. */
static void vectors_all_match(void) {
    FILE *f = vectors_open();
    CHECK(f != NULL);
    if (f == NULL) return;
    static char line[VEC_LINE_MAX];
    while (fgets(line, sizeof line, f) != NULL) {
        char *fl[8];
        if (line[0] == '#' || line[0] == '\n') continue;
        int n = fields_split(line, fl, 8);
        if (strcmp(fl[0], "secret") == 0 && n == 2) {
            CHECK(vec_nsecrets < VEC_SECRETS_MAX);
            if (vec_nsecrets == VEC_SECRETS_MAX) continue;
            CHECK_EQ_INT(herald_secret_parse(&vec_secrets[vec_nsecrets], fl[1],
                                             strlen(fl[1])), 0);
            vec_nsecrets++;
        } else if (strcmp(fl[0], "sign") == 0 && n == 5) {
            herald_secret_t s;
            char out[HERALD_SIGNED_MAX];
            CHECK_EQ_INT(herald_secret_parse(&s, fl[1], strlen(fl[1])), 0);
            uint64_t exp = strtoull(fl[3], NULL, 10);
            int len = herald_sign(&s, fl[2], strlen(fl[2]), exp, out, sizeof out);
            CHECK_EQ_INT(len, (long long)strlen(fl[4]));
            if (len > 0) CHECK_STR(out, fl[4]);
            vec_sign++;
        } else if (strcmp(fl[0], "verify") == 0 && (n == 4 || n == 7)) {
            herald_signed_t v;
            uint64_t now = strtoull(fl[1], NULL, 10);
            int rc = herald_verify(vec_secrets, vec_nsecrets, fl[2],
                                   strlen(fl[2]), now, &v);
            if (n == 7 && strcmp(fl[3], "ok") == 0) {
                CHECK_EQ_INT(rc, 0);
                if (rc == 0) {
                    CHECK_MEM(v.channel, v.channel_len, fl[4], strlen(fl[4]));
                    CHECK(v.channel == fl[2]);
                    CHECK(v.expiry == strtoull(fl[5], NULL, 10));
                    CHECK_STR(v.secret->kid, fl[6]);
                }
            } else {
                CHECK(n == 4);
                CHECK_EQ_INT(rc, error_code(fl[3]));
            }
            if (rc != (n == 7 ? 0 : error_code(fl[3])))
                fprintf(stderr, "  vector: verify %s %s\n", fl[1], fl[2]);
            vec_verify++;
        } else if (strcmp(fl[0], "badsecret") == 0 && n == 2) {
            herald_secret_t s;
            CHECK_EQ_INT(herald_secret_parse(&s, fl[1], strlen(fl[1])),
                         HERALD_SIGNED_ESECRET);
            vec_bad++;
        } else {
            fprintf(stderr, "  unknown vector line: %s\n", fl[0]);
            CHECK(0);
        }
    }
    fclose(f);
    /* A truncated or empty file must not pass quietly. */
    CHECK(vec_nsecrets >= 2);
    CHECK(vec_sign >= 5);
    CHECK(vec_verify >= 30);
    CHECK(vec_bad >= 3);
}

static herald_secret_t secret_make(const char *line) {
    herald_secret_t s;
    int rc = herald_secret_parse(&s, line, strlen(line));
    CHECK_EQ_INT(rc, 0);
    return s;
}

static int sign_str(const herald_secret_t *s, const char *ch, uint64_t exp,
                    char *out) {
    return herald_sign(s, ch, strlen(ch), exp, out, HERALD_SIGNED_MAX);
}

static int verify_str(const herald_secret_t *s, size_t n, const char *name,
                      uint64_t now) {
    herald_signed_t v;
    return herald_verify(s, n, name, strlen(name), now, &v);
}

static void expiry_boundary_now_equal_is_expired(void) {
    herald_secret_t s = secret_make("0123456789abcdef");
    char name[HERALD_SIGNED_MAX];
    CHECK(sign_str(&s, "orders", 1000, name) > 0);
    CHECK_EQ_INT(verify_str(&s, 1, name, 0), 0);
    CHECK_EQ_INT(verify_str(&s, 1, name, 999), 0);
    CHECK_EQ_INT(verify_str(&s, 1, name, 1000), HERALD_SIGNED_EEXPIRED);
    CHECK_EQ_INT(verify_str(&s, 1, name, 1001), HERALD_SIGNED_EEXPIRED);
    CHECK(sign_str(&s, "orders", 0, name) > 0);
    CHECK_EQ_INT(verify_str(&s, 1, name, UINT64_MAX), 0);
    CHECK(sign_str(&s, "orders", UINT64_MAX, name) > 0);
    CHECK_EQ_INT(verify_str(&s, 1, name, UINT64_MAX - 1), 0);
    CHECK_EQ_INT(verify_str(&s, 1, name, UINT64_MAX), HERALD_SIGNED_EEXPIRED);
}

/* Changing any single byte of the MAC, channel, kid or expiry must fail. */
static void tampered_byte_anywhere_is_refused(void) {
    herald_secret_t s[2] = {secret_make("ka:0123456789abcdef"),
                            secret_make("kb:0123456789abcdef")};
    char name[HERALD_SIGNED_MAX];
    int len = sign_str(&s[0], "user.42", 1700000000, name);
    CHECK(len > 0);
    CHECK_EQ_INT(verify_str(s, 2, name, 1), 0);
    for (int i = 0; i < len; i++) {
        if (name[i] == '~' || name[i] == '.' ) continue;
        char t[HERALD_SIGNED_MAX];
        memcpy(t, name, (size_t)len + 1);
        /* a substitute of the same byte class, so the format stays valid */
        char c = name[i];
        t[i] = (c >= '0' && c <= '8') || (c >= 'a' && c <= 'y') ||
                       (c >= 'A' && c <= 'Y') ? (char)(c + 1)
               : c == '9' ? '1' : c == 'z' ? 'a' : c == 'Z' ? 'A'
               : c == '-' ? '_' : c == '_' ? '-' : 'x';
        int rc = verify_str(s, 2, t, 1);
        if (rc >= 0)
            fprintf(stderr, "  tampered at %d accepted: %s\n", i, t);
        CHECK(rc < 0);
        /* inside the channel, expiry and MAC it is exactly a MAC mismatch */
        if (i < 7 || i > 20) CHECK_EQ_INT(rc, HERALD_SIGNED_EMAC);
    }
    /* the kid swapped for another configured kid with the same key bytes */
    char t[HERALD_SIGNED_MAX];
    memcpy(t, name, (size_t)len + 1);
    char *k = strstr(t, "~v1.ka.");
    CHECK(k != NULL);
    if (k != NULL) k[5] = 'b';
    CHECK_EQ_INT(verify_str(s, 2, t, 1), HERALD_SIGNED_EMAC);
}

static void unknown_kid_is_ekid(void) {
    herald_secret_t a = secret_make("ka:0123456789abcdef");
    herald_secret_t b = secret_make("kb:0123456789abcdef");
    char name[HERALD_SIGNED_MAX];
    CHECK(sign_str(&a, "orders", 0, name) > 0);
    CHECK_EQ_INT(verify_str(&b, 1, name, 1), HERALD_SIGNED_EKID);
    CHECK_EQ_INT(verify_str(&b, 0, name, 1), HERALD_SIGNED_EKID);
    CHECK_EQ_INT(verify_str(NULL, 0, name, 1), HERALD_SIGNED_EKID);
}

/* README: add the new secret first, keep the old one until its names expire. */
static void rotation_accepts_old_and_new(void) {
    herald_secret_t oldset[1] = {secret_make("2024:old-secret-0123456789")};
    herald_secret_t both[2] = {secret_make("2025:new-secret-0123456789"),
                               secret_make("2024:old-secret-0123456789")};
    herald_secret_t newset[1] = {secret_make("2025:new-secret-0123456789")};
    char old_name[HERALD_SIGNED_MAX], new_name[HERALD_SIGNED_MAX];
    CHECK(sign_str(&oldset[0], "orders", 0, old_name) > 0);
    CHECK(sign_str(&both[0], "orders", 0, new_name) > 0);
    CHECK(strstr(new_name, "~v1.2025.") != NULL);
    CHECK_EQ_INT(verify_str(oldset, 1, old_name, 1), 0);
    CHECK_EQ_INT(verify_str(both, 2, old_name, 1), 0);
    CHECK_EQ_INT(verify_str(both, 2, new_name, 1), 0);
    CHECK_EQ_INT(verify_str(newset, 1, old_name, 1), HERALD_SIGNED_EKID);
    CHECK_EQ_INT(verify_str(oldset, 1, new_name, 1), HERALD_SIGNED_EKID);
    /* two unnamed secrets share kid "0": both are tried */
    herald_secret_t unnamed[2] = {secret_make("first-unnamed-secret"),
                                  secret_make("second-unnamed-secret")};
    char n2[HERALD_SIGNED_MAX];
    CHECK(sign_str(&unnamed[1], "orders", 0, n2) > 0);
    CHECK_EQ_INT(verify_str(unnamed, 2, n2, 1), 0);
    CHECK_EQ_INT(verify_str(unnamed, 1, n2, 1), HERALD_SIGNED_EMAC);
    herald_signed_t v;
    CHECK_EQ_INT(herald_verify(unnamed, 2, n2, strlen(n2), 1, &v), 0);
    CHECK(v.secret == &unnamed[1]);
}

static void max_lengths_fit_exactly(void) {
    char ch[HERALD_CHANNEL_MAX + 2], line[HERALD_SECRET_MAX + HERALD_KID_MAX + 8];
    memset(ch, 'c', sizeof ch);
    ch[HERALD_CHANNEL_MAX] = '\0';
    CHECK_EQ_INT(herald_channel_check(ch, HERALD_CHANNEL_MAX), 0);
    CHECK_EQ_INT(herald_channel_check(ch, HERALD_CHANNEL_MAX + 1),
                 HERALD_SIGNED_ECHANNEL);
    CHECK_EQ_INT(herald_channel_check(ch, 0), HERALD_SIGNED_ECHANNEL);
    CHECK_EQ_INT(herald_channel_check(NULL, 0), HERALD_SIGNED_ECHANNEL);

    /* 32-byte kid, 512-byte key, 200-byte channel, 20-digit expiry */
    memset(line, 'k', HERALD_KID_MAX);
    line[HERALD_KID_MAX] = ':';
    memset(line + HERALD_KID_MAX + 1, 's', HERALD_SECRET_MAX);
    herald_secret_t s;
    CHECK_EQ_INT(herald_secret_parse(&s, line, HERALD_KID_MAX + 1 + HERALD_SECRET_MAX), 0);
    CHECK_EQ_INT(s.key_len, HERALD_SECRET_MAX);
    CHECK_EQ_INT(strlen(s.kid), HERALD_KID_MAX);
    CHECK_EQ_INT(herald_secret_parse(&s, line, HERALD_KID_MAX + 1 + HERALD_SECRET_MAX + 1),
                 HERALD_SIGNED_ESECRET);
    CHECK_EQ_INT(herald_secret_parse(&s, line, HERALD_KID_MAX + 1 + HERALD_SECRET_MAX), 0);
    char out[HERALD_SIGNED_MAX];
    int len = herald_sign(&s, ch, HERALD_CHANNEL_MAX, UINT64_MAX, out, sizeof out);
    CHECK_EQ_INT(len, HERALD_SIGNED_MAX - 1);
    CHECK_EQ_INT(herald_sign(&s, ch, HERALD_CHANNEL_MAX, UINT64_MAX, out,
                             sizeof out - 1), HERALD_SIGNED_ENOSPACE);
    CHECK_EQ_INT(herald_sign(&s, ch, HERALD_CHANNEL_MAX + 1, 0, out, sizeof out),
                 HERALD_SIGNED_ECHANNEL);
    herald_signed_t v;
    CHECK_EQ_INT(herald_verify(&s, 1, out, (size_t)len, 1, &v), 0);
    CHECK_EQ_INT(v.channel_len, HERALD_CHANNEL_MAX);

    /* a 33-byte kid and a 15-byte key are refused */
    memset(line, 'k', HERALD_KID_MAX + 1);
    memcpy(line + HERALD_KID_MAX + 1, ":0123456789abcdef", 17);
    CHECK_EQ_INT(herald_secret_parse(&s, line, HERALD_KID_MAX + 18), HERALD_SIGNED_ESECRET);
    CHECK_EQ_INT(herald_secret_parse(&s, "0123456789abcde", 15), HERALD_SIGNED_ESECRET);
    CHECK_EQ_INT(herald_secret_parse(&s, "0123456789abcdef", 16), 0);
}

static int ref_channel_byte(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || (c != 0 && strchr("_-.:@", c) != NULL);
}

static int ref_kid_byte(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* All 256 byte values in the channel, kid, expiry and MAC positions. */
static void every_byte_class_in_every_field(void) {
    herald_secret_t s = secret_make("k:0123456789abcdef");
    char name[HERALD_SIGNED_MAX];
    int len = sign_str(&s, "abc", 5, name);
    CHECK(len > 0);
    /* name = "abc~v1.k.5." mac */
    const int pos_channel = 1, pos_kid = 7, pos_exp = 9, pos_mac = 11 + 20;
    CHECK(name[pos_kid] == 'k' && name[pos_exp] == '5');
    for (int c = 0; c < 256; c++) {
        char b = (char)c;
        int ok = ref_channel_byte(c) && c != 0;
        CHECK_EQ_INT(herald_channel_check(&b, 1) == 0, ok);

        char t[HERALD_SIGNED_MAX];
        memcpy(t, name, (size_t)len + 1);
        t[pos_channel] = b;
        int rc = herald_verify(&s, 1, t, (size_t)len, 0, &(herald_signed_t){0});
        if (c == 'b') CHECK_EQ_INT(rc, 0);
        else if (c == '~') CHECK_EQ_INT(rc, HERALD_SIGNED_EFORMAT);
        else if (ref_channel_byte(c)) CHECK_EQ_INT(rc, HERALD_SIGNED_EMAC);
        else CHECK_EQ_INT(rc, HERALD_SIGNED_ECHANNEL);

        memcpy(t, name, (size_t)len + 1);
        t[pos_kid] = b;
        rc = herald_verify(&s, 1, t, (size_t)len, 0, &(herald_signed_t){0});
        if (c == 'k') CHECK_EQ_INT(rc, 0);
        else if (ref_kid_byte(c)) CHECK_EQ_INT(rc, HERALD_SIGNED_EKID);
        else CHECK_EQ_INT(rc, HERALD_SIGNED_EFORMAT);

        memcpy(t, name, (size_t)len + 1);
        t[pos_exp] = b;
        rc = herald_verify(&s, 1, t, (size_t)len, 0, &(herald_signed_t){0});
        if (c == '5') CHECK_EQ_INT(rc, 0);
        else if (c >= '0' && c <= '9') CHECK_EQ_INT(rc, HERALD_SIGNED_EMAC);
        else CHECK_EQ_INT(rc, HERALD_SIGNED_EFORMAT);

        memcpy(t, name, (size_t)len + 1);
        char orig = t[pos_mac];
        t[pos_mac] = b;
        rc = herald_verify(&s, 1, t, (size_t)len, 0, &(herald_signed_t){0});
        if (c == (unsigned char)orig) CHECK_EQ_INT(rc, 0);
        else if (ref_kid_byte(c)) CHECK_EQ_INT(rc, HERALD_SIGNED_EMAC);
        else CHECK_EQ_INT(rc, HERALD_SIGNED_EFORMAT);
    }
    /* '0' as the whole expiry is a valid (different) expiry: a MAC mismatch */
    char t[HERALD_SIGNED_MAX];
    memcpy(t, name, (size_t)len + 1);
    t[pos_exp] = '0';
    CHECK_EQ_INT(verify_str(&s, 1, t, 0), HERALD_SIGNED_EMAC);
    /* an embedded NUL in the length-delimited name is just a bad byte */
    memcpy(t, name, (size_t)len + 1);
    t[len - 1] = '\0';
    CHECK_EQ_INT(herald_verify(&s, 1, t, (size_t)len, 0, &(herald_signed_t){0}),
                 HERALD_SIGNED_EFORMAT);
    /* truncation anywhere never verifies */
    for (int n = 0; n < len; n++)
        CHECK(herald_verify(&s, 1, name, (size_t)n, 0, &(herald_signed_t){0}) < 0);
}

static void secret_line_parsing(void) {
    herald_secret_t s;
    CHECK_EQ_INT(herald_secret_parse(&s, "0123456789abcdef\r\n", 18), 0);
    CHECK_STR(s.kid, "0");
    CHECK_MEM(s.key, s.key_len, "0123456789abcdef", 16);
    CHECK_EQ_INT(herald_secret_parse(&s, "k1:0123456789abcdef\n", 20), 0);
    CHECK_STR(s.kid, "k1");
    CHECK_MEM(s.key, s.key_len, "0123456789abcdef", 16);
    /* only the first ':' separates; the secret may contain more */
    CHECK_EQ_INT(herald_secret_parse(&s, "k1:0123:456789abcdef", 20), 0);
    CHECK_MEM(s.key, s.key_len, "0123:456789abcdef", 17);
    /* leading/inner spaces are part of the secret, trailing CR/LF only trimmed */
    CHECK_EQ_INT(herald_secret_parse(&s, " 0123456789abcdef ", 18), 0);
    CHECK_EQ_INT(s.key_len, 18);
    CHECK_EQ_INT(herald_secret_parse(&s, "", 0), HERALD_SIGNED_ESECRET);
    CHECK_EQ_INT(herald_secret_parse(&s, "\r\n", 2), HERALD_SIGNED_ESECRET);
    CHECK_EQ_INT(herald_secret_parse(&s, ":0123456789abcdef", 17), HERALD_SIGNED_ESECRET);
    CHECK_EQ_INT(herald_secret_parse(&s, "k.1:0123456789abcdef", 20), HERALD_SIGNED_ESECRET);
    CHECK_EQ_INT(herald_secret_parse(NULL, "0123456789abcdef", 16), HERALD_SIGNED_ESECRET);
    /* 16 bytes after trimming is the minimum */
    CHECK_EQ_INT(herald_secret_parse(&s, "0123456789abcde\n", 16), HERALD_SIGNED_ESECRET);
}

/* A secret built by hand must obey the same rules as a parsed one. */
static void sign_refuses_bad_secret_and_channel(void) {
    herald_secret_t s = secret_make("k:0123456789abcdef");
    char out[HERALD_SIGNED_MAX];
    CHECK_EQ_INT(herald_sign(&s, "", 0, 0, out, sizeof out), HERALD_SIGNED_ECHANNEL);
    CHECK_EQ_INT(herald_sign(&s, "a b", 3, 0, out, sizeof out), HERALD_SIGNED_ECHANNEL);
    CHECK_EQ_INT(herald_sign(&s, "a~v1", 4, 0, out, sizeof out), HERALD_SIGNED_ECHANNEL);
    CHECK_EQ_INT(herald_sign(NULL, "a", 1, 0, out, sizeof out), HERALD_SIGNED_ESECRET);
    herald_secret_t bad = s;
    bad.key_len = 3;
    CHECK_EQ_INT(herald_sign(&bad, "a", 1, 0, out, sizeof out), HERALD_SIGNED_ESECRET);
    bad = s;
    strcpy(bad.kid, "a.b");
    CHECK_EQ_INT(herald_sign(&bad, "a", 1, 0, out, sizeof out), HERALD_SIGNED_ESECRET);
    bad = s;
    bad.kid[0] = '\0';
    CHECK_EQ_INT(herald_sign(&bad, "a", 1, 0, out, sizeof out), HERALD_SIGNED_ESECRET);
    bad = s;
    memset(bad.kid, 'k', sizeof bad.kid); /* not NUL-terminated */
    CHECK_EQ_INT(herald_sign(&bad, "a", 1, 0, out, sizeof out), HERALD_SIGNED_ESECRET);
    CHECK_EQ_INT(herald_sign(&s, "a", 1, 0, NULL, 0), HERALD_SIGNED_ENOSPACE);
    /* "a~v1.k.0." + 43 = 52 bytes + NUL */
    CHECK_EQ_INT(herald_sign(&s, "a", 1, 0, out, 52), HERALD_SIGNED_ENOSPACE);
    CHECK_EQ_INT(herald_sign(&s, "a", 1, 0, out, 53), 52);
}

static void strerror_sentences_are_distinct(void) {
    for (int a = 0; a >= -9; a--) {
        const char *sa = herald_signed_strerror(a);
        CHECK(sa != NULL && sa[0] != '\0');
        for (int b = a - 1; b >= -9; b--)
            CHECK(strcmp(sa, herald_signed_strerror(b)) != 0);
    }
    CHECK(herald_signed_strerror(-100) != NULL);
}

int main(void) {
    RUN(vectors_all_match);
    RUN(expiry_boundary_now_equal_is_expired);
    RUN(tampered_byte_anywhere_is_refused);
    RUN(unknown_kid_is_ekid);
    RUN(rotation_accepts_old_and_new);
    RUN(max_lengths_fit_exactly);
    RUN(every_byte_class_in_every_field);
    RUN(secret_line_parsing);
    RUN(sign_refuses_bad_secret_and_channel);
    RUN(strerror_sentences_are_distinct);
    printf("# vectors: %d sign, %d verify, %d bad secret\n", vec_sign,
           vec_verify, vec_bad);
    return T_DONE();
}
