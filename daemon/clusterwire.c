#include "clusterwire.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

static int clusterwire_fail(char *why, size_t size, const char *msg) {
    snprintf(why, size, "%s", msg);
    return -1;
}

/* A node's address as Redis reports it: a name, IPv4 or bare IPv6. */
static int clusterwire_host_ok(const char *s, size_t n) {
    if (n == 0 || n >= 256) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == ':'))
            return 0;
    }
    return 1;
}

/* Each address goes through the redis key's parser (one grammar for
 * both keys), "redis://" added when it is bare. */
int clusterwire_seeds_parse(const char *s, size_t len, clusterwire_seeds_t *out, char *why,
                            size_t why_size) {
    memset(out, 0, sizeof(*out));
    if (len == 0) return clusterwire_fail(why, why_size, "no address");
    const char *p = s, *end = s + len;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        while (p < e && *p == ' ') p++;
        while (e > p && e[-1] == ' ') e--;
        if (p == e) return clusterwire_fail(why, why_size, "an empty address in the list");
        if (out->n == CLUSTERWIRE_MAX_SEEDS)
            return clusterwire_fail(why, why_size, "more than 16 seed addresses");
        char item[600];
        size_t il = (size_t)(e - p);
        int bare = !(il >= 8 && memcmp(p, "redis://", 8) == 0);
        if (il + 8 >= sizeof(item)) return clusterwire_fail(why, why_size, "an address too long");
        snprintf(item, sizeof(item), "%s%.*s", bare ? "redis://" : "", (int)il, p);
        rediswire_addr_t a;
        char w[200];
        if (rediswire_url_parse(item, strlen(item), &a, w, sizeof(w)) != 0) {
            snprintf(why, why_size, "address %zu: %s", out->n + 1, w);
            return -1;
        }
        if (a.is_unix || a.db != 0 || memchr(item + 8, '/', strlen(item + 8)))
            return clusterwire_fail(why, why_size,
                                    "a Redis Cluster address is host[:port] (no database, no unix:)");
        if (out->n > 0 && a.has_password)
            return clusterwire_fail(why, why_size,
                                    "credentials go on the first address only (they are used for every node)");
        if (out->n == 0) out->auth = a;
        memcpy(out->seed[out->n].host, a.host, sizeof(a.host));
        out->seed[out->n].port = a.port;
        out->n++;
        if (comma == NULL) break;
        p = comma + 1;
    }
    memset(out->auth.host, 0, sizeof(out->auth.host));
    return 0;
}

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), as the Redis
 * Cluster specification's key distribution model says. */
static uint16_t clusterwire_crc16(const char *buf, size_t len) {
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)buf[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

unsigned clusterwire_slot(const char *key, size_t len) {
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)
            return clusterwire_crc16(open + 1, (size_t)(close - open - 1)) & (CLUSTERWIRE_SLOTS - 1);
    }
    return clusterwire_crc16(key, len) & (CLUSTERWIRE_SLOTS - 1);
}

static int clusterwire_int(const redisReply *r, long long min, long long max, long long *v) {
    if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < min || r->integer > max)
        return -1;
    *v = r->integer;
    return 0;
}

/* The master of one range: its index in m, added if new; -1 if bad. */
static int clusterwire_node(clusterwire_map_t *m, const redisReply *n, const char *asked) {
    long long port;
    if (n == NULL || n->type != REDIS_REPLY_ARRAY || n->elements < 2 ||
        n->element[0]->type != REDIS_REPLY_STRING || clusterwire_int(n->element[1], 1, 65535, &port))
        return -1;
    const char *host = n->element[0]->str;
    size_t hl = n->element[0]->len;
    if (hl == 0 || (hl == 1 && host[0] == '?')) {
        host = asked;
        hl = strlen(asked);
    }
    if (!clusterwire_host_ok(host, hl)) return -1;
    for (size_t i = 0; i < m->nnodes; i++)
        if (m->node[i].port == port && strlen(m->node[i].host) == hl &&
            memcmp(m->node[i].host, host, hl) == 0)
            return (int)i;
    if (m->nnodes == CLUSTERWIRE_MAX_MASTERS) return -2;
    memcpy(m->node[m->nnodes].host, host, hl);
    m->node[m->nnodes].host[hl] = '\0';
    m->node[m->nnodes].port = (int)port;
    return (int)m->nnodes++;
}

int clusterwire_slots_parse(const redisReply *r, const char *asked_host, clusterwire_map_t *m,
                            char *why, size_t why_size) {
    memset(m->owner, CLUSTERWIRE_NONE, sizeof(m->owner));
    m->nnodes = 0;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return clusterwire_fail(why, why_size, "CLUSTER SLOTS: not an array");
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        long long lo, hi;
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            clusterwire_int(e->element[0], 0, CLUSTERWIRE_SLOTS - 1, &lo) ||
            clusterwire_int(e->element[1], lo, CLUSTERWIRE_SLOTS - 1, &hi))
            return clusterwire_fail(why, why_size, "CLUSTER SLOTS: a malformed slot range");
        int k = clusterwire_node(m, e->element[2], asked_host);
        if (k == -2) return clusterwire_fail(why, why_size, "CLUSTER SLOTS: more than 64 masters");
        if (k < 0) return clusterwire_fail(why, why_size, "CLUSTER SLOTS: a malformed node");
        for (long long s = lo; s <= hi; s++) {
            if (m->owner[s] != CLUSTERWIRE_NONE)
                return clusterwire_fail(why, why_size, "CLUSTER SLOTS: a slot claimed twice");
            m->owner[s] = (uint8_t)k;
        }
    }
    return 0;
}

int clusterwire_redirect(const char *err, size_t len, int *ask, unsigned *slot, char *host,
                         size_t host_size, int *port) {
    size_t kw;
    if (len > 6 && memcmp(err, "MOVED ", 6) == 0) kw = 6, *ask = 0;
    else if (len > 4 && memcmp(err, "ASK ", 4) == 0) kw = 4, *ask = 1;
    else return -1;
    const char *p = err + kw, *end = err + len;
    unsigned s = 0;
    size_t digits = 0;
    for (; p < end && *p >= '0' && *p <= '9' && digits < 6; p++, digits++) s = s * 10 + (unsigned)(*p - '0');
    if (digits == 0 || s >= CLUSTERWIRE_SLOTS || p >= end || *p != ' ') return -1;
    p++;
    const char *colon = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == ':') colon = q;
    if (colon == NULL || colon + 1 >= end) return -1;
    size_t hl = (size_t)(colon - p);
    if (hl >= host_size || (hl && !clusterwire_host_ok(p, hl))) return -1;
    unsigned v = 0;
    for (const char *q = colon + 1; q < end; q++) {
        if (*q < '0' || *q > '9' || v > 65535) return -1;
        v = v * 10 + (unsigned)(*q - '0');
    }
    if (v == 0 || v > 65535) return -1;
    memcpy(host, p, hl);
    host[hl] = '\0';
    *slot = s;
    *port = (int)v;
    return 0;
}
