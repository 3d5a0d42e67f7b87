/* Unit tests for daemon/quota.c: token buckets for channel creation, per
 * connection and per client address, and the table that forgets an
 * address once its bucket is full again. */
#include "t.h"
#include "quota.h"

static void bucket_allows_a_burst_then_the_rate(void) {
    uint64_t tokens = 0, ms = 0;
    /* rate 10/s, burst 15: 15 at once, then one per 100 ms */
    CHECK_EQ_INT(quota_bucket_take(&tokens, &ms, 15, 1000, 10, 15), 0);
    CHECK_EQ_INT(quota_bucket_take(&tokens, &ms, 1, 1000, 10, 15), -1);
    CHECK_EQ_INT(quota_bucket_take(&tokens, &ms, 1, 1050, 10, 15), -1);
    CHECK_EQ_INT(quota_bucket_take(&tokens, &ms, 1, 1100, 10, 15), 0);
    CHECK_EQ_INT(quota_bucket_take(&tokens, &ms, 1, 1100, 10, 15), -1);
    /* a refused take takes nothing: 5 wanted, 4 there after 400 ms */
    CHECK_EQ_INT(quota_bucket_take(&tokens, &ms, 5, 1500, 10, 15), -1);
    CHECK_EQ_INT(quota_bucket_take(&tokens, &ms, 4, 1500, 10, 15), 0);
    /* refills up to the burst, never past it */
    CHECK_EQ_INT(quota_bucket_take(&tokens, &ms, 16, 100000, 10, 15), -1);
    CHECK_EQ_INT(quota_bucket_take(&tokens, &ms, 15, 100000, 10, 15), 0);
}

static peer_addr_t v4(int last) {
    peer_addr_t a = {0};
    char s[32];
    snprintf(s, sizeof(s), "192.0.2.%d", last);
    peer_addr_parse(s, strlen(s), &a);
    return a;
}

static void addresses_have_their_own_buckets(void) {
    quota_table_t t;
    CHECK_EQ_INT(quota_table_init(&t), 0);
    peer_addr_t a = v4(1), b = v4(2);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(quota_take(&t, &a, 1, 1000, 1, 5), 0);
    CHECK_EQ_INT(quota_take(&t, &a, 1, 1000, 1, 5), -1);
    CHECK_EQ_INT(quota_take(&t, &b, 5, 1000, 1, 5), 0);
    CHECK_EQ_INT(quota_take(&t, &b, 1, 1000, 1, 5), -1);
    CHECK_EQ_INT(quota_take(&t, &a, 1, 2000, 1, 5), 0);
    peer_addr_t c = v4(3);
    CHECK_EQ_INT(quota_take(&t, &c, 6, 2000, 1, 5), -1); /* over the burst */
    CHECK_EQ_INT(t.count, 2);
    quota_table_free(&t);
}

static void sweep_forgets_addresses_whose_bucket_refilled(void) {
    quota_table_t t;
    quota_table_init(&t);
    for (int i = 0; i < 200; i++) {
        peer_addr_t a = v4(i);
        quota_take(&t, &a, 1, 1000, 10, 20);
    }
    CHECK_EQ_INT(t.count, 200);
    quota_table_sweep(&t, 1050, 10, 20, 1000000); /* not refilled yet */
    CHECK_EQ_INT(t.count, 200);
    quota_table_sweep(&t, 1100, 10, 20, 8);        /* bounded: a few buckets */
    CHECK(t.count < 200);
    CHECK(t.count > 100);
    quota_table_sweep(&t, 1100, 10, 20, 1000000);
    CHECK_EQ_INT(t.count, 0);
    /* a forgotten address starts over with a full bucket */
    peer_addr_t a = v4(1);
    CHECK_EQ_INT(quota_take(&t, &a, 20, 1200, 10, 20), 0);
    quota_table_free(&t);
}

int main(void) {
    RUN(bucket_allows_a_burst_then_the_rate);
    RUN(addresses_have_their_own_buckets);
    RUN(sweep_forgets_addresses_whose_bucket_refilled);
    return T_DONE();
}
