/* Unit tests for common/pusherapps.c, the pusher_apps_file walker the PHP
 * extension signs with, and the check that heraldd's own parser
 * (secrets_apps_parse) takes and refuses exactly the same files with the
 * same fields: a file one side accepts and the other refuses would mean
 * an auth endpoint signing with a secret heraldd does not hold. (A key used
 * twice is a rule of the whole file: secrets_apps_parse refuses it, and so
 * does ext/pusher.c, tested in phpt/pusher_auth_apps_file_refused.phpt.) */
#include "t.h"
#include "pusherapps.h"
#include "secrets.h"

#include <stdlib.h>

/* Walk a whole file: the number of apps, or -(line) of the first bad line. */
static int walk(const char *text, herald_pusher_app_line_t *last) {
    size_t pos = 0;
    int lineno = 0, rc, n = 0;
    herald_pusher_app_line_t a;
    while ((rc = herald_pusher_apps_next(text, strlen(text), &pos, &lineno, &a)) == 1) {
        *last = a;
        n++;
    }
    return rc < 0 ? -lineno : n;
}

/* Both parsers on one file: same verdict, same count, same fields. */
static void agree(const char *text) {
    herald_pusher_app_line_t a, last = {0};
    size_t pos = 0;
    int lineno = 0, n = 0;
    pusher_app_t *apps = NULL;
    size_t napps = 0;
    char err[512];
    int theirs = secrets_apps_parse(text, strlen(text), "f", &apps, &napps, err, sizeof err);
    int ours = walk(text, &last);
    if ((theirs == 0) != (ours > 0)) {
        fprintf(stderr, "  disagree on %s: heraldd %d, walker %d\n", text, theirs, ours);
        t_failed_checks++;
    }
    if (theirs == 0) {
        CHECK_EQ_INT((long long)napps, ours);
        while (herald_pusher_apps_next(text, strlen(text), &pos, &lineno, &a) == 1 && (size_t)n < napps) {
            CHECK_MEM(a.id, a.id_len, apps[n].id, strlen(apps[n].id));
            CHECK_MEM(a.key, a.key_len, apps[n].key, strlen(apps[n].key));
            CHECK_MEM(a.secret, a.secret_len, apps[n].secret, apps[n].secret_len);
#ifdef SECRETS_URL_MAX
            CHECK_MEM(a.url ? a.url : "", a.url_len, apps[n].webhook_url, strlen(apps[n].webhook_url));
#endif
            n++;
        }
        free(apps);
    }
}

static void reads_apps_with_comments_blanks_and_crlf(void) {
    herald_pusher_app_line_t a;
    const char *t = "# apps\n\n1001:key-1:0123456789abcdef\r\n  \n2:k.2:secret:with:colons \t\n";
    CHECK_EQ_INT(walk(t, &a), 2);
    CHECK_MEM(a.id, a.id_len, "2", 1);
    CHECK_MEM(a.key, a.key_len, "k.2", 3);
    CHECK_MEM(a.secret, a.secret_len, "secret:with:colons", 18);
}

static void bad_lines_are_named(void) {
    herald_pusher_app_line_t a;
    CHECK_EQ_INT(walk("1:k:0123456789abcdef\n1:k\n", &a), -2);
    CHECK_EQ_INT(walk("\n\n1:k:short\n", &a), -3);
    CHECK_EQ_INT(walk(":k:0123456789abcdef\n", &a), -1);
    CHECK_EQ_INT(walk("1::0123456789abcdef\n", &a), -1);
    CHECK_EQ_INT(walk("1:k y:0123456789abcdef\n", &a), -1);
    CHECK_EQ_INT(walk("", &a), 0);
    CHECK_EQ_INT(walk("# nothing\n", &a), 0);
}

static void limits_are_exact(void) {
    herald_pusher_app_line_t a;
    char t[1200];
    /* a 64-byte key and a 512-byte secret are taken, one more byte is not */
    snprintf(t, sizeof t, "1:%064d:%0512d\n", 0, 0);
    CHECK_EQ_INT(walk(t, &a), 1);
    snprintf(t, sizeof t, "1:%065d:%0512d\n", 0, 0);
    CHECK_EQ_INT(walk(t, &a), -1);
    snprintf(t, sizeof t, "1:k:%0513d\n", 0);
    CHECK_EQ_INT(walk(t, &a), -1);
    snprintf(t, sizeof t, "1:k:%016d\n", 0);
    CHECK_EQ_INT(walk(t, &a), 1);
    snprintf(t, sizeof t, "1:k:%015d\n", 0);
    CHECK_EQ_INT(walk(t, &a), -1);
}

/* A webhook URL after the secret (the hooks work in heraldd) is not part of
 * the secret: pusher_auth() must sign with what comes before it. */
static void webhook_url_is_cut_from_the_secret(void) {
    herald_pusher_app_line_t a;
    CHECK_EQ_INT(walk("1:k:0123456789abcdef:https://example.com/hook\n", &a), 1);
    CHECK_MEM(a.secret, a.secret_len, "0123456789abcdef", 16);
    CHECK_MEM(a.url, a.url_len, "https://example.com/hook", 24);
    CHECK_EQ_INT(walk("1:k:a:b:0123456789abcdef:http://h:8080/x:y\n", &a), 1);
    CHECK_MEM(a.secret, a.secret_len, "a:b:0123456789abcdef", 20);
    CHECK_MEM(a.url, a.url_len, "http://h:8080/x:y", 17);
    CHECK_EQ_INT(walk("1:k:0123456789abcdef\n", &a), 1);
    CHECK(a.url == NULL);
    CHECK_EQ_INT(walk("1:k:0123456789abcdef:http://\n", &a), -1);      /* nothing after the scheme */
    CHECK_EQ_INT(walk("1:k:0123456789abcdef:https://a b\n", &a), -1);  /* a space */
    CHECK_EQ_INT(walk("1:k:short:https://example.com\n", &a), -1);     /* the secret left is short */
    char t[1200];
    snprintf(t, sizeof t, "1:k:0123456789abcdef:http://%0505d\n", 0);  /* 512 bytes */
    CHECK_EQ_INT(walk(t, &a), 1);
    snprintf(t, sizeof t, "1:k:0123456789abcdef:http://%0506d\n", 0);
    CHECK_EQ_INT(walk(t, &a), -1);
}

static void heraldd_parser_agrees_on_every_vector(void) {
    static const char *const files[] = {
        "1001:key-1:0123456789abcdef\n",
        "# c\n\n1:a:0123456789abcdef0123\r\n2:b:fedcba9876543210fedc \n",
        "1:k:secret:with:colons:0123\n",
        "1:k\n", "1:k:short\n", ":k:0123456789abcdef\n", "1::0123456789abcdef\n",
        "1:k y:0123456789abcdef\n", "1:k/y:0123456789abcdef\n", "a b:k:0123456789abcdef\n",
        "", "\n\n", "# only\n", "  1:k:0123456789abcdef\n", "1:k:  0123456789abcdef\n",
        "1:k:0123456789abcdef\n#2:k2:bad\n", "1:k:0123456789abcdef\n2:k2:bad\n",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) agree(files[i]);
    char t[1200];
    snprintf(t, sizeof t, "1:%064d:%0512d\n", 0, 0);
    agree(t);
    snprintf(t, sizeof t, "%065d:k:%0512d\n", 0, 0);
    agree(t);
#ifdef SECRETS_URL_MAX /* a heraldd that knows webhook URLs: the same split */
    static const char *const with_urls[] = {
        "1:k:0123456789abcdef:https://example.com/hook\n", "1:k:a:b:0123456789abcdef:http://h:8080/x:y\n",
        "1:k:0123456789abcdef:http://\n", "1:k:0123456789abcdef:https://a b\n", "1:k:short:https://example.com\n",
    };
    for (size_t i = 0; i < sizeof with_urls / sizeof with_urls[0]; i++) agree(with_urls[i]);
#endif
}

int main(void) {
    RUN(reads_apps_with_comments_blanks_and_crlf);
    RUN(bad_lines_are_named);
    RUN(limits_are_exact);
    RUN(webhook_url_is_cut_from_the_secret);
    RUN(heraldd_parser_agrees_on_every_vector);
    return T_DONE();
}
