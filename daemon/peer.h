/* Who a client is: its IP address, seen through the proxies the operator
 * trusts (X-Forwarded-For / Forwarded), and how many connections each
 * address holds, for max_connections_per_ip. Parsers here read outside
 * input: a header that does not parse names no client. */
#ifndef HERALD_PEER_H
#define HERALD_PEER_H

#include <stddef.h>
#include <stdint.h>

/* An IPv4 (family 4, 4 bytes) or IPv6 (family 6, 16 bytes) address;
 * IPv4-mapped IPv6 addresses are stored as IPv4. */
typedef struct peer_addr {
    uint8_t family;
    uint8_t bytes[16];
} peer_addr_t;

typedef struct peer_cidr {
    peer_addr_t addr;
    uint8_t bits;
} peer_cidr_t;

#define PEER_CIDR_MAX 32

/* Parse an address: "192.0.2.1", "2001:db8::1", "[2001:db8::1]", with an
 * optional ":port" after an IPv4 or a bracketed IPv6. 0 or -1. */
int peer_addr_parse(const char *s, size_t len, peer_addr_t *out);

/* Parse "addr[/bits], ..." into at most max entries. 0, or -1 with err. */
int peer_cidr_list_parse(const char *list, peer_cidr_t *out, size_t max,
                         size_t *n, char *err, size_t es);

/* The address a client is counted under: an IPv6 address cut to its first
 * v6_bits (one /64 is one subscriber's network, with 2^64 addresses);
 * IPv4 addresses as they are. */
peer_addr_t peer_addr_prefix(const peer_addr_t *a, unsigned v6_bits);

/* 1 if a is inside one of the n ranges. */
int peer_cidr_contains(const peer_cidr_t *list, size_t n, const peer_addr_t *a);

/* The client behind trusted proxies: walk the hops from the nearest one
 * (the right end of X-Forwarded-For, else of Forwarded's for= list) and
 * return the first that is not a trusted proxy. 0 with *out, or -1 when the
 * headers name no usable address (the caller keeps the TCP peer). */
int peer_forwarded_client(const char *xff, size_t xff_len, const char *fwd,
                          size_t fwd_len, const peer_cidr_t *trusted, size_t n,
                          peer_addr_t *out);

/* Connections per address: a small chained hash, entries freed at zero. */
typedef struct peer_count {
    struct peer_count *next;
    peer_addr_t addr;
    uint32_t n;
} peer_count_t;

typedef struct peer_table {
    peer_count_t **buckets;
    size_t nbuckets, count;
} peer_table_t;

int peer_table_init(peer_table_t *t);
void peer_table_free(peer_table_t *t);

/* Add one connection of a; returns the new count (0 if out of memory). */
uint32_t peer_table_incr(peer_table_t *t, const peer_addr_t *a);

/* Drop one connection of a. */
void peer_table_decr(peer_table_t *t, const peer_addr_t *a);

#endif
