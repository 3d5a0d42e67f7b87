/* daemon/rediswire.c: the redis address, key names, and the payload nodes
 * publish to each other. Inputs are copied to exact-size heap blocks so a
 * sanitizer build catches any over-read. */
#include "rediswire.h"
#include "t.h"

#include <stdlib.h>

static int parse(const char *s, rediswire_addr_t *a, char *why) {
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    int r = rediswire_url_parse(p, n, a, why, 200);
    free(p);
    return r;
}

static void urls_with_host_port_db_and_password_parse(void) {
    rediswire_addr_t a;
    char why[200];
    CHECK_EQ_INT(parse("redis://127.0.0.1:6380", &a, why), 0);
    CHECK(strcmp(a.host, "127.0.0.1") == 0);
    CHECK_EQ_INT(a.port, 6380);
    CHECK_EQ_INT(a.db, 0);
    CHECK_EQ_INT(a.has_password, 0);
    CHECK_EQ_INT(parse("redis://cache.internal", &a, why), 0);
    CHECK_EQ_INT(a.port, 6379);
    CHECK_EQ_INT(parse("redis://:s3cret@10.0.0.5:7000/3", &a, why), 0);
    CHECK(strcmp(a.password, "s3cret") == 0);
    CHECK(a.user[0] == '\0');
    CHECK_EQ_INT(a.has_password, 1);
    CHECK_EQ_INT(a.db, 3);
    CHECK_EQ_INT(parse("redis://herald:p%40ss%3Aw@[::1]:6379/0", &a, why), 0);
    CHECK(strcmp(a.user, "herald") == 0);
    CHECK(strcmp(a.password, "p@ss:w") == 0);
    CHECK(strcmp(a.host, "::1") == 0);
    CHECK_EQ_INT(a.port, 6379);
    CHECK_EQ_INT(parse("redis://[::1]", &a, why), 0);
    CHECK(strcmp(a.host, "::1") == 0);
    CHECK_EQ_INT(a.port, 6379);
    CHECK_EQ_INT(parse("redis://h:1/", &a, why), 0);
    /* the last @ ends the credentials: a password may hold @ unescaped */
    CHECK_EQ_INT(parse("redis://:a@b@h", &a, why), 0);
    CHECK(strcmp(a.password, "a@b") == 0);
    CHECK(strcmp(a.host, "h") == 0);
}

static void unix_sockets_parse(void) {
    rediswire_addr_t a;
    char why[200];
    CHECK_EQ_INT(parse("unix:/run/redis/redis.sock", &a, why), 0);
    CHECK_EQ_INT(a.is_unix, 1);
    CHECK(strcmp(a.path, "/run/redis/redis.sock") == 0);
    CHECK_EQ_INT(parse("unix:relative.sock", &a, why), -1);
    CHECK_EQ_INT(parse("unix:", &a, why), -1);
    char longp[200] = "unix:/";
    memset(longp + 6, 'x', 150);
    CHECK_EQ_INT(parse(longp, &a, why), -1);
}

static void bad_urls_are_refused_without_echoing_the_password(void) {
    rediswire_addr_t a;
    char why[200];
    const char *bad[] = {"", "redis:/h", "http://h:1", "redis://", "redis://h:0", "redis://h:65536",
                         "redis://h:port", "redis://h:-1", "redis://h:1/x", "redis://h:1/65536",
                         "redis://h h", "redis://[::1", "redis://[zz]:1", "redis://pw@h",
                         "redis://:%zz@h", "redis://:%00@h", "redis://:%4@h", "redis://h:1:2",
                         "redis://:@", "rediss://h"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        int r = parse(bad[i], &a, why);
        if (r != -1) fprintf(stderr, "  accepted: '%s'\n", bad[i]);
        CHECK_EQ_INT(r, -1);
        CHECK(why[0] != '\0');
    }
    CHECK_EQ_INT(parse("redis://:hunter2@h:99999", &a, why), -1);
    CHECK(strstr(why, "hunter2") == NULL);
    /* an embedded NUL is not cut short into a valid address */
    CHECK_EQ_INT(rediswire_url_parse("redis://h\0x", 11, &a, why, sizeof(why)), -1);
}

static void keys_share_one_hash_tag_and_the_channel_reads_back(void) {
    char k[300];
    CHECK_EQ_INT(rediswire_key(k, sizeof(k), REDISWIRE_KEY_ID, "orders", 6, 0), 18);
    CHECK(strcmp(k, "herald:{orders}:id") == 0);
    CHECK_EQ_INT(rediswire_key(k, sizeof(k), REDISWIRE_KEY_HISTORY, "orders", 6, 0), 17);
    CHECK(strcmp(k, "herald:{orders}:h") == 0);
    int n = rediswire_key(k, sizeof(k), REDISWIRE_KEY_PUBSUB, "user:42", 7, 5);
    CHECK(strcmp(k, "herald:{user:42}:5") == 0);
    const char *name;
    size_t len;
    CHECK_EQ_INT(rediswire_pubsub_channel(k, (size_t)n, &name, &len), 0);
    CHECK_MEM(name, len, "user:42", 7);
    CHECK_EQ_INT(rediswire_key(k, 10, REDISWIRE_KEY_ID, "orders", 6, 0), -1);
    CHECK_EQ_INT(rediswire_pubsub_channel("herald:{}:0", 11, &name, &len), -1);
    CHECK_EQ_INT(rediswire_pubsub_channel("herald:{x}", 10, &name, &len), -1);
    CHECK_EQ_INT(rediswire_pubsub_channel("other:{x}:0", 11, &name, &len), -1);
    CHECK_EQ_INT(rediswire_pubsub_channel("herald:{x", 9, &name, &len), -1);
}

static int decode(const char *s, size_t n, uint64_t *id, uint64_t *ms, char *data, size_t *dl) {
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    const char *d;
    int r = rediswire_msg_decode(p, n, id, ms, &d, dl);
    if (r == 0) memcpy(data, d, *dl);
    free(p);
    return r;
}

/* herald:{channel}:k:<key>: the channel's hash tag, whatever the key holds */
static void idempotency_keys_stay_in_the_channel_slot(void) {
    char k[300];
    CHECK_EQ_INT(rediswire_idem_key(k, sizeof(k), "orders", 6, "order-17", 8), 26);
    CHECK(strcmp(k, "herald:{orders}:k:order-17") == 0);
    /* a key with braces and colons does not move the hash tag */
    CHECK_EQ_INT(rediswire_idem_key(k, sizeof(k), "a", 1, "}{x}:k", 6), 19);
    CHECK(strcmp(k, "herald:{a}:k:}{x}:k") == 0);
    /* the longest channel and key fit the caller's buffer; one byte less does not */
    char ch[200], key[64];
    memset(ch, 'c', sizeof(ch));
    memset(key, 'k', sizeof(key));
    int n = rediswire_idem_key(k, sizeof(k), ch, sizeof(ch), key, sizeof(key));
    CHECK_EQ_INT(n, 8 + 200 + 4 + 64);
    CHECK_EQ_INT(rediswire_idem_key(k, (size_t)n, ch, sizeof(ch), key, sizeof(key)), -1);
    CHECK_EQ_INT(rediswire_idem_key(k, sizeof(k), "a", 1, "", 0), -1);
}

static void messages_decode_and_junk_is_refused(void) {
    uint64_t id, ms;
    char d[64];
    size_t dl;
    CHECK_EQ_INT(decode("1700000000000000 1700000000000\n{\"a\":1}", 38, &id, &ms, d, &dl), 0);
    CHECK(id == UINT64_C(1700000000000000));
    CHECK(ms == UINT64_C(1700000000000));
    CHECK_MEM(d, dl, "{\"a\":1}", 7);
    CHECK_EQ_INT(decode("5 0\n", 4, &id, &ms, d, &dl), 0);
    CHECK_EQ_INT(dl, 0);
    CHECK_EQ_INT(decode("5 0\nbin\0ary\n", 12, &id, &ms, d, &dl), 0);
    CHECK_MEM(d, dl, "bin\0ary\n", 8);
    CHECK_EQ_INT(decode("18446744073709551615 1\nx", 24, &id, &ms, d, &dl), 0);
    CHECK(id == UINT64_MAX);
    const char *bad[] = {"", "5", "5 ", "5 1", "0 1\nx", "05 1\nx", "-5 1\nx", "5 01\nx",
                         "5  1\nx", "18446744073709551616 1\nx", "5 1 \nx", "x 1\nx", " 5 1\nx",
                         "5 123456789012345678901\nx"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = decode(bad[i], strlen(bad[i]), &id, &ms, d, &dl);
        if (r != -1) fprintf(stderr, "  accepted: '%s'\n", bad[i]);
        CHECK_EQ_INT(r, -1);
    }
}

static void stream_entry_ids_are_ours_only(void) {
    CHECK(rediswire_entry_id("0-42", 4) == 42);
    CHECK(rediswire_entry_id("0-1795952352453000", 18) == UINT64_C(1795952352453000));
    CHECK(rediswire_entry_id("1-42", 4) == 0);
    CHECK(rediswire_entry_id("0-", 2) == 0);
    CHECK(rediswire_entry_id("0-042", 5) == 0);
    CHECK(rediswire_entry_id("0-4x", 4) == 0);
    CHECK(rediswire_entry_id("42", 2) == 0);
    uint64_t v;
    CHECK_EQ_INT(rediswire_u64("12", 2, &v), 0);
    CHECK(v == 12);
    CHECK_EQ_INT(rediswire_u64("", 0, &v), -1);
    CHECK_EQ_INT(rediswire_u64("1.5", 3, &v), -1);
}

int main(void) {
    RUN(urls_with_host_port_db_and_password_parse);
    RUN(unix_sockets_parse);
    RUN(bad_urls_are_refused_without_echoing_the_password);
    RUN(keys_share_one_hash_tag_and_the_channel_reads_back);
    RUN(idempotency_keys_stay_in_the_channel_slot);
    RUN(messages_decode_and_junk_is_refused);
    RUN(stream_entry_ids_are_ours_only);
    return T_DONE();
}
