#include "redischan.h"

#include "log.h"
#include "rediswire.h"
#include "signed.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDISCHAN_KEY_TTL_MS UINT64_C(86400000) /* at least; history_ttl_ms if longer */
#define REDISCHAN_HELD_MAX (64u << 20)          /* messages held while channels load */

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
    int16_t shard;       /* where it is subscribed (a cluster's shard), -1: nowhere */
    uint32_t route;      /* changes when it leaves a shard (loads sent before are stale) */
    uint64_t last;       /* the last id handed to the hub */
    rmsg_t *head, *tail; /* held while loading */
    size_t held;
    uint16_t len;
    char name[];
} rchan_t;

/* ---- the channel set -------------------------------------------------- */

static uint32_t redischan_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static rchan_t *redischan_find(redischan_set_t *l, const char *name, size_t len) {
    uint32_t h = redischan_hash(name, len);
    for (rchan_t *c = l->buckets[h & (l->nbuckets - 1)]; c; c = c->hnext)
        if (c->hash == h && c->len == len && memcmp(c->name, name, len) == 0) return c;
    return NULL;
}

static void redischan_grow(redischan_set_t *l) {
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

static rchan_t *redischan_add(redischan_set_t *l, const char *name, size_t len) {
    rchan_t *c = calloc(1, sizeof(*c) + len);
    if (c == NULL) return NULL;
    if (l->count >= l->nbuckets) redischan_grow(l);
    c->hash = redischan_hash(name, len);
    c->shard = -1;
    c->route = ++l->routes;
    c->len = (uint16_t)len;
    memcpy(c->name, name, len);
    c->hnext = l->buckets[c->hash & (l->nbuckets - 1)];
    l->buckets[c->hash & (l->nbuckets - 1)] = c;
    l->count++;
    l->stats->redis_subscriptions = l->count;
    return c;
}

static void redischan_drop_held(redischan_set_t *l, rchan_t *c) {
    while (c->head) {
        rmsg_t *m = c->head;
        c->head = m->next;
        free(m);
    }
    c->tail = NULL;
    l->held -= c->held;
    c->held = 0;
}

static void redischan_remove(redischan_set_t *l, rchan_t *c) {
    rchan_t **pp = &l->buckets[c->hash & (l->nbuckets - 1)];
    while (*pp != c) pp = &(*pp)->hnext;
    *pp = c->hnext;
    l->count--;
    l->stats->redis_subscriptions = l->count;
    redischan_drop_held(l, c);
    free(c);
}


/* ---- channels: subscribe, load, apply --------------------------------- */

static void redischan_on_sub(redisAsyncContext *ac, void *reply, void *priv);
static void redischan_load(redischan_set_t *l, rchan_t *c);

static void redischan_subscribe(redischan_set_t *l, rchan_t *c) {
    char key[HERALD_CHANNEL_MAX + 32];
    int n = rediswire_key(key, sizeof(key), REDISWIRE_KEY_PUBSUB, c->name, c->len, l->db);
    c->state = RCHAN_SUBSCRIBING;
    if (l->ops) {
        c->shard = (int16_t)l->ops->subscribe(l, c->name, c->len);
        if (c->shard >= 0 && l->up && l->occupy) l->occupy(l, c->name, c->len, 1);
        return;
    }
    c->shard = 0;
    if (l->up && n > 0) redisAsyncCommand(l->sub, redischan_on_sub, NULL, "SUBSCRIBE %b", key, (size_t)n);
    if (l->up && l->occupy) l->occupy(l, c->name, c->len, 1);
}

/* A cluster's channel leaves its shard (the slot moved or the shard
 * refused it) and waits for redischan_reroute; what it held is read again
 * from history on its new owner. */
static void redischan_unroute(redischan_set_t *l, rchan_t *c) {
    if (c->shard >= 0 && l->ops) l->ops->unsubscribe(l, c->shard, c->name, c->len);
    c->shard = -1;
    c->route = ++l->routes;
    c->state = RCHAN_SUBSCRIBING;
    c->reload = 0;
    redischan_drop_held(l, c);
}

/* Hand entries after c->last to the hub, in order; stop at a hole. Returns
 * the number of entries consumed. */
static size_t redischan_apply(redischan_set_t *l, rchan_t *c, const hub_entry_t *e, size_t n,
                               int *hole) {
    size_t i = 0;
    *hole = 0;
    for (; i < n; i++) {
        if (e[i].id <= c->last) continue;
        if (e[i].id != c->last + 1) {
            *hole = 1;
            break;
        }
        /* cork.h's rule, at the link: a message within
         * CORK_REMOTE_GAP_NS of the one before streams in */
        uint64_t now = uv_hrtime();
        int stream = l->applied_ns && now - l->applied_ns < REDISCHAN_STREAM_NS;
        l->applied_ns = now;
        if (hub_remote_apply(l->hub, *l->cfg, c->name, c->len, &e[i], stream) == HUB_ENOMEM)
            log_error("redis: out of memory: message %llu of %.*s not delivered",
                      (unsigned long long)e[i].id, (int)c->len, c->name);
        c->last = e[i].id;
    }
    return i;
}

/* What came while the channel loaded, now in order after c->last; a hole
 * (a message lost on the way) means loading again. */
static void redischan_release_held(redischan_set_t *l, rchan_t *c) {
    while (c->head) {
        rmsg_t *m = c->head;
        if (m->id > c->last + 1) {
            c->state = RCHAN_LOADING;
            redischan_load(l, c);
            return;
        }
        hub_entry_t e = {m->id, m->ms, m->data, m->len};
        int hole;
        redischan_apply(l, c, &e, 1, &hole);
        c->head = m->next;
        if (c->head == NULL) c->tail = NULL;
        c->held -= m->len;
        l->held -= m->len;
        free(m);
    }
}

/* The connection that answered a load cannot be trusted: the link's
 * (one Redis) or the channel's shard's (a cluster) is renewed; the
 * channel reloads once subscribed again. */
static void redischan_fail(redischan_set_t *l, rchan_t *c, const char *why) {
    if (l->ops == NULL) l->fail(l, why);
    else if (c->shard >= 0) l->ops->fail(l, c->shard, why);
}

typedef struct redischan_load_req {
    redischan_set_t *l;
    uint32_t route;       /* the channel's route when sent */
    uint16_t len;
    char name[];
} redischan_load_req_t;

/* A load's answer: {last id, [[entry id, [m, ms, d, data]], ...]}. A
 * channel loaded for the first time (or whose hub state was dropped)
 * takes it whole; one that was live takes what it missed, or gets a gap
 * when history no longer reaches back to its last id. */
static void redischan_on_load(redisAsyncContext *ac, void *reply, void *priv) {
    redischan_load_req_t *req = priv;
    redischan_set_t *l = req->l;
    redisReply *r = reply;
    rchan_t *c = ac->data ? redischan_find(l, req->name, req->len) : NULL;
    /* a load sent before the channel moved to another shard is stale */
    if (c == NULL || c->state != RCHAN_LOADING || r == NULL || c->route != req->route) goto out;
    if (l->ops && r->type == REDIS_REPLY_ERROR) { /* MOVED, CLUSTERDOWN...: find its owner */
        log_warn("redis: loading %.*s: %s", (int)c->len, c->name, r->str);
        if (strncmp(r->str, "NOSCRIPT", 8) == 0) { /* its master lost the scripts: reconnect */
            redischan_fail(l, c, "scripts flushed");
        } else {
            redischan_unroute(l, c);
            l->ops->moved(l);
        }
        goto out;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
        log_error("redis: unexpected answer loading %.*s%s%s", (int)c->len, c->name,
                  r->type == REDIS_REPLY_ERROR ? ": " : "", r->type == REDIS_REPLY_ERROR ? r->str : "");
        redischan_fail(l, c, "bad load answer");
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
        redischan_fail(l, c, "bad load answer");
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
        redischan_apply(l, c, e, ne, &hole);
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
    redischan_release_held(l, c);
    if (c->state == RCHAN_LIVE && c->reload) {
        c->reload = 0;
        c->state = RCHAN_LOADING;
        redischan_load(l, c);
    }
out:
    free(req);
}

static void redischan_load(redischan_set_t *l, rchan_t *c) {
    char kid[HERALD_CHANNEL_MAX + 32], kh[HERALD_CHANNEL_MAX + 32], ttl[24];
    int a = rediswire_key(kid, sizeof(kid), REDISWIRE_KEY_ID, c->name, c->len, 0);
    int b = rediswire_key(kh, sizeof(kh), REDISWIRE_KEY_HISTORY, c->name, c->len, 0);
    int t = snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)redischan_key_ttl(*l->cfg));
    redischan_load_req_t *req = malloc(sizeof(*req) + c->len);
    redisAsyncContext *cmd = l->ops ? (c->shard >= 0 ? l->ops->cmd(l, c->shard) : NULL) : l->cmd;
    if (req == NULL || a < 0 || b < 0 || cmd == NULL) {
        free(req);
        c->reload = 1;
        return;
    }
    req->l = l;
    req->len = c->len;
    req->route = c->route;
    memcpy(req->name, c->name, c->len);
    const char *argv[] = {"EVALSHA", l->sha_load, "2", kid, kh, ttl};
    size_t lens[] = {7, 40, 1, (size_t)a, (size_t)b, (size_t)t};
    if (redisAsyncCommandArgv(cmd, redischan_on_load, req, 6, argv, lens) != REDIS_OK) free(req);
}

/* Pub/sub: confirmations and messages. A confirmation (re)loads the
 * channel: whatever happened before it is read from Redis, what follows
 * comes here. A message is applied if it follows the last one, held while
 * the channel loads, and a hole starts a load. */
static void redischan_on_sub(redisAsyncContext *ac, void *reply, void *priv) {
    redischan_set_t *l = ac->data;
    if (l != NULL && reply != NULL) redischan_on_push(l, reply, 0);
}

/* A cluster's shards send the same with an s: ssubscribe, smessage. */
void redischan_on_push(redischan_set_t *l, const redisReply *r, int shard) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str, *name;
    size_t len;
    if (rediswire_pubsub_channel(r->element[1]->str, r->element[1]->len, &name, &len) != 0) return;
    rchan_t *c = redischan_find(l, name, len);
    if (c == NULL) return;
    if (l->ops && kind[0] == 's') {
        kind++;
        /* an answer from a shard the channel has left is stale */
        if (c->shard != shard && strcmp(kind, "message") != 0) return;
        /* a sunsubscribe while subscribing answers our own SUNSUBSCRIBE
         * (the channel left and came back); otherwise its slot moved */
        if (strcmp(kind, "unsubscribe") == 0 && c->state != RCHAN_SUBSCRIBING) {
            log_info("redis: %.*s left its shard (slot moved): subscribing on its new owner",
                     (int)len, name);
            l->stats->redis_cluster_moved++;
            c->shard = -1; /* nothing to unsubscribe from */
            if (l->lost) l->lost(l, name, len);
            redischan_unroute(l, c);
            l->ops->moved(l);
            return;
        }
    }
    if (strcmp(kind, "subscribe") == 0) {
        if (c->state == RCHAN_LOADING) {
            c->reload = 1;
        } else {
            c->state = RCHAN_LOADING;
            redischan_load(l, c);
        }
        return;
    }
    if (strcmp(kind, "message") != 0 || r->element[2]->type != REDIS_REPLY_STRING) return;
    if (r->element[2]->len && r->element[2]->str[0] == 'P') { /* a member event */
        if (l->event) l->event(l, name, len, r->element[2]->str, r->element[2]->len);
        return;
    }
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
        redischan_apply(l, c, &e, 1, &hole);
        return;
    }
    if (c->state == RCHAN_SUBSCRIBING) return; /* the confirmation's load reads it */
    if (l->held + e.len > REDISCHAN_HELD_MAX) {
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
        redischan_load(l, c);
    }
}

/* Channels that gained their first or lost their last subscriber here. */
void redischan_interest(redischan_set_t *l) {
    char **names;
    size_t n = hub_interest_take(l->hub, &names);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        int ready;
        int wanted = hub_remote_wanted(l->hub, names[i], len, &ready);
        rchan_t *c = redischan_find(l, names[i], len);
        if (wanted && c == NULL) {
            c = redischan_add(l, names[i], len);
            if (c) redischan_subscribe(l, c);
            else log_error("redis: out of memory: not subscribed to %s", names[i]);
        } else if (wanted && !ready && c->state == RCHAN_LIVE) {
            c->state = RCHAN_LOADING; /* the hub forgot it (swept): load again */
            redischan_load(l, c);
        } else if (!wanted && c && hub_remote_drop(l->hub, names[i], len)) {
            char key[HERALD_CHANNEL_MAX + 32];
            int k = rediswire_key(key, sizeof(key), REDISWIRE_KEY_PUBSUB, c->name, c->len,
                                  l->db);
            if (l->ops && c->shard >= 0)
                l->ops->unsubscribe(l, c->shard, c->name, c->len);
            else if (!l->ops && l->up && k > 0)
                redisAsyncCommand(l->sub, redischan_on_sub, NULL, "UNSUBSCRIBE %b", key, (size_t)k);
            if (l->up && l->occupy) l->occupy(l, c->name, c->len, 0);
            redischan_remove(l, c);
        }
        free(names[i]);
    }
    free(names);
}


uint64_t redischan_key_ttl(const config_t *cfg) {
    return cfg->history_ttl_ms > REDISCHAN_KEY_TTL_MS ? cfg->history_ttl_ms : REDISCHAN_KEY_TTL_MS;
}

int redischan_init(redischan_set_t *l) {
    l->nbuckets = 64;
    l->buckets = calloc(l->nbuckets, sizeof(*l->buckets));
    return l->buckets ? 0 : -1;
}

void redischan_free(redischan_set_t *l) {
    for (size_t i = 0; l->buckets && i < l->nbuckets; i++)
        while (l->buckets[i]) redischan_remove(l, l->buckets[i]);
    free(l->buckets);
    l->buckets = NULL;
}

void redischan_subscribe_all(redischan_set_t *l) {
    for (size_t i = 0; i < l->nbuckets; i++)
        for (rchan_t *c = l->buckets[i]; c; c = c->hnext) redischan_subscribe(l, c);
}

void redischan_occupy_all(redischan_set_t *l) {
    for (size_t i = 0; i < l->nbuckets && l->occupy; i++)
        for (rchan_t *c = l->buckets[i]; c; c = c->hnext)
            if (c->shard >= 0) l->occupy(l, c->name, c->len, 1);
}

void redischan_reset(redischan_set_t *l) {
    for (size_t i = 0; i < l->nbuckets; i++)
        for (rchan_t *c = l->buckets[i]; c; c = c->hnext) {
            redischan_drop_held(l, c);
            c->state = RCHAN_SUBSCRIBING;
            c->reload = 0;
        }
}

void redischan_reset_shard(redischan_set_t *l, int shard) {
    for (size_t i = 0; i < l->nbuckets; i++)
        for (rchan_t *c = l->buckets[i]; c; c = c->hnext) {
            if (c->shard != shard) continue;
            c->shard = -1; /* the connection is gone: nothing to unsubscribe */
            redischan_unroute(l, c);
        }
}

void redischan_reroute(redischan_set_t *l) {
    for (size_t i = 0; i < l->nbuckets; i++)
        for (rchan_t *c = l->buckets[i]; c; c = c->hnext) {
            int owner = l->ops->owner(l, c->name, c->len);
            if (c->shard >= 0 && c->shard != owner) redischan_unroute(l, c);
            if (c->shard < 0 && owner >= 0) redischan_subscribe(l, c);
        }
}
