#include "peer.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void peer_addr_normalize(peer_addr_t *a) {
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a->family == 6 && memcmp(a->bytes, mapped, 12) == 0) {
        memmove(a->bytes, a->bytes + 12, 4);
        memset(a->bytes + 4, 0, 12);
        a->family = 4;
    }
}

int peer_addr_parse(const char *s, size_t len, peer_addr_t *out) {
    char buf[64];
    while (len > 0 && (*s == ' ' || *s == '\t')) s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    if (len == 0 || len >= sizeof(buf)) return -1;
    memset(out, 0, sizeof(*out));
    if (s[0] == '[') { /* "[v6]" or "[v6]:port" */
        const char *end = memchr(s, ']', len);
        if (end == NULL || end == s + 1) return -1;
        size_t rest = len - (size_t)(end - s) - 1;
        if (rest != 0 && end[1] != ':') return -1;
        memcpy(buf, s + 1, (size_t)(end - s) - 1);
        buf[end - s - 1] = '\0';
        if (inet_pton(AF_INET6, buf, out->bytes) != 1) return -1;
        out->family = 6;
        peer_addr_normalize(out);
        return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, out->bytes) == 1) {
        out->family = 6;
        peer_addr_normalize(out);
        return 0;
    }
    char *colon = strchr(buf, ':'); /* "v4:port" */
    if (colon) *colon = '\0';
    if (inet_pton(AF_INET, buf, out->bytes) != 1) return -1;
    out->family = 4;
    return 0;
}

int peer_cidr_list_parse(const char *list, peer_cidr_t *out, size_t max,
                         size_t *n, char *err, size_t es) {
    *n = 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == '\0') break;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *slash = memchr(p, '/', (size_t)(e - p));
        peer_cidr_t c;
        if (*n == max) {
            snprintf(err, es, "more than %zu addresses", max);
            return -1;
        }
        if (peer_addr_parse(p, (size_t)((slash ? slash : e) - p), &c.addr) != 0) {
            snprintf(err, es, "'%.*s' is not an IP address or CIDR range", (int)(e - p), p);
            return -1;
        }
        unsigned full = c.addr.family == 4 ? 32 : 128, bits = full;
        if (slash) {
            char *end;
            unsigned long b = strtoul(slash + 1, &end, 10);
            while (end < e && *end == ' ') end++;
            if (end != e || slash + 1 == e || b > full) {
                snprintf(err, es, "'%.*s': the prefix length must be 0..%u", (int)(e - p), p, full);
                return -1;
            }
            bits = (unsigned)b;
        }
        c.bits = (uint8_t)bits;
        out[(*n)++] = c;
        p = e;
    }
    return 0;
}

static int peer_cidr_match(const peer_cidr_t *c, const peer_addr_t *a) {
    if (c->addr.family != a->family) return 0;
    unsigned whole = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr.bytes, a->bytes, whole) != 0) return 0;
    if (rest == 0) return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr.bytes[whole] & mask) == (a->bytes[whole] & mask);
}

peer_addr_t peer_addr_prefix(const peer_addr_t *a, unsigned v6_bits) {
    peer_addr_t p = *a;
    if (p.family != 6 || v6_bits >= 128) return p;
    unsigned whole = v6_bits / 8, rest = v6_bits % 8;
    if (rest) p.bytes[whole] &= (uint8_t)(0xff << (8 - rest));
    memset(p.bytes + whole + (rest ? 1 : 0), 0, 16 - whole - (rest ? 1 : 0));
    return p;
}

int peer_cidr_contains(const peer_cidr_t *list, size_t n, const peer_addr_t *a) {
    for (size_t i = 0; i < n; i++)
        if (peer_cidr_match(&list[i], a)) return 1;
    return 0;
}

/* Element i, counted from the right, of a comma-separated header value
 * (X-Forwarded-For hops, Forwarded elements); 0 when there are fewer. */
static int peer_list_item(const char *s, size_t len, size_t from_right,
                          const char **v, size_t *vl) {
    size_t count = 0, i = len;
    while (1) {
        size_t end = i;
        while (i > 0 && s[i - 1] != ',') i--;
        if (count++ == from_right) {
            *v = s + i;
            *vl = end - i;
            return 1;
        }
        if (i == 0) return 0;
        i--;
    }
}

/* Forwarded (RFC 7239): elements separated by ',', pairs by ';'; take the
 * for= value of element i counted from the right, unquoted. */
static int peer_forwarded_for(const char *s, size_t len, size_t from_right,
                              const char **v, size_t *vl) {
    const char *e;
    size_t end;
    if (!peer_list_item(s, len, from_right, &e, &end)) return 0;
    size_t p = 0;
    while (p < end) {
        size_t q = p;
        while (q < end && e[q] != ';') q++;
        size_t a = p;
        while (a < q && (e[a] == ' ' || e[a] == '\t')) a++;
        if (q - a > 4 && strncasecmp(e + a, "for=", 4) == 0) {
            a += 4;
            size_t b = q;
            while (b > a && (e[b - 1] == ' ' || e[b - 1] == '\t')) b--;
            if (b - a >= 2 && e[a] == '"' && e[b - 1] == '"') a++, b--;
            *v = e + a;
            *vl = b - a;
            return 1;
        }
        p = q + 1;
    }
    *v = NULL; /* an element without for= */
    *vl = 0;
    return 1;
}

int peer_forwarded_client(const char *xff, size_t xff_len, const char *fwd,
                          size_t fwd_len, const peer_cidr_t *trusted, size_t n,
                          peer_addr_t *out) {
    int use_xff = xff != NULL && xff_len > 0;
    if (!use_xff && (fwd == NULL || fwd_len == 0)) return -1;
    for (size_t hop = 0; hop < 64; hop++) {
        const char *v;
        size_t vl;
        int more = use_xff ? peer_list_item(xff, xff_len, hop, &v, &vl)
                           : peer_forwarded_for(fwd, fwd_len, hop, &v, &vl);
        if (!more || v == NULL) return -1;
        peer_addr_t a;
        if (peer_addr_parse(v, vl, &a) != 0) return -1; /* "unknown", junk */
        if (!peer_cidr_contains(trusted, n, &a)) {
            *out = a;
            return 0;
        }
    }
    return -1;
}

static uint32_t peer_hash(const peer_addr_t *a) {
    uint32_t h = 2166136261u ^ a->family;
    for (int i = 0; i < (a->family == 4 ? 4 : 16); i++) h = (h ^ a->bytes[i]) * 16777619u;
    return h;
}

int peer_table_init(peer_table_t *t) {
    t->nbuckets = 1024;
    t->count = 0;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    return t->buckets ? 0 : -1;
}

void peer_table_free(peer_table_t *t) {
    for (size_t i = 0; i < t->nbuckets; i++) {
        peer_count_t *e = t->buckets[i];
        while (e) {
            peer_count_t *next = e->next;
            free(e);
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = NULL;
}

static peer_count_t **peer_table_slot(peer_table_t *t, const peer_addr_t *a) {
    peer_count_t **pp = &t->buckets[peer_hash(a) & (t->nbuckets - 1)];
    while (*pp && ((*pp)->addr.family != a->family || memcmp((*pp)->addr.bytes, a->bytes, 16) != 0))
        pp = &(*pp)->next;
    return pp;
}

uint32_t peer_table_incr(peer_table_t *t, const peer_addr_t *a) {
    peer_count_t **pp = peer_table_slot(t, a);
    if (*pp == NULL) {
        peer_count_t *e = calloc(1, sizeof(*e));
        if (e == NULL) return 0;
        e->addr = *a;
        *pp = e;
        t->count++;
    }
    return ++(*pp)->n;
}

void peer_table_decr(peer_table_t *t, const peer_addr_t *a) {
    peer_count_t **pp = peer_table_slot(t, a);
    if (*pp == NULL) return;
    if (--(*pp)->n == 0) {
        peer_count_t *e = *pp;
        *pp = e->next;
        free(e);
        t->count--;
    }
}
