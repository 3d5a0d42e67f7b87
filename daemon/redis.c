#include "redis.h"

#include "log.h"
#include "rediswire.h"
#include "signed.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_BACKOFF_MIN_MS 100
#define REDIS_BACKOFF_MAX_MS 5000
#define REDIS_PING_MS 1000
#define REDIS_KEY_TTL_MS UINT64_C(86400000) /* at least; history_ttl_ms if longer */
#define REDIS_BUFFER_MAX (64u << 20)        /* messages held while channels load */

/* KEYS: id counter, history Stream. ARGV: data, history_size, key ttl (ms),
 * pub/sub channel. The id is the counter's next value (the first one of a
 * channel is Redis's clock in ms * 1000, as a single node's are), the
 * message joins the bounded Stream under that id and is published, all in
 * one atomic step: every node sees ids increase by one in one order. */
static const char redis_publish_lua[] =
    "local t = redis.call('TIME')\n"
    "local ms = t[1] * 1000 + math.floor(t[2] / 1000)\n"
    "local id = redis.call('INCR', KEYS[1])\n"
    "if id == 1 then id = ms * 1000; redis.call('SET', KEYS[1], string.format('%d', id)) end\n"
    "local sid, sms = string.format('%d', id), string.format('%d', ms)\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], '0-' .. sid, 'm', sms, 'd', ARGV[1])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[3])\n"
    "local n = redis.call('PUBLISH', ARGV[4], sid .. ' ' .. sms .. '\\n' .. ARGV[1])\n"
    "return {id, n}\n";

/* KEYS: id counter, history. ARGV: key ttl. A channel never published gets
 * its counter now (clock ms * 1000 - 1), so the last id a subscriber is
 * told and the first id published follow each other. Returns the last id
 * and the history, read together. */
static const char redis_load_lua[] =
    "local t = redis.call('TIME')\n"
    "local ms = t[1] * 1000 + math.floor(t[2] / 1000)\n"
    "redis.call('SET', KEYS[1], string.format('%d', ms * 1000 - 1), 'NX', 'PX', ARGV[1])\n"
    "return {redis.call('GET', KEYS[1]), redis.call('XRANGE', KEYS[2], '-', '+')}\n";

enum { RCHAN_SUBSCRIBING = 0, RCHAN_LOADING, RCHAN_LIVE };

/* A message that came while its channel was loading, kept in order. */
typedef struct rmsg {
    struct rmsg *next;
    uint64_t id, ms;
    size_t len;
    char data[];
} rmsg_t;

/* A channel this node is subscribed to in Redis. */
typedef struct rchan {
    struct rchan *hnext;
    uint32_t hash;
    uint8_t state;       /* RCHAN_* */
    uint8_t loaded;      /* last is known */
    uint8_t reload;      /* load again when the load in flight returns */
    uint64_t last;       /* the last id handed to the hub */
    rmsg_t *head, *tail; /* held while loading */
    size_t held;
    uint16_t len;
    char name[];
} rchan_t;

struct redis_link {
    uv_loop_t *uv;
    hub_t *hub;
    const config_t *const *cfg;
    stats_t *stats;
    rediswire_addr_t addr;
    redisAsyncContext *cmd, *sub;
    int cmd_ready, sub_ready, up, stopping;
    char sha_publish[41], sha_load[41];
    uv_timer_t reconnect, ping, teardown;
    uv_async_t interest;
    int nclosing;         /* handles still closing after stop */
    uint64_t backoff_ms;
    uint64_t ping_sent_ns;   /* 0: no ping outstanding */
    rchan_t **buckets;
    size_t nbuckets, count;
    size_t held;          /* bytes held in every channel's buffer */
};

/* ---- the channel set -------------------------------------------------- */

static uint32_t redis_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static rchan_t *redis_chan_find(redis_link_t *l, const char *name, size_t len) {
    uint32_t h = redis_hash(name, len);
    for (rchan_t *c = l->buckets[h & (l->nbuckets - 1)]; c; c = c->hnext)
        if (c->hash == h && c->len == len && memcmp(c->name, name, len) == 0) return c;
    return NULL;
}

static void redis_chan_grow(redis_link_t *l) {
    size_t n = l->nbuckets * 2;
    rchan_t **b = calloc(n, sizeof(*b));
    if (b == NULL) return; /* longer chains, still correct */
    for (size_t i = 0; i < l->nbuckets; i++) {
        rchan_t *c = l->buckets[i], *next;
        for (; c; c = next) {
            next = c->hnext;
            c->hnext = b[c->hash & (n - 1)];
            b[c->hash & (n - 1)] = c;
        }
    }
    free(l->buckets);
    l->buckets = b;
    l->nbuckets = n;
}

static rchan_t *redis_chan_add(redis_link_t *l, const char *name, size_t len) {
    rchan_t *c = calloc(1, sizeof(*c) + len);
    if (c == NULL) return NULL;
    if (l->count >= l->nbuckets) redis_chan_grow(l);
    c->hash = redis_hash(name, len);
    c->len = (uint16_t)len;
    memcpy(c->name, name, len);
    c->hnext = l->buckets[c->hash & (l->nbuckets - 1)];
    l->buckets[c->hash & (l->nbuckets - 1)] = c;
    l->count++;
    l->stats->redis_subscriptions = l->count;
    return c;
}

static void redis_chan_drop_held(redis_link_t *l, rchan_t *c) {
    while (c->head) {
        rmsg_t *m = c->head;
        c->head = m->next;
        free(m);
    }
    c->tail = NULL;
    l->held -= c->held;
    c->held = 0;
}

static void redis_chan_remove(redis_link_t *l, rchan_t *c) {
    rchan_t **pp = &l->buckets[c->hash & (l->nbuckets - 1)];
    while (*pp != c) pp = &(*pp)->hnext;
    *pp = c->hnext;
    l->count--;
    l->stats->redis_subscriptions = l->count;
    redis_chan_drop_held(l, c);
    free(c);
}

/* ---- connection state ------------------------------------------------- */

static void redis_connect(redis_link_t *l);
static void redis_on_teardown(uv_timer_t *t);
static void redis_chan_subscribe(redis_link_t *l, rchan_t *c);

static uint64_t redis_key_ttl(const config_t *cfg) {
    return cfg->history_ttl_ms > REDIS_KEY_TTL_MS ? cfg->history_ttl_ms : REDIS_KEY_TTL_MS;
}

/* Tear both connections down outside any hiredis callback (hiredis frees
 * a context after its own callback returns), then reconnect later. */
static void redis_fail(redis_link_t *l, const char *why) {
    if (l->up) {
        log_warn("redis: link lost (%s); subscribers stay, reconnecting", why);
        l->stats->redis_link_up = 0;
    }
    l->up = 0;
    if (!uv_is_active((uv_handle_t *)&l->teardown) && !l->stopping)
        uv_timer_start(&l->teardown, redis_on_teardown, 0, 0);
}

static void redis_on_reconnect(uv_timer_t *t) {
    redis_link_t *l = t->data;
    if (!l->stopping && l->cmd == NULL && l->sub == NULL) redis_connect(l);
}

static void redis_on_teardown(uv_timer_t *t) {
    redis_link_t *l = t->data;
    redisAsyncContext *cmd = l->cmd, *sub = l->sub;
    l->cmd = l->sub = NULL;
    l->cmd_ready = l->sub_ready = 0;
    l->ping_sent_ns = 0;
    /* pending callbacks get NULL replies (emits answer 503); data = NULL
     * tells the link's own callbacks that the context is going */
    if (cmd) {
        cmd->data = NULL;
        redisAsyncFree(cmd);
    }
    if (sub) {
        sub->data = NULL;
        redisAsyncFree(sub);
    }
    /* what was held is read again from history when the channel reloads */
    for (size_t i = 0; i < l->nbuckets; i++)
        for (rchan_t *c = l->buckets[i]; c; c = c->hnext) {
            redis_chan_drop_held(l, c);
            c->state = RCHAN_SUBSCRIBING;
            c->reload = 0;
        }
    if (l->stopping) return;
    uint64_t wait = l->backoff_ms + (uint64_t)(rand() % (int)(l->backoff_ms / 4 + 1));
    l->backoff_ms = l->backoff_ms * 2 > REDIS_BACKOFF_MAX_MS ? REDIS_BACKOFF_MAX_MS
                                                              : l->backoff_ms * 2;
    uv_timer_start(&l->reconnect, redis_on_reconnect, wait, 0);
}

/* Both connections answer: subscribe to every channel wanted, old and new
 * (their loads recover what the outage skipped). */
static void redis_maybe_up(redis_link_t *l) {
    if (l->up || !l->cmd_ready || !l->sub_ready) return;
    l->up = 1;
    l->stats->redis_link_up = 1;
    l->backoff_ms = REDIS_BACKOFF_MIN_MS;
    log_info("redis: link up (%s)", l->addr.is_unix ? l->addr.path : l->addr.host);
    for (size_t i = 0; i < l->nbuckets; i++)
        for (rchan_t *c = l->buckets[i]; c; c = c->hnext) redis_chan_subscribe(l, c);
    uv_async_send(&l->interest);
}

static int redis_reply_error(redisReply *r) { return r == NULL || r->type == REDIS_REPLY_ERROR; }

static void redis_on_cmd_setup(redisAsyncContext *ac, void *reply, void *priv) {
    redis_link_t *l = ac->data;
    redisReply *r = reply;
    if (l == NULL || reply == NULL) return;
    if (r->type == REDIS_REPLY_ERROR) {
        log_error("redis: %s: %s", (const char *)priv, r->str);
        redis_fail(l, "setup refused");
    }
}

static void redis_on_ping(redisAsyncContext *ac, void *reply, void *priv) {
    redis_link_t *l = ac->data;
    if (l == NULL || reply == NULL) return;
    if (redis_reply_error(reply)) {
        redis_fail(l, "PING refused");
        return;
    }
    if (l->ping_sent_ns) l->stats->redis_rtt_us = (uv_hrtime() - l->ping_sent_ns) / 1000;
    l->ping_sent_ns = 0;
    if (!l->cmd_ready) {
        l->cmd_ready = 1;
        redis_maybe_up(l);
    }
}

static void redis_on_sub_auth(redisAsyncContext *ac, void *reply, void *priv) {
    redis_link_t *l = ac->data;
    if (l == NULL || reply == NULL) return;
    if (redis_reply_error(reply)) {
        log_error("redis: AUTH refused: %s", ((redisReply *)reply)->str);
        redis_fail(l, "AUTH refused");
        return;
    }
    l->sub_ready = 1;
    redis_maybe_up(l);
}

static void redis_on_connect(const redisAsyncContext *ac, int status) {
    redis_link_t *l = ac->data;
    if (l == NULL) return;
    if (status != REDIS_OK && (ac == l->cmd || ac == l->sub)) {
        /* hiredis frees the context after this callback */
        if (ac == l->cmd) l->cmd = NULL;
        if (ac == l->sub) l->sub = NULL;
        if (l->backoff_ms == REDIS_BACKOFF_MIN_MS)
            log_warn("redis: cannot connect: %s", ac->errstr);
        redis_fail(l, ac->errstr);
    }
}

static void redis_on_disconnect(const redisAsyncContext *ac, int status) {
    redis_link_t *l = ac->data;
    if (l == NULL || (ac != l->cmd && ac != l->sub)) return;
    if (ac == l->cmd) l->cmd = NULL;
    if (ac == l->sub) l->sub = NULL;
    if (!l->stopping) redis_fail(l, status == REDIS_OK ? "closed" : ac->errstr);
}

static redisAsyncContext *redis_open(redis_link_t *l) {
    redisAsyncContext *ac = l->addr.is_unix ? redisAsyncConnectUnix(l->addr.path)
                                            : redisAsyncConnect(l->addr.host, l->addr.port);
    if (ac == NULL) return NULL;
    if (ac->err || redisLibuvAttach(ac, l->uv) != REDIS_OK) {
        log_warn("redis: cannot connect: %s", ac->err ? ac->errstr : "out of memory");
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = l;
    redisAsyncSetConnectCallback(ac, redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, redis_on_disconnect);
    return ac;
}

static void redis_auth(redis_link_t *l, redisAsyncContext *ac, redisCallbackFn *cb) {
    const char *argv[3] = {"AUTH", l->addr.user, l->addr.password};
    size_t lens[3] = {4, strlen(l->addr.user), strlen(l->addr.password)};
    if (l->addr.user[0])
        redisAsyncCommandArgv(ac, cb, "AUTH", 3, argv, lens);
    else
        redisAsyncCommandArgv(ac, cb, "AUTH", 2, (const char *[]){argv[0], argv[2]},
                              (size_t[]){lens[0], lens[2]});
}

/* Commands are written before the connection completes (hiredis buffers
 * them), in order: AUTH, SELECT, the scripts, then a PING whose answer
 * says the command connection is ready. */
static void redis_connect(redis_link_t *l) {
    l->cmd = redis_open(l);
    l->sub = l->cmd ? redis_open(l) : NULL;
    if (l->cmd == NULL || l->sub == NULL) {
        redis_fail(l, "connect");
        return;
    }
    if (l->addr.has_password) {
        redis_auth(l, l->cmd, redis_on_cmd_setup);
        redis_auth(l, l->sub, redis_on_sub_auth);
    } else {
        l->sub_ready = 1;
    }
    if (l->addr.db) redisAsyncCommand(l->cmd, redis_on_cmd_setup, "SELECT", "SELECT %u", l->addr.db);
    redisAsyncCommand(l->cmd, redis_on_cmd_setup, "SCRIPT LOAD", "SCRIPT LOAD %s", redis_publish_lua);
    redisAsyncCommand(l->cmd, redis_on_cmd_setup, "SCRIPT LOAD", "SCRIPT LOAD %s", redis_load_lua);
    l->ping_sent_ns = uv_hrtime();
    redisAsyncCommand(l->cmd, redis_on_ping, NULL, "PING");
}

/* Every REDIS_PING_MS: the round trip for /metrics, and a link that does
 * not answer within redis_timeout_ms is torn down (hiredis 0.14 has no
 * timeouts of its own). */
static void redis_on_ping_timer(uv_timer_t *t) {
    redis_link_t *l = t->data;
    if (l->cmd == NULL) return;
    uint64_t now = uv_hrtime();
    if (l->ping_sent_ns) {
        if (now - l->ping_sent_ns > (*l->cfg)->redis_timeout_ms * 1000000) {
            log_warn("redis: no answer for %llu ms", (unsigned long long)(*l->cfg)->redis_timeout_ms);
            redis_fail(l, "timeout");
        }
        return;
    }
    if (!l->up) return;
    l->ping_sent_ns = now;
    redisAsyncCommand(l->cmd, redis_on_ping, NULL, "PING");
}

/* ---- channels: subscribe, load, apply --------------------------------- */

static void redis_on_sub(redisAsyncContext *ac, void *reply, void *priv);
static void redis_chan_load(redis_link_t *l, rchan_t *c);

static void redis_chan_subscribe(redis_link_t *l, rchan_t *c) {
    char key[HERALD_CHANNEL_MAX + 32];
    int n = rediswire_key(key, sizeof(key), REDISWIRE_KEY_PUBSUB, c->name, c->len, l->addr.db);
    c->state = RCHAN_SUBSCRIBING;
    if (l->up && n > 0) redisAsyncCommand(l->sub, redis_on_sub, NULL, "SUBSCRIBE %b", key, (size_t)n);
}

/* Hand entries after c->last to the hub, in order; stop at a hole. Returns
 * the number of entries consumed. */
static size_t redis_chan_apply(redis_link_t *l, rchan_t *c, const hub_entry_t *e, size_t n,
                               int *hole) {
    size_t i = 0;
    *hole = 0;
    for (; i < n; i++) {
        if (e[i].id <= c->last) continue;
        if (e[i].id != c->last + 1) {
            *hole = 1;
            break;
        }
        if (hub_remote_apply(l->hub, *l->cfg, c->name, c->len, &e[i]) == HUB_ENOMEM)
            log_error("redis: out of memory: message %llu of %.*s not delivered",
                      (unsigned long long)e[i].id, (int)c->len, c->name);
        c->last = e[i].id;
    }
    return i;
}

/* What came while the channel loaded, now in order after c->last; a hole
 * (a message lost on the way) means loading again. */
static void redis_chan_release_held(redis_link_t *l, rchan_t *c) {
    while (c->head) {
        rmsg_t *m = c->head;
        if (m->id > c->last + 1) {
            c->state = RCHAN_LOADING;
            redis_chan_load(l, c);
            return;
        }
        hub_entry_t e = {m->id, m->ms, m->data, m->len};
        int hole;
        redis_chan_apply(l, c, &e, 1, &hole);
        c->head = m->next;
        if (c->head == NULL) c->tail = NULL;
        c->held -= m->len;
        l->held -= m->len;
        free(m);
    }
}

typedef struct redis_load_req {
    redis_link_t *l;
    uint16_t len;
    char name[];
} redis_load_req_t;

/* A load's answer: {last id, [[entry id, [m, ms, d, data]], ...]}. A
 * channel loaded for the first time (or whose hub state was dropped)
 * takes it whole; one that was live takes what it missed, or gets a gap
 * when history no longer reaches back to its last id. */
static void redis_on_load(redisAsyncContext *ac, void *reply, void *priv) {
    redis_load_req_t *req = priv;
    redis_link_t *l = req->l;
    redisReply *r = reply;
    rchan_t *c = ac->data ? redis_chan_find(l, req->name, req->len) : NULL;
    if (c == NULL || c->state != RCHAN_LOADING || r == NULL) goto out;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
        log_error("redis: unexpected answer loading %.*s%s%s", (int)c->len, c->name,
                  r->type == REDIS_REPLY_ERROR ? ": " : "", r->type == REDIS_REPLY_ERROR ? r->str : "");
        redis_fail(l, "bad load answer");
        goto out;
    }
    uint64_t last = 0, ms;
    rediswire_u64(r->element[0]->str, r->element[0]->len, &last);
    redisReply *h = r->element[1];
    hub_entry_t *e = h->elements ? calloc(h->elements, sizeof(*e)) : NULL;
    size_t ne = 0;
    for (size_t i = 0; i < h->elements && (e || h->elements == 0); i++) {
        redisReply *x = h->element[i];
        if (x->type != REDIS_REPLY_ARRAY || x->elements != 2 ||
            x->element[0]->type != REDIS_REPLY_STRING || x->element[1]->type != REDIS_REPLY_ARRAY ||
            x->element[1]->elements != 4)
            continue;
        redisReply *f = x->element[1];
        hub_entry_t v = {rediswire_entry_id(x->element[0]->str, x->element[0]->len), 0,
                         f->element[3]->str, f->element[3]->len};
        if (v.id == 0 || v.data == NULL || f->element[1]->type != REDIS_REPLY_STRING ||
            rediswire_u64(f->element[1]->str, f->element[1]->len, &ms) != 0)
            continue;
        v.ms = ms;
        e[ne++] = v;
    }
    if (last == 0 || (h->elements && e == NULL)) {
        log_error("redis: cannot read the state of %.*s", (int)c->len, c->name);
        free(e);
        redis_fail(l, "bad load answer");
        goto out;
    }
    int ready;
    hub_remote_wanted(l->hub, c->name, c->len, &ready);
    if (!c->loaded || !ready || last < c->last) {
        /* first load (or Redis lost the channel: its ids restarted) */
        hub_remote_load(l->hub, *l->cfg, c->name, c->len, last, e, ne, c->loaded && ready);
        c->last = last;
        c->loaded = 1;
    } else if (last > c->last) {
        int hole;
        uint64_t before = c->last;
        redis_chan_apply(l, c, e, ne, &hole);
        if (hole || c->last != last) {
            log_warn("redis: %.*s: history no longer reaches back to %llu: gap",
                     (int)c->len, c->name, (unsigned long long)c->last);
            hub_remote_load(l->hub, *l->cfg, c->name, c->len, last, e, ne, 1);
            c->last = last;
        }
        l->stats->redis_messages_recovered += c->last - before;
    }
    free(e);
    c->state = RCHAN_LIVE;
    redis_chan_release_held(l, c);
    if (c->state == RCHAN_LIVE && c->reload) {
        c->reload = 0;
        c->state = RCHAN_LOADING;
        redis_chan_load(l, c);
    }
out:
    free(req);
}

static void redis_chan_load(redis_link_t *l, rchan_t *c) {
    char kid[HERALD_CHANNEL_MAX + 32], kh[HERALD_CHANNEL_MAX + 32], ttl[24];
    int a = rediswire_key(kid, sizeof(kid), REDISWIRE_KEY_ID, c->name, c->len, 0);
    int b = rediswire_key(kh, sizeof(kh), REDISWIRE_KEY_HISTORY, c->name, c->len, 0);
    int t = snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)redis_key_ttl(*l->cfg));
    redis_load_req_t *req = malloc(sizeof(*req) + c->len);
    if (req == NULL || a < 0 || b < 0 || l->cmd == NULL) {
        free(req);
        c->reload = 1;
        return;
    }
    req->l = l;
    req->len = c->len;
    memcpy(req->name, c->name, c->len);
    const char *argv[] = {"EVALSHA", l->sha_load, "2", kid, kh, ttl};
    size_t lens[] = {7, 40, 1, (size_t)a, (size_t)b, (size_t)t};
    if (redisAsyncCommandArgv(l->cmd, redis_on_load, req, 6, argv, lens) != REDIS_OK) free(req);
}

/* Pub/sub: confirmations and messages. A confirmation (re)loads the
 * channel: whatever happened before it is read from Redis, what follows
 * comes here. A message is applied if it follows the last one, held while
 * the channel loads, and a hole starts a load. */
static void redis_on_sub(redisAsyncContext *ac, void *reply, void *priv) {
    redis_link_t *l = ac->data;
    redisReply *r = reply;
    if (l == NULL || r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str, *name;
    size_t len;
    if (rediswire_pubsub_channel(r->element[1]->str, r->element[1]->len, &name, &len) != 0) return;
    rchan_t *c = redis_chan_find(l, name, len);
    if (c == NULL) return;
    if (strcmp(kind, "subscribe") == 0) {
        if (c->state == RCHAN_LOADING) {
            c->reload = 1;
        } else {
            c->state = RCHAN_LOADING;
            redis_chan_load(l, c);
        }
        return;
    }
    if (strcmp(kind, "message") != 0 || r->element[2]->type != REDIS_REPLY_STRING) return;
    hub_entry_t e;
    if (rediswire_msg_decode(r->element[2]->str, r->element[2]->len, &e.id, &e.ms, &e.data,
                             &e.len) != 0) {
        log_warn("redis: a malformed message on %.*s: ignored", (int)len, name);
        return;
    }
    l->stats->redis_messages_in++;
    if (c->state == RCHAN_LIVE && e.id <= c->last) return;
    if (c->state == RCHAN_LIVE && e.id == c->last + 1) {
        int hole;
        redis_chan_apply(l, c, &e, 1, &hole);
        return;
    }
    if (c->state == RCHAN_SUBSCRIBING) return; /* the confirmation's load reads it */
    if (l->held + e.len > REDIS_BUFFER_MAX) {
        c->reload = 1; /* not kept: read from history after this load */
    } else {
        rmsg_t *m = malloc(sizeof(*m) + e.len);
        if (m == NULL) {
            c->reload = 1;
        } else {
            m->next = NULL;
            m->id = e.id;
            m->ms = e.ms;
            m->len = e.len;
            memcpy(m->data, e.data, e.len);
            if (c->tail) c->tail->next = m;
            else c->head = m;
            c->tail = m;
            c->held += e.len;
            l->held += e.len;
        }
    }
    if (c->state == RCHAN_LIVE) { /* a hole: the missing ones are in history */
        c->state = RCHAN_LOADING;
        redis_chan_load(l, c);
    }
}

/* Channels that gained their first or lost their last subscriber here. */
static void redis_on_interest(uv_async_t *a) {
    redis_link_t *l = a->data;
    char **names;
    ssize_t n = hub_interest_take(l->hub, 0, &names);
    for (ssize_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        int ready;
        int wanted = hub_remote_wanted(l->hub, names[i], len, &ready);
        rchan_t *c = redis_chan_find(l, names[i], len);
        if (wanted && c == NULL) {
            c = redis_chan_add(l, names[i], len);
            if (c) redis_chan_subscribe(l, c);
            else log_error("redis: out of memory: not subscribed to %s", names[i]);
        } else if (wanted && !ready && c->state == RCHAN_LIVE) {
            c->state = RCHAN_LOADING; /* the hub forgot it (swept): load again */
            redis_chan_load(l, c);
        } else if (!wanted && c && hub_remote_drop(l->hub, names[i], len)) {
            char key[HERALD_CHANNEL_MAX + 32];
            int k = rediswire_key(key, sizeof(key), REDISWIRE_KEY_PUBSUB, c->name, c->len,
                                  l->addr.db);
            if (l->up && k > 0)
                redisAsyncCommand(l->sub, redis_on_sub, NULL, "UNSUBSCRIBE %b", key, (size_t)k);
            redis_chan_remove(l, c);
        }
        free(names[i]);
    }
    if (n > 0) free(names);
}

/* ---- publish ---------------------------------------------------------- */

typedef struct redis_batch {
    redis_link_t *l;
    redis_publish_cb cb;
    void *arg;
    size_t n;
    uint64_t *ids, *nodes; /* [n] each, after the struct */
} redis_batch_t;

static int redis_pair(redisReply *r, uint64_t *id, uint64_t *nodes) {
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER ||
        r->element[0]->integer <= 0)
        return -1;
    *id = (uint64_t)r->element[0]->integer;
    *nodes = (uint64_t)r->element[1]->integer;
    return 0;
}

/* A single publish's answer, or a batch's EXEC (an array of answers). */
static void redis_on_published(redisAsyncContext *ac, void *reply, void *priv) {
    redis_batch_t *b = priv;
    redisReply *r = reply;
    int ok = r != NULL;
    if (ok && b->n == 1) {
        ok = redis_pair(r, &b->ids[0], &b->nodes[0]) == 0;
    } else if (ok) {
        ok = r->type == REDIS_REPLY_ARRAY && r->elements == b->n;
        for (size_t i = 0; ok && i < b->n; i++)
            ok = redis_pair(r->element[i], &b->ids[i], &b->nodes[i]) == 0;
    }
    if (!ok && r) {
        const char *why = r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer";
        if (r->type == REDIS_REPLY_ARRAY && r->elements && r->element[0]->type == REDIS_REPLY_ERROR)
            why = r->element[0]->str;
        log_error("redis: publish refused: %s", why);
        if (strncmp(why, "NOSCRIPT", 8) == 0) redis_fail(b->l, "scripts flushed");
    }
    if (ok) b->l->stats->redis_messages_out += b->n;
    else b->l->stats->redis_emit_failures++;
    b->cb(b->arg, ok ? 0 : REDIS_EFAIL, ok ? b->ids : NULL, ok ? b->nodes : NULL, b->n);
    free(b);
}

static void redis_on_queued(redisAsyncContext *ac, void *reply, void *priv) {}

int redis_publish(redis_link_t *l, const redis_pub_t *msgs, size_t n, redis_publish_cb cb,
                  void *arg) {
    if (!l->up || l->cmd == NULL) return REDIS_EDOWN;
    redis_batch_t *b = malloc(sizeof(*b) + 2 * n * sizeof(uint64_t));
    if (b == NULL) return UV_ENOMEM;
    b->l = l;
    b->cb = cb;
    b->arg = arg;
    b->n = n;
    b->ids = (uint64_t *)(b + 1);
    b->nodes = b->ids + n;
    const config_t *cfg = *l->cfg;
    char size[24], ttl[24];
    int sl = snprintf(size, sizeof(size), "%llu", (unsigned long long)cfg->history_size);
    int tl = snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)redis_key_ttl(cfg));
    if (n > 1) redisAsyncCommand(l->cmd, redis_on_queued, NULL, "MULTI");
    for (size_t i = 0; i < n; i++) {
        char kid[HERALD_CHANNEL_MAX + 32], kh[HERALD_CHANNEL_MAX + 32], kp[HERALD_CHANNEL_MAX + 32];
        const redis_pub_t *p = &msgs[i];
        int a = rediswire_key(kid, sizeof(kid), REDISWIRE_KEY_ID, p->channel, p->channel_len, 0);
        int bb = rediswire_key(kh, sizeof(kh), REDISWIRE_KEY_HISTORY, p->channel, p->channel_len, 0);
        int c = rediswire_key(kp, sizeof(kp), REDISWIRE_KEY_PUBSUB, p->channel, p->channel_len,
                              l->addr.db);
        const char *argv[] = {"EVALSHA", l->sha_publish, "2", kid, kh, p->data ? p->data : "",
                              size, ttl, kp};
        size_t lens[] = {7, 40, 1, (size_t)a, (size_t)bb, p->len, (size_t)sl, (size_t)tl, (size_t)c};
        if (n == 1)
            redisAsyncCommandArgv(l->cmd, redis_on_published, b, 9, argv, lens);
        else
            redisAsyncCommandArgv(l->cmd, redis_on_queued, NULL, 9, argv, lens);
    }
    if (n > 1) redisAsyncCommand(l->cmd, redis_on_published, b, "EXEC");
    return 0;
}

/* ---- life ------------------------------------------------------------- */

static void redis_sha1_hex(const char *text, char out[41]) {
    unsigned char d[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)text, strlen(text), d);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

redis_link_t *redis_link_start(uv_loop_t *uv, hub_t *hub, const config_t *const *cfg,
                               stats_t *stats) {
    redis_link_t *l = calloc(1, sizeof(*l));
    char why[200];
    if (l == NULL) return NULL;
    if (rediswire_url_parse((*cfg)->redis, strlen((*cfg)->redis), &l->addr, why, sizeof(why)) != 0) {
        log_error("redis: %s", why);
        free(l);
        return NULL;
    }
    l->nbuckets = 64;
    l->buckets = calloc(l->nbuckets, sizeof(*l->buckets));
    if (l->buckets == NULL) {
        free(l);
        return NULL;
    }
    l->uv = uv;
    l->hub = hub;
    l->cfg = cfg;
    l->stats = stats;
    l->backoff_ms = REDIS_BACKOFF_MIN_MS;
    redis_sha1_hex(redis_publish_lua, l->sha_publish);
    redis_sha1_hex(redis_load_lua, l->sha_load);
    uv_timer_init(uv, &l->reconnect);
    uv_timer_init(uv, &l->ping);
    uv_timer_init(uv, &l->teardown);
    uv_async_init(uv, &l->interest, redis_on_interest);
    l->reconnect.data = l->ping.data = l->teardown.data = l->interest.data = l;
    uv_timer_start(&l->ping, redis_on_ping_timer, REDIS_PING_MS, REDIS_PING_MS);
    hub_cluster_enable(hub, &l->interest);
    redis_connect(l);
    return l;
}

int redis_link_is_up(const redis_link_t *l) { return l->up; }

static void redis_on_handle_closed(uv_handle_t *h) {
    redis_link_t *l = h->data;
    if (--l->nclosing > 0) return;
    for (size_t i = 0; i < l->nbuckets; i++)
        while (l->buckets[i]) redis_chan_remove(l, l->buckets[i]);
    free(l->buckets);
    free(l);
}

void redis_link_stop(redis_link_t *l) {
    l->stopping = 1;
    l->up = 0;
    redis_on_teardown(&l->teardown);
    hub_cluster_enable(l->hub, NULL);
    l->nclosing = 4;
    uv_close((uv_handle_t *)&l->reconnect, redis_on_handle_closed);
    uv_close((uv_handle_t *)&l->ping, redis_on_handle_closed);
    uv_close((uv_handle_t *)&l->teardown, redis_on_handle_closed);
    uv_close((uv_handle_t *)&l->interest, redis_on_handle_closed);
}
