/* daemon/origin.c: the allowed_origins policy (parsing the allowlist and
 * the Origin header, matching them, refusing bad entries at load). */
#include "origin.h"
#include "t.h"

/* The Origin value is not NUL-terminated in a request buffer: copy it into
 * an exact-size heap block so a sanitizer build catches any over-read. */
#include <stdlib.h>
static int allows(const char *list, const char *origin) {
    size_t n = strlen(origin);
    char *p = malloc(n ? n : 1);
    memcpy(p, origin, n);
    int r = origin_list_allows(list, p, n);
    free(p);
    return r;
}

static void browser_origins_parse_with_default_ports(void) {
    origin_t o;
    CHECK_EQ_INT(origin_parse("https://app.example", 19, 0, &o), 0);
    CHECK_MEM(o.scheme, o.scheme_len, "https", 5);
    CHECK_MEM(o.host, o.host_len, "app.example", 11);
    CHECK_EQ_INT(o.port, 443);
    CHECK_EQ_INT(o.wildcard, 0);
    CHECK_EQ_INT(origin_parse("http://127.0.0.1:8000", 21, 0, &o), 0);
    CHECK_MEM(o.host, o.host_len, "127.0.0.1", 9);
    CHECK_EQ_INT(o.port, 8000);
    CHECK_EQ_INT(origin_parse("http://[::1]:3000", 17, 0, &o), 0);
    CHECK_MEM(o.host, o.host_len, "[::1]", 5);
    CHECK_EQ_INT(o.port, 3000);
    CHECK_EQ_INT(origin_parse("http://a.example", 16, 0, &o), 0);
    CHECK_EQ_INT(o.port, 80);
    CHECK_EQ_INT(origin_parse("chrome-extension://abcdef", 25, 0, &o), 0);
    CHECK_EQ_INT(o.port, 0);
}

static void junk_origins_are_refused(void) {
    const char *bad[] = {"", "null", "app.example", "https://", "https://app.example/",
                         "https://app.example/path", "https://app.example:", "https://app.example:0",
                         "https://app.example:65536", "https://app.example:123456", "https://app.example:44x",
                         "https://user@app.example", "https://app..example", "https://.app.example",
                         "https://app.example.", "https://*.app.example", "https://[::1", "https://[]",
                         "https://[::1]x", "1https://a", "ht tp://a", "https:/a", "https://a b",
                         "https://app.example\r\n", "https://app.example,https://b.example"};
    origin_t o;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        if (origin_parse(bad[i], strlen(bad[i]), 0, &o) == 0) {
            fprintf(stderr, "  accepted: '%s'\n", bad[i]);
            CHECK(0);
        }
    }
    char big[300];
    memcpy(big, "https://", 8);
    memset(big + 8, 'a', sizeof(big) - 8);
    CHECK(origin_parse(big, sizeof(big), 0, &o) != 0);
}

static void exact_entries_match_scheme_host_and_port(void) {
    const char *list = "https://app.example, http://127.0.0.1:8000,https://admin.example:8443";
    CHECK(allows(list, "https://app.example"));
    CHECK(allows(list, "HTTPS://APP.Example"));
    CHECK(allows(list, "https://app.example:443"));
    CHECK(allows(list, "http://127.0.0.1:8000"));
    CHECK(allows(list, "https://admin.example:8443"));
    CHECK(!allows(list, "http://app.example"));      /* scheme differs */
    CHECK(!allows(list, "https://app.example:8443")); /* port differs */
    CHECK(!allows(list, "https://admin.example"));
    CHECK(!allows(list, "https://app.example.evil.example"));
    CHECK(!allows(list, "https://evilapp.example"));
    CHECK(!allows(list, "https://app.example/"));
    CHECK(!allows(list, "null"));
    CHECK(!allows(list, ""));
    CHECK(!allows(list, "https://app.exampl"));
}

static void wildcard_entries_match_subdomains_only(void) {
    const char *list = "https://*.app.example";
    CHECK(allows(list, "https://eu.app.example"));
    CHECK(allows(list, "https://a.b.app.example"));
    CHECK(!allows(list, "https://app.example"));      /* not a subdomain */
    CHECK(!allows(list, "https://evilapp.example"));  /* no dot before the suffix */
    CHECK(!allows(list, "https://.app.example"));
    CHECK(!allows(list, "http://eu.app.example"));
    CHECK(!allows(list, "https://eu.app.example:444"));
    CHECK(!allows(list, "https://*.app.example")); /* a header is never a pattern */
    CHECK(!allows(list, "https://[::1]"));
}

static void star_allows_anything_even_junk(void) {
    CHECK(allows("*", "https://anything.example"));
    CHECK(allows("*", "null"));
    CHECK(allows("https://a.example, *", "garbage"));
    CHECK(!allows("", "https://a.example"));
}

static void bad_entries_are_refused_at_load_naming_them(void) {
    char err[300];
    CHECK_EQ_INT(origin_list_check("*", err, sizeof(err)), 0);
    CHECK_EQ_INT(origin_list_check("", err, sizeof(err)), 0);
    CHECK_EQ_INT(origin_list_check(" https://a.example , https://*.b.example:8443,,", err, sizeof(err)), 0);
    CHECK_EQ_INT(origin_list_check("https://a.example, app.example", err, sizeof(err)), -1);
    CHECK(strstr(err, "'app.example'") != NULL);
    CHECK_EQ_INT(origin_list_check("https://a.example/", err, sizeof(err)), -1);
    CHECK(strstr(err, "'https://a.example/'") != NULL);
    CHECK_EQ_INT(origin_list_check("null", err, sizeof(err)), -1);
    CHECK(strstr(err, "null") != NULL);
    CHECK_EQ_INT(origin_list_check("https://*.", err, sizeof(err)), -1);
    CHECK_EQ_INT(origin_list_check("https://a.*.example", err, sizeof(err)), -1);
}

int main(void) {
    RUN(browser_origins_parse_with_default_ports);
    RUN(junk_origins_are_refused);
    RUN(exact_entries_match_scheme_host_and_port);
    RUN(wildcard_entries_match_subdomains_only);
    RUN(star_allows_anything_even_junk);
    RUN(bad_entries_are_refused_at_load_naming_them);
    return T_DONE();
}
