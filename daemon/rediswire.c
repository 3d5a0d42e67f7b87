#include "rediswire.h"

#include "signed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDISWIRE_PREFIX "herald:{"

/* KEYS: id counter, history Stream. ARGV: data, history_size, key ttl (ms),
 * pub/sub channel. The id is the counter's next value (the first one of a
 * channel is Redis's clock in ms * 1000, as a single node's are), the
 * message joins the bounded Stream under that id and is published, all in
 * one atomic step: every node sees ids increase by one in one order. */
#define REDISWIRE_PUBLISH_LUA(PUBLISH) \
    "local t = redis.call('TIME')\n" \
    "local ms = t[1] * 1000 + math.floor(t[2] / 1000)\n" \
    "local id = redis.call('INCR', KEYS[1])\n" \
    "if id == 1 then id = ms * 1000; redis.call('SET', KEYS[1], string.format('%d', id)) end\n" \
    "local sid, sms = string.format('%d', id), string.format('%d', ms)\n" \
    "redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], '0-' .. sid, 'm', sms, 'd', ARGV[1])\n" \
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n" \
    "redis.call('PEXPIRE', KEYS[2], ARGV[3])\n" \
    "local n = redis.call('" PUBLISH "', ARGV[4], sid .. ' ' .. sms .. '\\n' .. ARGV[1])\n" \
    "return {id, n}\n"

/* A Redis Cluster publishes with SPUBLISH: the pub/sub channel hashes to
 * the keys' slot (one hash tag), so the shard that numbers a message is
 * the one that delivers it. */
const char rediswire_publish_lua[] = REDISWIRE_PUBLISH_LUA("PUBLISH");
const char rediswire_spublish_lua[] = REDISWIRE_PUBLISH_LUA("SPUBLISH");

/* Idempotency keys across nodes (README "Several servers"): the keyed
 * publish is a publish script run inside a check. KEYS[3] is the emit's
 * key (herald:{channel}:k:<key>, the channel's slot), ARGV[5]
 * idempotency_window_ms. A key seen within the window answers
 * {first id, 0, 1} and publishes nothing; otherwise the message is
 * published and the key remembers its id for the window. Built at start
 * from the publish script (rediswire_keyed_lua), so the two never drift. */
static const char rediswire_keyed_head_lua[] =
    "local prev = redis.call('GET', KEYS[3])\n"
    "if prev then return {tonumber(prev), 0, 1} end\n"
    "local r = (function()\n";
static const char rediswire_keyed_tail_lua[] =
    "end)()\n"
    "redis.call('SET', KEYS[3], string.format('%d', r[1]), 'PX', ARGV[5])\n"
    "return r\n";

char *rediswire_keyed_lua(const char *publish_lua) {
    size_t n = sizeof(rediswire_keyed_head_lua) + strlen(publish_lua) +
               sizeof(rediswire_keyed_tail_lua);
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", rediswire_keyed_head_lua, publish_lua, rediswire_keyed_tail_lua);
    return s;
}

/* KEYS: id counter, history. ARGV: key ttl. A channel never published gets
 * its counter now (clock ms * 1000 - 1), so the last id a subscriber is
 * told and the first id published follow each other. Returns the last id
 * and the history, read together. */
const char rediswire_load_lua[] =
    "local t = redis.call('TIME')\n"
    "local ms = t[1] * 1000 + math.floor(t[2] / 1000)\n"
    "redis.call('SET', KEYS[1], string.format('%d', ms * 1000 - 1), 'NX', 'PX', ARGV[1])\n"
    "return {redis.call('GET', KEYS[1]), redis.call('XRANGE', KEYS[2], '-', '+')}\n";

static int rediswire_hex(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into out (NUL-terminated); -1 when it does not
 * fit, a %XX is bad or it decodes to a NUL byte. */
static int rediswire_unescape(const char *s, size_t n, char *out, size_t size) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int h = rediswire_hex(s[i + 1]), l = rediswire_hex(s[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = h * 16 + l;
            i += 2;
        }
        if (c == 0 || o + 1 >= size) return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

/* Decimal digits s[0..n) into *v, at most max; -1 on anything else. */
static int rediswire_number(const char *s, size_t n, uint64_t max, uint64_t *v) {
    if (n == 0 || n > 20) return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (max - d) / 10) return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

static int rediswire_fail(char *why, size_t size, const char *msg) {
    snprintf(why, size, "%s", msg);
    return -1;
}

/* The host part: a name or IPv4 of the usual characters, or [v6]. */
static int rediswire_host(const char *s, size_t n, rediswire_addr_t *out) {
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
        for (size_t i = 0; i < n; i++)
            if (rediswire_hex(s[i]) < 0 && s[i] != ':' && s[i] != '.') return -1;
    } else {
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_'))
                return -1;
        }
    }
    if (n == 0 || n >= sizeof(out->host)) return -1;
    memcpy(out->host, s, n);
    out->host[n] = '\0';
    return 0;
}

int rediswire_url_parse(const char *s, size_t len, rediswire_addr_t *out, char *why,
                        size_t why_size) {
    memset(out, 0, sizeof(*out));
    out->port = REDISWIRE_DEFAULT_PORT;
    if (memchr(s, '\0', len)) return rediswire_fail(why, why_size, "a NUL byte in the address");
    if (len > 5 && memcmp(s, "unix:", 5) == 0) {
        if (s[5] != '/' || len - 5 >= sizeof(out->path))
            return rediswire_fail(why, why_size, "unix: needs an absolute path under 108 bytes");
        out->is_unix = 1;
        memcpy(out->path, s + 5, len - 5);
        out->path[len - 5] = '\0';
        return 0;
    }
    if (len < 8 || memcmp(s, "redis://", 8) != 0)
        return rediswire_fail(why, why_size,
                              "expected redis://[:password@]host[:port][/db] or unix:/path");
    const char *p = s + 8, *end = s + len;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *auth_end = slash ? slash : end;
    const char *at = NULL;
    for (const char *q = p; q < auth_end; q++)
        if (*q == '@') at = q;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL)
            return rediswire_fail(why, why_size, "credentials must be [user]:password@");
        if (rediswire_unescape(p, (size_t)(colon - p), out->user, sizeof(out->user)) != 0 ||
            rediswire_unescape(colon + 1, (size_t)(at - colon - 1), out->password,
                               sizeof(out->password)) != 0)
            return rediswire_fail(why, why_size,
                                  "bad user or password (too long, bad %XX or %00)");
        out->has_password = 1;
        p = at + 1;
    }
    /* host[:port]: the port follows the last ':' outside brackets */
    const char *colon = NULL;
    for (const char *q = p; q < auth_end; q++) {
        if (*q == ']') colon = NULL;
        else if (*q == ':') colon = q;
    }
    if (colon && p < auth_end && p[0] == '[' && memchr(colon, ']', (size_t)(auth_end - colon)))
        colon = NULL;
    const char *host_end = colon ? colon : auth_end;
    if (rediswire_host(p, (size_t)(host_end - p), out) != 0)
        return rediswire_fail(why, why_size, "bad host (a name, an IPv4 address or [IPv6])");
    uint64_t v;
    if (colon) {
        if (rediswire_number(colon + 1, (size_t)(auth_end - colon - 1), 65535, &v) != 0 || v == 0)
            return rediswire_fail(why, why_size, "bad port (1-65535)");
        out->port = (int)v;
    }
    if (slash && slash + 1 < end) {
        if (rediswire_number(slash + 1, (size_t)(end - slash - 1), 65535, &v) != 0)
            return rediswire_fail(why, why_size, "bad database number after / (0-65535)");
        out->db = (unsigned)v;
    }
    return 0;
}

int rediswire_key(char *out, size_t size, int kind, const char *channel, size_t len,
                  unsigned db) {
    int n;
    if (kind == REDISWIRE_KEY_PUBSUB)
        n = snprintf(out, size, REDISWIRE_PREFIX "%.*s}:%u", (int)len, channel, db);
    else
        n = snprintf(out, size, REDISWIRE_PREFIX "%.*s}:%s", (int)len, channel,
                     kind == REDISWIRE_KEY_ID ? "id" : "h");
    return n < 0 || (size_t)n >= size ? -1 : n;
}

int rediswire_idem_key(char *out, size_t size, const char *channel, size_t len, const char *key,
                       size_t key_len) {
    if (key_len == 0) return -1;
    int n = snprintf(out, size, REDISWIRE_PREFIX "%.*s}:k:%.*s", (int)len, channel, (int)key_len,
                     key);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

int rediswire_pubsub_channel(const char *s, size_t len, const char **name, size_t *name_len) {
    size_t pl = sizeof(REDISWIRE_PREFIX) - 1;
    if (len <= pl || memcmp(s, REDISWIRE_PREFIX, pl) != 0) return -1;
    const char *close = memchr(s + pl, '}', len - pl);
    if (close == NULL || close + 1 >= s + len || close[1] != ':' ||
        herald_channel_check(s + pl, (size_t)(close - (s + pl))) != 0)
        return -1;
    *name = s + pl;
    *name_len = (size_t)(close - (s + pl));
    return 0;
}

/* Canonical decimal: no leading zero, so one id has one spelling. */
static int rediswire_id(const char *s, size_t n, uint64_t *v) {
    if (n > 1 && s[0] == '0') return -1;
    return rediswire_number(s, n, UINT64_MAX, v);
}

int rediswire_u64(const char *s, size_t len, uint64_t *v) { return rediswire_id(s, len, v); }

int rediswire_msg_decode(const char *p, size_t n, uint64_t *id, uint64_t *ms,
                         const char **data, size_t *dlen) {
    const char *sp = memchr(p, ' ', n < 21 ? n : 21);
    if (sp == NULL || rediswire_id(p, (size_t)(sp - p), id) != 0 || *id == 0) return -1;
    const char *q = sp + 1, *end = p + n;
    const char *nl = memchr(q, '\n', (size_t)(end - q) < 21 ? (size_t)(end - q) : 21);
    if (nl == NULL || rediswire_id(q, (size_t)(nl - q), ms) != 0) return -1;
    *data = nl + 1;
    *dlen = (size_t)(end - nl - 1);
    return 0;
}

uint64_t rediswire_entry_id(const char *s, size_t len) {
    uint64_t v;
    if (len < 3 || s[0] != '0' || s[1] != '-' || rediswire_id(s + 2, len - 2, &v) != 0) return 0;
    return v;
}
