/* Unit tests for daemon/channel.c: glob patterns, the public list, the
 * table's life cycle and ids, and the once-encoded message frames. */
#include "t.h"
#include "channel.h"
#include "ws.h"

static int g(const char *p, const char *s) {
    return channel_glob_match(p, strlen(p), s, strlen(s));
}

static void glob_star_matches_any_run(void) {
    CHECK(g("news.*", "news.sport"));
    CHECK(g("news.*", "news."));
    CHECK(!g("news.*", "news"));
    CHECK(!g("news.*", "xnews.a"));
    CHECK(g("*", "anything"));
    CHECK(g("*.public", "a.b.public"));
    CHECK(!g("*.public", "a.public.x"));
    CHECK(g("a*b*c", "aXXbYYc"));
    CHECK(!g("a*b*c", "aXXbYY"));
    CHECK(g("exact", "exact"));
    CHECK(!g("exact", "exact2"));
    CHECK(!g("", "a"));
    CHECK(g("**", ""));
    CHECK(g("a?", "a?"));   /* only '*' is special */
    CHECK(!g("a?", "ab"));
}

static void public_list_is_comma_separated(void) {
    CHECK(channel_is_public("news.*, lobby", "lobby", 5));
    CHECK(channel_is_public("news.*, lobby", "news.x", 6));
    CHECK(!channel_is_public("news.*, lobby", "lobby2", 6));
    CHECK(!channel_is_public("", "a", 1));
    CHECK(!channel_is_public(" , ", "a", 1));
}

static void table_creates_finds_and_frees(void) {
    channel_table_t t;
    CHECK_EQ_INT(channel_table_init(&t), 0);
    channel_t *a = channel_get(&t, "a", 1, 1700000000000ULL, 4);
    CHECK(a != NULL);
    CHECK(a->next_id == 1700000000000000ULL);
    CHECK(channel_find(&t, "a", 1) == a);
    CHECK(channel_find(&t, "b", 1) == NULL);
    CHECK(channel_get(&t, "a", 1, 5, 4) == a);
    /* many channels force the table to grow; all are still found */
    char name[16];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        CHECK(channel_get(&t, name, strlen(name), 1, 4) != NULL);
    }
    CHECK_EQ_INT(t.count, 2001);
    snprintf(name, sizeof(name), "c%d", 1234);
    CHECK(channel_find(&t, name, strlen(name)) != NULL);
    channel_table_free(&t);
}

/* A channel is freed only after it stayed without subscribers and history
 * for the whole TTL, so a client that drops and resumes keeps its ids. */
static void empty_channel_is_freed_only_after_a_ttl_of_idleness(void) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *a = channel_get(&t, "a", 1, 1000, 4);
    sub_t s = {0};
    channel_sub_add(a, &s);
    channel_table_sweep(&t, 5000, 100);
    CHECK(channel_find(&t, "a", 1) == a); /* has a subscriber: kept */
    channel_sub_remove(a, &s);
    channel_table_sweep(&t, 6000, 100);    /* idle from now on */
    CHECK(channel_find(&t, "a", 1) == a);
    channel_table_sweep(&t, 6099, 100);
    CHECK(channel_find(&t, "a", 1) == a);
    channel_sub_add(a, &s);             /* back in use: idleness restarts */
    channel_table_sweep(&t, 6100, 100);
    channel_sub_remove(a, &s);
    channel_table_sweep(&t, 6150, 100);
    channel_table_sweep(&t, 6249, 100);
    CHECK(channel_find(&t, "a", 1) == a);
    channel_table_sweep(&t, 6250, 100);
    CHECK(channel_find(&t, "a", 1) == NULL);
    channel_table_free(&t);
}

static void channel_with_history_outlives_its_subscribers(void) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *a = channel_get(&t, "h", 1, 1000, 4);
    message_t m;
    CHECK_EQ_INT(channel_message_build(&m, a, a->next_id++, 1000, "x", 1), 0);
    history_push(&a->hist, &m);
    buf_unref(m.ws);
    channel_table_sweep(&t, 1000 + 50, 100);
    CHECK(channel_find(&t, "h", 1) == a);
    channel_table_sweep(&t, 1000 + 100, 100); /* history expired: idle */
    CHECK(channel_find(&t, "h", 1) == a);
    channel_table_sweep(&t, 1000 + 200, 100); /* idle for the TTL: freed */
    CHECK(channel_find(&t, "h", 1) == NULL);
    channel_table_free(&t);
}

static const unsigned char *json_of(const message_t *m, size_t *len) {
    *len = m->ws->len - WS_FRAME_HEADER_MAX;
    return m->ws->data + WS_FRAME_HEADER_MAX;
}

static void message_json_escapes_data(void) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *a = channel_get(&t, "orders", 6, 1, 0);
    message_t m;
    const char data[] = "a\"b\\c\nd\x01\x7f\xc3\xa9";
    CHECK_EQ_INT(channel_message_build(&m, a, 42, 1, data, sizeof(data) - 1), 0);
    size_t n;
    const unsigned char *j = json_of(&m, &n);
    const char want[] = "{\"type\":\"message\",\"channel\":\"orders\",\"id\":42,\"data\":\"a\\\"b\\\\c\\nd\\u0001\x7f\xc3\xa9\"}";
    CHECK_MEM(j, n, want, sizeof(want) - 1);
    /* the frame header sits right before the JSON: FIN+text, length n */
    const unsigned char *f = m.ws->data + m.ws_off;
    CHECK_EQ_INT(f[0], 0x81);
    CHECK_EQ_INT(f[1], n);
    CHECK_EQ_INT(m.ws_off + 2, WS_FRAME_HEADER_MAX);
    buf_t *sse = channel_message_sse(&m, a);
    char ev[300];
    int en = snprintf(ev, sizeof(ev), "id: orders:42\ndata: %s\n\n", want);
    CHECK_MEM(sse->data, sse->len, ev, (size_t)en);
    CHECK(channel_message_sse(&m, a) == sse); /* built once */
    buf_unref(m.ws);
    buf_unref(m.sse);
    channel_table_free(&t);
}

static void invalid_utf8_is_sent_as_base64(void) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *a = channel_get(&t, "b", 1, 1, 0);
    message_t m;
    CHECK_EQ_INT(channel_message_build(&m, a, 1, 1, "\xff", 1), 0);
    size_t n;
    const unsigned char *j = json_of(&m, &n);
    const char want[] = "{\"type\":\"message\",\"channel\":\"b\",\"id\":1,\"data\":\"/w==\",\"encoding\":\"base64\"}";
    CHECK_MEM(j, n, want, sizeof(want) - 1);
    buf_unref(m.ws);
    /* a truncated sequence too */
    CHECK_EQ_INT(channel_message_build(&m, a, 2, 1, "ab\xc3", 3), 0);
    j = json_of(&m, &n);
    CHECK(memmem(j, n, "\"YWLD\",\"encoding\":\"base64\"", 26) != NULL);
    buf_unref(m.ws);
    channel_table_free(&t);
}

static void large_messages_get_the_long_frame_headers(void) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *a = channel_get(&t, "big", 3, 1, 0);
    static char data[70000];
    memset(data, 'x', sizeof(data));
    size_t sizes[] = {60, 200, sizeof(data)};
    for (int i = 0; i < 3; i++) {
        message_t m;
        CHECK_EQ_INT(channel_message_build(&m, a, 1, 1, data, sizes[i]), 0);
        size_t n = m.ws->len - WS_FRAME_HEADER_MAX;
        const unsigned char *f = m.ws->data + m.ws_off;
        CHECK_EQ_INT(WS_FRAME_HEADER_MAX - m.ws_off, ws_frame_header_size(n));
        if (n < 126) CHECK_EQ_INT(f[1], n);
        else if (n < 65536) CHECK_EQ_INT((f[2] << 8) | f[3], n);
        else CHECK_EQ_INT(f[1], 127);
        buf_unref(m.ws);
    }
    channel_table_free(&t);
}

int main(void) {
    RUN(glob_star_matches_any_run);
    RUN(public_list_is_comma_separated);
    RUN(table_creates_finds_and_frees);
    RUN(empty_channel_is_freed_only_after_a_ttl_of_idleness);
    RUN(channel_with_history_outlives_its_subscribers);
    RUN(message_json_escapes_data);
    RUN(invalid_utf8_is_sent_as_base64);
    RUN(large_messages_get_the_long_frame_headers);
    return T_DONE();
}
