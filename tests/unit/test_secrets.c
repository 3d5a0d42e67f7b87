/* Unit tests for daemon/secrets.c's pusher_apps_file parser: the
 * app_id:key:secret lines and the optional webhook URL after the secret. */
#include "t.h"
#include "secrets.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int parse(const char *text, pusher_app_t **apps, size_t *n, char *err) {
    return secrets_apps_parse(text, strlen(text), "apps", apps, n, err, 300);
}

static void lines_without_a_url_are_as_before(void) {
    pusher_app_t *a;
    size_t n;
    char err[300];
    CHECK_EQ_INT(parse("# a comment\n1001:key-1:a-secret:with:colons-0123456789\n\n2:k2:0123456789abcdef\n", &a, &n, err), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_STR(a[0].id, "1001");
    CHECK_STR(a[0].key, "key-1");
    CHECK_MEM(a[0].secret, a[0].secret_len, "a-secret:with:colons-0123456789", 31);
    CHECK_STR(a[0].webhook_url, "");
    CHECK_STR(a[1].webhook_url, "");
    free(a);
}

static void a_webhook_url_follows_the_secret(void) {
    pusher_app_t *a;
    size_t n;
    char err[300];
    CHECK_EQ_INT(parse("1:k:a-secret-of-enough-bytes:http://127.0.0.1:8000/pusher/webhook?x=1\n"
                       "2:k2:another:secret-0123456789:https://hooks.example.com/p\n", &a, &n, err), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_MEM(a[0].secret, a[0].secret_len, "a-secret-of-enough-bytes", 24);
    CHECK_STR(a[0].webhook_url, "http://127.0.0.1:8000/pusher/webhook?x=1");
    CHECK_MEM(a[1].secret, a[1].secret_len, "another:secret-0123456789", 25);
    CHECK_STR(a[1].webhook_url, "https://hooks.example.com/p");
    free(a);
}

static void bad_urls_and_short_secrets_are_refused(void) {
    pusher_app_t *a;
    size_t n;
    char err[300];
    CHECK_EQ_INT(parse("1:k:a-secret-of-enough-bytes:http://\n", &a, &n, err), -1);
    CHECK(strstr(err, "apps line 1") != NULL);
    CHECK(strstr(err, "webhook URL") != NULL);
    CHECK_EQ_INT(parse("1:k:a-secret-of-enough-bytes:http://a b/\n", &a, &n, err), -1);
    CHECK_EQ_INT(parse("1:k:a-secret-of-enough-bytes:http://h/\x7f\n", &a, &n, err), -1);
    /* the secret left before the URL must still be long enough */
    CHECK_EQ_INT(parse("1:k:short:http://127.0.0.1/hook\n", &a, &n, err), -1);
    CHECK(strstr(err, "not app_id:key:secret") != NULL);
    char line[700] = "1:k:a-secret-of-enough-bytes:http://h/";
    memset(line + strlen(line), 'x', 520);
    line[sizeof(line) - 2] = '\n';
    line[sizeof(line) - 1] = '\0';
    CHECK_EQ_INT(parse(line, &a, &n, err), -1);
    /* a scheme other than http(s) is part of the secret, as before */
    CHECK_EQ_INT(parse("1:k:a-secret-of-enough-bytes:ftp://h/\n", &a, &n, err), 0);
    CHECK_STR(a[0].webhook_url, "");
    CHECK_EQ_INT(a[0].secret_len, 33);
    free(a);
}

/* The emit token's digest is taken once, at load, from the first
 * line (emit.c compares each request's digest with it); a reload's load
 * into a fresh secrets_t gets its own, and free zeroes it. */
static void the_emit_token_digest_is_taken_at_load(void) {
    char path[] = "/tmp/herald-test-emit-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    static const char text[] = "emit-token-0123456789abcdef\nsecond line\n";
    CHECK_EQ_INT(write(fd, text, sizeof(text) - 1), (int)sizeof(text) - 1);
    close(fd);
    config_t *cfg = calloc(1, sizeof(*cfg));
    snprintf(cfg->emit_secret_file, sizeof(cfg->emit_secret_file), "%s", path);
    secrets_t s;
    char err[300];
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(secrets_load(&s, cfg, err, sizeof(err)), 0);
    unlink(path);
    unsigned char want[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)"emit-token-0123456789abcdef", 27, want);
    CHECK_MEM(s.emit_token, s.emit_token_len, "emit-token-0123456789abcdef", 27);
    CHECK_MEM(s.emit_token_digest, sizeof(s.emit_token_digest), want, sizeof(want));
    secrets_free(&s);
    static const unsigned char zero[DIGEST_SHA256_BYTES];
    CHECK_MEM(s.emit_token_digest, sizeof(s.emit_token_digest), zero, sizeof(zero));
    free(cfg);
}

int main(void) {
    RUN(lines_without_a_url_are_as_before);
    RUN(a_webhook_url_follows_the_secret);
    RUN(bad_urls_and_short_secrets_are_refused);
    RUN(the_emit_token_digest_is_taken_at_load);
    return T_DONE();
}
