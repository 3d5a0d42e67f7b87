/* daemon/peer.c: addresses, CIDR lists, the client behind trusted proxies,
 * and the per-address connection count. */
#include "peer.h"
#include "t.h"

static peer_addr_t A(const char *s) {
    peer_addr_t a;
    if (peer_addr_parse(s, strlen(s), &a) != 0) memset(&a, 0xee, sizeof(a));
    return a;
}

static int same(peer_addr_t a, const char *s) {
    peer_addr_t b = A(s);
    return a.family == b.family && memcmp(a.bytes, b.bytes, 16) == 0;
}

static void addresses_of_every_form_parse(void) {
    peer_addr_t a;
    CHECK_EQ_INT(peer_addr_parse("192.0.2.1", 9, &a), 0);
    CHECK_EQ_INT(a.family, 4);
    CHECK(same(A(" 192.0.2.1:8080 "), "192.0.2.1"));
    CHECK(same(A("[2001:db8::1]:4711"), "2001:db8::1"));
    CHECK(same(A("[2001:db8::1]"), "2001:db8::1"));
    CHECK(same(A("::ffff:192.0.2.7"), "192.0.2.7")); /* mapped: stored as IPv4 */
    CHECK_EQ_INT(A("::ffff:192.0.2.7").family, 4);
}

static void junk_addresses_are_refused(void) {
    const char *bad[] = {"", " ", "unknown", "_hidden", "1.2.3", "1.2.3.4.5", "256.1.1.1",
                         "[2001:db8::1", "[]", "[::1]x", "2001:db8:::1", "example.com",
                         "1.2.3.4/8", "\"1.2.3.4\""};
    peer_addr_t a;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        if (peer_addr_parse(bad[i], strlen(bad[i]), &a) == 0) {
            fprintf(stderr, "  accepted: '%s'\n", bad[i]);
            CHECK(0);
        }
    }
    char big[100];
    memset(big, '1', sizeof(big));
    CHECK(peer_addr_parse(big, sizeof(big), &a) != 0);
}

static void cidr_lists_match_by_prefix(void) {
    peer_cidr_t l[PEER_CIDR_MAX];
    size_t n;
    char err[128];
    CHECK_EQ_INT(peer_cidr_list_parse("10.0.0.0/8, 192.0.2.1 ,2001:db8::/32,172.16.0.0/12", l,
                                      PEER_CIDR_MAX, &n, err, sizeof(err)), 0);
    CHECK_EQ_INT(n, 4);
    peer_addr_t in[] = {A("10.1.2.3"), A("192.0.2.1"), A("2001:db8:ffff::1"), A("172.31.255.255")};
    peer_addr_t out[] = {A("11.0.0.1"), A("192.0.2.2"), A("2001:db9::1"), A("172.32.0.0")};
    for (int i = 0; i < 4; i++) {
        CHECK(peer_cidr_contains(l, n, &in[i]));
        CHECK(!peer_cidr_contains(l, n, &out[i]));
    }
    CHECK_EQ_INT(peer_cidr_list_parse("", l, PEER_CIDR_MAX, &n, err, sizeof(err)), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(peer_cidr_list_parse("0.0.0.0/0", l, PEER_CIDR_MAX, &n, err, sizeof(err)), 0);
    peer_addr_t any = A("203.0.113.9"), v6 = A("::1");
    CHECK(peer_cidr_contains(l, n, &any));
    CHECK(!peer_cidr_contains(l, n, &v6)); /* families never match */
}

static void bad_cidr_lists_say_which_entry(void) {
    peer_cidr_t l[2];
    size_t n;
    char err[128];
    CHECK_EQ_INT(peer_cidr_list_parse("10.0.0.0/33", l, 2, &n, err, sizeof(err)), -1);
    CHECK(strstr(err, "10.0.0.0/33") != NULL);
    CHECK_EQ_INT(peer_cidr_list_parse("::/129", l, 2, &n, err, sizeof(err)), -1);
    CHECK_EQ_INT(peer_cidr_list_parse("10.0.0.0/", l, 2, &n, err, sizeof(err)), -1);
    CHECK_EQ_INT(peer_cidr_list_parse("10.0.0.0/8x", l, 2, &n, err, sizeof(err)), -1);
    CHECK_EQ_INT(peer_cidr_list_parse("proxy.local", l, 2, &n, err, sizeof(err)), -1);
    CHECK(strstr(err, "proxy.local") != NULL);
    CHECK_EQ_INT(peer_cidr_list_parse("1.1.1.1,2.2.2.2,3.3.3.3", l, 2, &n, err, sizeof(err)), -1);
}

static void client_is_the_rightmost_untrusted_hop(void) {
    peer_cidr_t t[4];
    size_t n;
    char err[64];
    peer_cidr_list_parse("10.0.0.0/8", t, 4, &n, err, sizeof(err));
    peer_addr_t c;
    const char *x = "203.0.113.5, 198.51.100.7, 10.0.0.2";
    CHECK_EQ_INT(peer_forwarded_client(x, strlen(x), NULL, 0, t, n, &c), 0);
    CHECK(same(c, "198.51.100.7")); /* a client cannot forge the hops past our proxy */
    const char *f = "for=192.0.2.43;proto=https, for=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1, for=10.0.0.9";
    CHECK_EQ_INT(peer_forwarded_client(NULL, 0, f, strlen(f), t, n, &c), 0);
    CHECK(same(c, "2001:db8:cafe::17"));
    const char *F = "For=\"192.0.2.60\"";
    CHECK_EQ_INT(peer_forwarded_client(NULL, 0, F, strlen(F), t, n, &c), 0);
    CHECK(same(c, "192.0.2.60"));
    /* X-Forwarded-For wins when both are sent */
    CHECK_EQ_INT(peer_forwarded_client("192.0.2.9", 9, F, strlen(F), t, n, &c), 0);
    CHECK(same(c, "192.0.2.9"));
}

static void unusable_forwarding_headers_name_no_client(void) {
    peer_cidr_t t[4];
    size_t n;
    char err[64];
    peer_cidr_list_parse("10.0.0.0/8", t, 4, &n, err, sizeof(err));
    peer_addr_t c;
    const char *cases[] = {"", "unknown", "10.0.0.1, 10.0.0.2", "garbage, 10.0.0.3", ",,,"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        CHECK_EQ_INT(peer_forwarded_client(cases[i], strlen(cases[i]), NULL, 0, t, n, &c), -1);
    const char *f[] = {"for=unknown", "proto=https", "for=_hidden;by=10.0.0.1", "for=\"\""};
    for (size_t i = 0; i < sizeof(f) / sizeof(*f); i++)
        CHECK_EQ_INT(peer_forwarded_client(NULL, 0, f[i], strlen(f[i]), t, n, &c), -1);
    CHECK_EQ_INT(peer_forwarded_client(NULL, 0, NULL, 0, t, n, &c), -1);
}

static void table_counts_per_address_and_frees_at_zero(void) {
    peer_table_t t;
    CHECK_EQ_INT(peer_table_init(&t), 0);
    peer_addr_t a = A("192.0.2.1"), b = A("2001:db8::1");
    CHECK_EQ_INT(peer_table_incr(&t, &a), 1);
    CHECK_EQ_INT(peer_table_incr(&t, &a), 2);
    CHECK_EQ_INT(peer_table_incr(&t, &b), 1);
    CHECK_EQ_INT(t.count, 2);
    peer_table_decr(&t, &a);
    peer_table_decr(&t, &a);
    CHECK_EQ_INT(t.count, 1);
    CHECK_EQ_INT(peer_table_incr(&t, &a), 1);
    peer_table_decr(&t, &b);
    peer_table_decr(&t, &b); /* unknown: ignored */
    for (int i = 0; i < 5000; i++) {
        peer_addr_t x = {4, {10, (uint8_t)(i >> 8), (uint8_t)i, 1}};
        CHECK(peer_table_incr(&t, &x) == 1);
    }
    CHECK_EQ_INT(t.count, 5001);
    peer_table_free(&t);
}

/* ipv6_prefix_bits: an IPv6 client is counted by its prefix, IPv4 whole. */
static void ipv6_addresses_are_cut_to_their_prefix(void) {
    peer_addr_t a, b, p;
    CHECK_EQ_INT(peer_addr_parse("2001:db8:1:2:ffff:eeee:dddd:cccc", 32, &a), 0);
    CHECK_EQ_INT(peer_addr_parse("2001:db8:1:2::", 14, &b), 0);
    p = peer_addr_prefix(&a, 64);
    CHECK_MEM(p.bytes, 16, b.bytes, 16);
    CHECK_EQ_INT(p.family, 6);
    p = peer_addr_prefix(&a, 128);
    CHECK_MEM(p.bytes, 16, a.bytes, 16);
    p = peer_addr_prefix(&a, 60); /* 2001:db8:1:0::, the last nibble of the 4th group cut */
    CHECK_EQ_INT(p.bytes[6], 0x00);
    CHECK_EQ_INT(p.bytes[7], 0x00);
    CHECK_EQ_INT(p.bytes[5], 0x01);
    a.bytes[7] = 0x12;
    p = peer_addr_prefix(&a, 60);
    CHECK_EQ_INT(p.bytes[7], 0x10);
    CHECK_EQ_INT(p.bytes[8], 0);
    p = peer_addr_prefix(&a, 1);
    CHECK_EQ_INT(p.bytes[0], 0x00);
    CHECK_EQ_INT(p.bytes[1], 0);
    CHECK_EQ_INT(peer_addr_parse("192.0.2.77", 10, &a), 0);
    p = peer_addr_prefix(&a, 64);
    CHECK_MEM(p.bytes, 16, a.bytes, 16);
    CHECK_EQ_INT(p.family, 4);
}

int main(void) {
    RUN(addresses_of_every_form_parse);
    RUN(junk_addresses_are_refused);
    RUN(cidr_lists_match_by_prefix);
    RUN(bad_cidr_lists_say_which_entry);
    RUN(client_is_the_rightmost_untrusted_hop);
    RUN(unusable_forwarding_headers_name_no_client);
    RUN(table_counts_per_address_and_frees_at_zero);
    RUN(ipv6_addresses_are_cut_to_their_prefix);
    return T_DONE();
}
