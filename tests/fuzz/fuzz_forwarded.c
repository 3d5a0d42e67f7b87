/* libFuzzer target for the client-address parsers (daemon/peer.c): a
 * trusted-proxy list, then X-Forwarded-For and Forwarded values, from one
 * input split at its first two NUL bytes. Properties: no crash; a client
 * found is never inside the trusted list; an address that parses formats
 * back (inet_ntop) to text that parses to the same address. */
#include "peer.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void fuzz_roundtrip(const peer_addr_t *a) {
    char text[64];
    if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, text, sizeof(text)) == NULL) abort();
    peer_addr_t b;
    if (peer_addr_parse(text, strlen(text), &b) != 0) abort();
    if (b.family != a->family || memcmp(a->bytes, b.bytes, 16) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    const char *z1 = memchr(s, 0, size);
    size_t l1 = z1 ? (size_t)(z1 - s) : size;
    const char *rest = z1 ? z1 + 1 : s + size;
    size_t rl = z1 ? size - l1 - 1 : 0;
    const char *z2 = memchr(rest, 0, rl);
    size_t l2 = z2 ? (size_t)(z2 - rest) : rl;
    const char *fwd = z2 ? z2 + 1 : NULL;
    size_t l3 = z2 ? rl - l2 - 1 : 0;

    char *list = malloc(l1 + 1);
    memcpy(list, s, l1);
    list[l1] = '\0';
    peer_cidr_t trusted[PEER_CIDR_MAX];
    size_t n = 0;
    char err[160];
    if (peer_cidr_list_parse(list, trusted, PEER_CIDR_MAX, &n, err, sizeof(err)) != 0) n = 0;
    for (size_t i = 0; i < n; i++) fuzz_roundtrip(&trusted[i].addr);

    peer_addr_t a;
    if (peer_addr_parse(rest, l2, &a) == 0) fuzz_roundtrip(&a);
    peer_addr_t c;
    if (peer_forwarded_client(rest, l2, fwd, l3, trusted, n, &c) == 0) {
        fuzz_roundtrip(&c);
        if (peer_cidr_contains(trusted, n, &c)) abort();
    }
    free(list);
    return 0;
}
