/* Unit tests for daemon/channel.c: glob patterns, the public list, the
 * table's life cycle and ids, and the once-encoded message frames. */
#include "t.h"
#include "channel.h"
#include "ws.h"

#include <stdint.h>

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
    channel_t *a = channel_get(&t, "a", 1, 1700000000000ULL);
    CHECK(a != NULL);
    CHECK(a->next_id == 1700000000000000ULL);
    CHECK(channel_find(&t, "a", 1) == a);
    CHECK(channel_find(&t, "b", 1) == NULL);
    CHECK(channel_get(&t, "a", 1, 5) == a);
    /* many channels force the table to grow; all are still found */
    char name[16];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        CHECK(channel_get(&t, name, strlen(name), 1) != NULL);
    }
    CHECK_EQ_INT(t.count, 2001);
    snprintf(name, sizeof(name), "c%d", 1234);
    CHECK(channel_find(&t, name, strlen(name)) != NULL);
    channel_table_free(&t);
}

/* Issue 11: a channel nobody holds costs nothing, at once. */
static void channel_without_subscribers_or_history_is_freed_at_once(void) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *a = channel_get(&t, "a", 1, 1000);
    sub_t s = {0};
    channel_sub_add(a, &s);
    CHECK_EQ_INT(channel_release(&t, a), 0); /* has a subscriber: kept */
    channel_table_sweep(&t, 5000, 100, 1000);
    CHECK(channel_find(&t, "a", 1) == a);
    channel_sub_remove(a, &s);
    a->busy = 1;                             /* being published to: kept */
    CHECK_EQ_INT(channel_release(&t, a), 0);
    a->busy = 0;
    CHECK_EQ_INT(channel_release(&t, a), 1);
    CHECK(channel_find(&t, "a", 1) == NULL);
    CHECK_EQ_INT(t.count, 0);
    channel_table_free(&t);
}

static void push(channel_table_t *t, channel_t *ch, uint64_t ms) {
    message_t m;
    CHECK_EQ_INT(channel_message_build(&m, ch, ch->next_id++, ms, "x", 1), 0);
    history_push(&t->hist, &ch->hist, &m, 100, SIZE_MAX);
    buf_unref(m.ws);
}

static void channel_with_history_outlives_its_subscribers(void) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *a = channel_get(&t, "h", 1, 1000);
    push(&t, a, 1000);
    CHECK_EQ_INT(channel_release(&t, a), 0);
    channel_table_sweep(&t, 1000 + 50, 100, 1000);
    CHECK(channel_find(&t, "h", 1) == a);
    channel_table_sweep(&t, 1000 + 100, 100, 1000); /* history expired: freed */
    CHECK(channel_find(&t, "h", 1) == NULL);
    CHECK_EQ_INT(t.hist.bytes, 0);
    channel_table_free(&t);
}

/* README "Resume": the ids a freed channel issued raise its slot's lost
 * mark; a new incarnation starts past the mark (ids never repeat) and a
 * resume from before it is a gap only if an id after since is gone. */
static void freed_channels_leave_only_a_lost_mark(void) {
    channel_table_t t;
    channel_table_init(&t);
    CHECK_EQ_INT(channel_table_lost_init(&t, 1000), 0);
    channel_t *a = channel_get(&t, "x", 1, 1000);
    CHECK(channel_lost_before(&t, a) == 999999); /* ids of an earlier process */
    CHECK(a->base_id == 1000000);
    /* a subscriber comes and goes without a message: nothing is lost */
    uint64_t seen = a->next_id - 1;
    CHECK_EQ_INT(channel_release(&t, a), 1);
    a = channel_get(&t, "x", 1, 2000);
    CHECK(a->base_id == 2000000);
    size_t start;
    CHECK_EQ_INT(history_since(&a->hist, seen, a->base_id, a->next_id,
                               channel_lost_before(&t, a), &start), 1);
    /* three messages, seen by the client up to the second; they expire */
    push(&t, a, 2000);
    push(&t, a, 2000);
    seen = a->next_id - 1;
    push(&t, a, 2000);
    uint64_t last = a->next_id - 1;
    channel_table_sweep(&t, 9000, 100, 1000);
    CHECK(channel_find(&t, "x", 1) == NULL);
    /* re-created in the same millisecond as its last id: ids go on past it */
    a = channel_get(&t, "x", 1, 2000);
    CHECK(a->base_id == last + 1);
    CHECK(channel_lost_before(&t, a) == last);
    CHECK_EQ_INT(history_since(&a->hist, seen, a->base_id, a->next_id,
                               channel_lost_before(&t, a), &start), 0); /* missed one */
    CHECK_EQ_INT(history_since(&a->hist, last, a->base_id, a->next_id,
                               channel_lost_before(&t, a), &start), 1);
    CHECK_EQ_INT(history_since(&a->hist, 12345, a->base_id, a->next_id,
                               channel_lost_before(&t, a), &start), 0); /* another process */
    channel_table_free(&t);
}

/* The sweep visits a bounded number of buckets per call and goes on where
 * it stopped; a whole pass frees everything that expired. */
static void sweep_does_bounded_work_per_call(void) {
    channel_table_t t;
    channel_table_init(&t);
    char name[16];
    for (int i = 0; i < 4000; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        push(&t, channel_get(&t, name, strlen(name), 1000), 1000);
    }
    CHECK_EQ_INT(t.count, 4000);
    size_t nb = t.nbuckets;
    int wrapped = channel_table_sweep(&t, 5000, 100, 64);
    CHECK_EQ_INT(wrapped, 0);
    CHECK(t.count < 4000);
    CHECK(t.count > 4000 - 64 * 8); /* 64 buckets hold a few channels each */
    int calls = 1;
    while (!channel_table_sweep(&t, 5000, 100, 64)) calls++;
    CHECK_EQ_INT(calls + 1, (int)(nb / 64));
    CHECK_EQ_INT(t.count, 0);
    CHECK_EQ_INT(t.hist.bytes, 0);
    channel_table_free(&t);
}

/* history_max_bytes: the oldest messages of all go first; a channel left
 * with nothing is freed, except the one being published to. */
static void trim_drops_the_oldest_of_all_and_frees_emptied_channels(void) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *a = channel_get(&t, "a", 1, 1000);
    channel_t *b = channel_get(&t, "b", 1, 1000);
    sub_t s = {0};
    channel_sub_add(b, &s);
    push(&t, a, 1001);
    push(&t, b, 1002);
    push(&t, a, 1003);
    size_t one = t.hist.bytes / 3;
    channel_t *c = channel_get(&t, "c", 1, 1004);
    push(&t, c, 1004);
    channel_table_trim(&t, 2 * one, c);      /* a's first, then b's: b has a subscriber */
    CHECK_EQ_INT(history_count(&a->hist), 1);
    CHECK_EQ_INT(history_count(&b->hist), 0);
    CHECK(channel_find(&t, "b", 1) == b);
    channel_table_trim(&t, 0, c);            /* a emptied: freed; c is kept */
    CHECK(channel_find(&t, "a", 1) == NULL);
    CHECK(channel_find(&t, "c", 1) == c);
    CHECK_EQ_INT(t.hist.bytes, 0);
    CHECK_EQ_INT(channel_release(&t, c), 1);
    channel_sub_remove(b, &s);
    channel_table_free(&t);
}

/* The attacker of issue 11 item 5: names whose unkeyed FNV-1a hashes share
 * their low 16 bits, made by meeting in the middle (those bits depend only
 * on the low 16 bits of the state). Under the old hash all of them fell in
 * one bucket; under SipHash with the process key the chains stay short. */
static uint32_t fnv1a(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void crafted_fnv_collisions_do_not_share_a_bucket(void) {
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    enum { A = 62, WANT = 30000 };
    const uint32_t p = 16777619u, target = 0x1234;
    uint32_t pinv = p; /* the inverse of p mod 2^32 (Newton) */
    for (int i = 0; i < 5; i++) pinv *= 2 - p * pinv;
    /* for each pair of last characters, the low 16 bits the state must have
     * after the first four */
    static int32_t need[65536];
    static int32_t next[A * A];
    for (size_t i = 0; i < 65536; i++) need[i] = -1;
    for (int c4 = 0; c4 < A; c4++)
        for (int c5 = 0; c5 < A; c5++) {
            uint32_t s5 = ((target * pinv) & 0xffff) ^ (unsigned char)abc[c5];
            uint32_t s4 = ((s5 * pinv) & 0xffff) ^ (unsigned char)abc[c4];
            next[c4 * A + c5] = need[s4];
            need[s4] = c4 * A + c5;
        }
    channel_table_t t;
    channel_table_init(&t);
    char name[8] = "xxxxxx";
    size_t made = 0;
    for (int a = 0; a < A && made < WANT; a++)
        for (int b = 0; b < A && made < WANT; b++)
            for (int c = 0; c < A && made < WANT; c++)
                for (int d = 0; d < A && made < WANT; d++) {
                    name[0] = abc[a], name[1] = abc[b], name[2] = abc[c], name[3] = abc[d];
                    uint32_t s4 = fnv1a(name, 4) & 0xffff;
                    for (int32_t k = need[s4]; k >= 0 && made < WANT; k = next[k]) {
                        name[4] = abc[k / A];
                        name[5] = abc[k % A];
                        if ((fnv1a(name, 6) & 0xffff) != target) continue;
                        if (channel_get(&t, name, 6, 1) != NULL) made++;
                    }
                }
    CHECK_EQ_INT(made, WANT);
    CHECK_EQ_INT(t.count, WANT);
    size_t longest = 0;
    for (size_t i = 0; i < t.nbuckets; i++) {
        size_t n = 0;
        for (channel_t *ch = t.buckets[i]; ch; ch = ch->hnext) n++;
        if (n > longest) longest = n;
    }
    CHECK(t.nbuckets <= 65536);
    if (longest > 16) fprintf(stderr, "  longest chain %zu of %zu buckets\n", longest, t.nbuckets);
    CHECK(longest <= 16);
    channel_table_free(&t);
}

static const unsigned char *json_of(const message_t *m, size_t *len) {
    *len = m->ws->len - WS_FRAME_HEADER_MAX;
    return m->ws->data + WS_FRAME_HEADER_MAX;
}

static void message_json_escapes_data(void) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *a = channel_get(&t, "orders", 6, 1);
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
    channel_t *a = channel_get(&t, "b", 1, 1);
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
    channel_t *a = channel_get(&t, "big", 3, 1);
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
    RUN(channel_without_subscribers_or_history_is_freed_at_once);
    RUN(channel_with_history_outlives_its_subscribers);
    RUN(freed_channels_leave_only_a_lost_mark);
    RUN(sweep_does_bounded_work_per_call);
    RUN(trim_drops_the_oldest_of_all_and_frees_emptied_channels);
    RUN(crafted_fnv_collisions_do_not_share_a_bucket);
    RUN(message_json_escapes_data);
    RUN(invalid_utf8_is_sent_as_base64);
    RUN(large_messages_get_the_long_frame_headers);
    return T_DONE();
}
