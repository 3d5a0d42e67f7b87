#include "presencewire.h"

#include <stdio.h>
#include <string.h>

#define PRESENCEWIRE_USER_ID_MAX 127 /* pusherwire.h's PUSHER_USER_ID_MAX less the NUL */

int presencewire_key(char *out, size_t size, int kind, const char *channel, size_t len) {
    static const char *const suffix[] = {"pm", "pn", "pu", "ps", "oc"};
    if (kind < PRESENCEWIRE_MEMBERS || kind > PRESENCEWIRE_OCCUPIED) return -1;
    int n = snprintf(out, size, "herald:{%.*s}:%s", (int)len, channel, suffix[kind]);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

int presencewire_node_key(char *out, size_t size, const char *node) {
    int n = snprintf(out, size, "herald:{#node:%s}:pc", node);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

int presencewire_is_event(const char *p, size_t n) { return n > 0 && p[0] == 'P'; }

/* What pusher.c lets in as a user id: no quote, backslash or control byte,
 * so it is written into JSON as is. */
static int presencewire_user_ok(const char *s, size_t n) {
    if (n == 0 || n > PRESENCEWIRE_USER_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20) return 0;
    return 1;
}

int presencewire_event_decode(const char *p, size_t n, presencewire_event_t *out) {
    size_t i = 1;
    uint64_t seq = 0;
    memset(out, 0, sizeof(*out));
    if (!presencewire_is_event(p, n) || n < 2 || p[1] < '1' || p[1] > '9') return -1;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(p[i] - '0');
        if (seq > UINT64_MAX / 10 || (seq == UINT64_MAX / 10 && d > UINT64_MAX % 10)) return -1;
        seq = seq * 10 + d;
    }
    if (i + 3 > n || p[i] != ' ' || (p[i + 1] != 'a' && p[i + 1] != 'r') || p[i + 2] != ' ')
        return -1;
    out->seq = seq;
    out->added = p[i + 1] == 'a';
    const char *user = p + i + 3, *end = p + n;
    const char *nl = memchr(user, '\n', (size_t)(end - user));
    out->user_id = user;
    out->user_len = (size_t)((nl ? nl : end) - user);
    if (!presencewire_user_ok(user, out->user_len)) return -1;
    if (out->added) {
        if (nl == NULL || nl + 1 == end) return -1; /* user_info is JSON, at least "null" */
        out->info = nl + 1;
        out->info_len = (size_t)(end - out->info);
        if (memchr(out->info, '\0', out->info_len)) return -1; /* JSON text has none */
    } else if (nl) {
        return -1;
    }
    return 0;
}

int presencewire_event_data(char *out, size_t size, const presencewire_event_t *e) {
    int n = e->added ? snprintf(out, size, "{\"user_id\":\"%.*s\",\"user_info\":%.*s}",
                                (int)e->user_len, e->user_id, (int)e->info_len, e->info)
                     : snprintf(out, size, "{\"user_id\":\"%.*s\"}", (int)e->user_len, e->user_id);
    return n < 0 || (size_t)n >= size ? -1 : n;
}
