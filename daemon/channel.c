#include "channel.h"

#include "siphash.h"
#include "utf8.h"
#include "ws.h"

#include <assert.h>
#include <stddef.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keyed: names come from browsers (public patterns) and nobody outside
 * knows the key, so nobody can choose names that share a bucket. */
static uint32_t channel_hash(const channel_table_t *t, const char *s, size_t n) {
    return (uint32_t)siphash24(t->key, s, n);
}

/* Buckets use the hash's low bits, lost marks its high ones. */
static size_t channel_lost_slot(const channel_t *ch) {
    return ch->hash >> (32 - CHANNEL_LOST_BITS);
}

int channel_table_init(channel_table_t *t) {
    memset(t, 0, sizeof(*t));
    t->key = siphash_process_key();
    if (t->key == NULL) return -1;
    t->nbuckets = 256;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    return t->buckets ? 0 : -1;
}

int channel_table_lost_init(channel_table_t *t, uint64_t start_ms) {
    t->lost = malloc(CHANNEL_LOST_SLOTS * sizeof(*t->lost));
    if (t->lost == NULL) return -1;
    for (size_t i = 0; i < CHANNEL_LOST_SLOTS; i++) t->lost[i] = start_ms ? start_ms * 1000 - 1 : 0;
    return 0;
}

static void channel_destroy(channel_table_t *t, channel_t *ch) {
    history_free(&t->hist, &ch->hist);
    free(ch);
}

void channel_table_free(channel_table_t *t) {
    for (size_t i = 0; i < t->nbuckets; i++) {
        channel_t *ch = t->buckets[i];
        while (ch) {
            channel_t *next = ch->hnext;
            channel_destroy(t, ch);
            ch = next;
        }
    }
    history_pool_free(&t->hist);
    free(t->buckets);
    free(t->lost);
    t->buckets = NULL;
    t->lost = NULL;
    t->count = 0;
}

channel_t *channel_find(channel_table_t *t, const char *name, size_t len) {
    uint32_t h = channel_hash(t, name, len);
    for (channel_t *ch = t->buckets[h & (t->nbuckets - 1)]; ch; ch = ch->hnext)
        if (ch->hash == h && ch->name_len == len && memcmp(ch->name, name, len) == 0)
            return ch;
    return NULL;
}

/* Double the buckets when chains would grow past one on average. */
static void channel_table_grow(channel_table_t *t) {
    size_t n = t->nbuckets * 2;
    channel_t **b = calloc(n, sizeof(*b));
    if (b == NULL) return; /* keep working with longer chains */
    for (size_t i = 0; i < t->nbuckets; i++) {
        channel_t *ch = t->buckets[i];
        while (ch) {
            channel_t *next = ch->hnext;
            ch->hnext = b[ch->hash & (n - 1)];
            b[ch->hash & (n - 1)] = ch;
            ch = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

channel_t *channel_get(channel_table_t *t, const char *name, size_t len, uint64_t now_ms) {
    channel_t *ch = channel_find(t, name, len);
    if (ch) return ch;
    if (t->count + 1 > t->nbuckets) channel_table_grow(t);
    ch = calloc(1, sizeof(*ch) + len + 1);
    if (ch == NULL) return NULL;
    ch->hash = channel_hash(t, name, len);
    memcpy(ch->name, name, len);
    ch->name_len = (uint16_t)len;
    ch->base_id = now_ms * 1000;
    if (t->lost && ch->base_id <= t->lost[channel_lost_slot(ch)])
        ch->base_id = t->lost[channel_lost_slot(ch)] + 1;
    ch->next_id = ch->base_id;
    history_init(&ch->hist);
    size_t b = ch->hash & (t->nbuckets - 1);
    ch->hnext = t->buckets[b];
    t->buckets[b] = ch;
    t->count++;
    return ch;
}

uint64_t channel_lost_before(const channel_table_t *t, const channel_t *ch) {
    return t->lost ? t->lost[channel_lost_slot(ch)] : 0;
}

/* The ids ch issued leave with it: its slot's mark rises to its last id
 * (only if it issued any: a channel that never had a message loses
 * nothing, and raising the mark would give its slot-mates false gaps). */
static void channel_remove(channel_table_t *t, channel_t *ch) {
    channel_t **pp = &t->buckets[ch->hash & (t->nbuckets - 1)];
    while (*pp && *pp != ch) pp = &(*pp)->hnext;
    if (*pp == NULL) return;
    *pp = ch->hnext;
    t->count--;
    if (t->lost && ch->next_id > ch->base_id) {
        uint64_t *mark = &t->lost[channel_lost_slot(ch)];
        if (*mark < ch->next_id - 1) *mark = ch->next_id - 1;
    }
    channel_destroy(t, ch);
}

int channel_release(channel_table_t *t, channel_t *ch) {
    if (ch->nsubs || ch->busy || history_count(&ch->hist)) return 0;
    channel_remove(t, ch);
    return 1;
}

#define CHANNEL_OF_HISTORY(h) ((channel_t *)(void *)((char *)(h) - offsetof(channel_t, hist)))

void channel_table_trim(channel_table_t *t, size_t max_bytes, channel_t *keep) {
    while (t->hist.bytes > max_bytes) {
        history_t *h = history_pool_drop_oldest(&t->hist);
        if (h == NULL) break;
        channel_t *ch = CHANNEL_OF_HISTORY(h);
        if (ch != keep) channel_release(t, ch);
    }
}

void channel_sub_add(channel_t *ch, sub_t *s) {
    s->ch = ch;
    s->prev = NULL;
    s->next = ch->subs;
    if (ch->subs) ch->subs->prev = s;
    ch->subs = s;
    ch->nsubs++;
}

void channel_sub_remove(channel_t *ch, sub_t *s) {
    assert(ch->nsubs > 0);
    if (s->prev) s->prev->next = s->next;
    else ch->subs = s->next;
    if (s->next) s->next->prev = s->prev;
    s->prev = s->next = NULL;
    ch->nsubs--;
}

int channel_table_sweep(channel_table_t *t, uint64_t now_ms, uint64_t ttl_ms,
                        size_t max_buckets) {
    int wrapped = 0;
    if (t->cursor >= t->nbuckets) t->cursor = 0;
    for (size_t n = 0; n < max_buckets && n < t->nbuckets; n++) {
        channel_t *ch = t->buckets[t->cursor];
        while (ch) {
            channel_t *next = ch->hnext;
            history_expire(&t->hist, &ch->hist, now_ms, ttl_ms);
            channel_release(t, ch);
            ch = next;
        }
        if (++t->cursor == t->nbuckets) {
            t->cursor = 0;
            wrapped = 1;
        }
    }
    return wrapped;
}

/* Classic backtracking over the last '*': linear in practice, and patterns
 * come from the operator's config, not from browsers. */
int channel_glob_match(const char *pat, size_t plen, const char *s, size_t slen) {
    size_t p = 0, i = 0, star = (size_t)-1, mark = 0;
    while (i < slen) {
        if (p < plen && pat[p] == '*') {
            star = p++;
            mark = i;
        } else if (p < plen && pat[p] == s[i]) {
            p++;
            i++;
        } else if (star != (size_t)-1) {
            p = star + 1;
            i = ++mark;
        } else {
            return 0;
        }
    }
    while (p < plen && pat[p] == '*') p++;
    return p == plen;
}

int channel_is_public(const char *patterns, const char *name, size_t len) {
    const char *p = patterns;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *end = e;
        while (end > p && end[-1] == ' ') end--;
        if (end > p && channel_glob_match(p, (size_t)(end - p), name, len)) return 1;
        p = e;
    }
    return 0;
}

/* JSON string escaping (RFC 8259 7): quote, backslash and controls. */
static size_t channel_json_escaped_len(const unsigned char *s, size_t n) {
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
            out += 2;
        else if (c < 0x20)
            out += 6;
        else
            out += 1;
    }
    return out;
}

static size_t channel_json_escape(unsigned char *o, const unsigned char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    unsigned char *start = o;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        switch (c) {
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\b': *o++ = '\\'; *o++ = 'b'; break;
        case '\f': *o++ = '\\'; *o++ = 'f'; break;
        default:
            if (c < 0x20) {
                memcpy(o, "\\u00", 4);
                o[4] = (unsigned char)hex[c >> 4];
                o[5] = (unsigned char)hex[c & 15];
                o += 6;
            } else {
                *o++ = c;
            }
        }
    }
    return (size_t)(o - start);
}

int channel_message_build(message_t *m, const channel_t *ch, uint64_t id,
                          uint64_t ms, const char *data, size_t len) {
    const unsigned char *d = (const unsigned char *)data;
    int text = utf8_valid(d, len);
    size_t body = text ? channel_json_escaped_len(d, len) : 4 * ((len + 2) / 3);
    char head[HERALD_NAME_JSON_MAX];
    int hn = snprintf(head, sizeof(head), "{\"type\":\"message\",\"channel\":\"%.*s\",\"id\":%llu,\"data\":\"",
                      (int)ch->name_len, ch->name, (unsigned long long)id);
    const char *tail = text ? "\"}" : "\",\"encoding\":\"base64\"}";
    size_t tn = strlen(tail);
    size_t json = (size_t)hn + body + tn;
    buf_t *b = buf_new(WS_FRAME_HEADER_MAX + json + 1);
    if (b == NULL) return -1;
    unsigned char *o = b->data + WS_FRAME_HEADER_MAX;
    memcpy(o, head, (size_t)hn);
    o += hn;
    if (text) o += channel_json_escape(o, d, len);
    else o += EVP_EncodeBlock(o, d, (int)len);
    memcpy(o, tail, tn);
    size_t hl = ws_frame_header_size(json);
    ws_frame_header_write(b->data + WS_FRAME_HEADER_MAX - hl, WS_OP_TEXT, json);
    b->len = WS_FRAME_HEADER_MAX + json;
    m->id = id;
    m->ms = ms;
    m->ws = b;
    m->sse = NULL;
    m->sio = NULL;
    m->pusher = NULL;
    m->ws_off = (uint8_t)(WS_FRAME_HEADER_MAX - hl);
    return 0;
}

size_t channel_message_frame_max(const char *data, size_t len) {
    const unsigned char *d = (const unsigned char *)data;
    size_t body = utf8_valid(d, len) ? channel_json_escaped_len(d, len) : 4 * ((len + 2) / 3);
    /* the envelope, and the larger of the WebSocket header and SSE's lines */
    return body + 2 * HERALD_NAME_JSON_MAX + WS_FRAME_HEADER_MAX;
}

buf_t *channel_message_sse(message_t *m, const channel_t *ch) {
    if (m->sse) return m->sse;
    const unsigned char *json = m->ws->data + WS_FRAME_HEADER_MAX;
    size_t jn = m->ws->len - WS_FRAME_HEADER_MAX;
    char head[HERALD_NAME_JSON_MAX];
    int hn = snprintf(head, sizeof(head), "id: %.*s:%llu\ndata: ", (int)ch->name_len,
                      ch->name, (unsigned long long)m->id);
    buf_t *b = buf_new((size_t)hn + jn + 2);
    if (b == NULL) return NULL;
    memcpy(b->data, head, (size_t)hn);
    memcpy(b->data + hn, json, jn);
    memcpy(b->data + hn + jn, "\n\n", 2);
    b->len = (size_t)hn + jn + 2;
    m->sse = b;
    return b;
}
