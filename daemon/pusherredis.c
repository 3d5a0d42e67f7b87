#include "pusherredis.h"

#include "hub.h"
#include "presencewire.h"
#include "pusherwire.h"
#include "rediswire.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUSHERREDIS_KEY_MAX (PUSHER_CHANNEL_MAX + 40)

/* KEYS: members, connections per user. {users, connections}. */
static const char pusherredis_count_lua[] =
    "local c = 0\n"
    "for _, v in ipairs(redis.call('HVALS', KEYS[2])) do c = c + tonumber(v) end\n"
    "return {redis.call('HLEN', KEYS[1]), c}\n";

typedef struct pusherredis_req {
    pusherredis_users_cb cb;
    void *arg;
    int list;
} pusherredis_req_t;

static int pusherredis_int(const redisReply *r, long long *v) {
    if (r->type == REDIS_REPLY_INTEGER) *v = r->integer;
    else if (r->type == REDIS_REPLY_STRING) *v = strtoll(r->str, NULL, 10);
    else return -1;
    return 0;
}

/* HKEYS' ids as [{"id":…},…] (ids are JSON-safe: pusher.c lets no other in). */
static char *pusherredis_ids(const redisReply *r) {
    size_t cap = 16;
    for (size_t i = 0; i < r->elements; i++) cap += r->element[i]->len + 12;
    char *s = malloc(cap);
    if (s == NULL) return NULL;
    size_t o = (size_t)snprintf(s, cap, "[");
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            o += (size_t)snprintf(s + o, cap - o, "%s{\"id\":\"%s\"}", o > 1 ? "," : "", r->element[i]->str);
    snprintf(s + o, cap - o, "]");
    return s;
}

static void pusherredis_on_users(redisAsyncContext *ac, void *reply, void *priv) {
    pusherredis_req_t *q = priv;
    redisReply *r = reply;
    long long users = 0, conns = 0;
    if (q->list && r && r->type == REDIS_REPLY_ARRAY) {
        char *s = pusherredis_ids(r);
        q->cb(q->arg, s ? 0 : HUB_ENOMEM, s, (long long)r->elements, 0);
        free(s);
    } else if (!q->list && r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
               pusherredis_int(r->element[0], &users) == 0 && pusherredis_int(r->element[1], &conns) == 0) {
        q->cb(q->arg, 0, NULL, users, conns);
    } else {
        q->cb(q->arg, HUB_EDOWN, NULL, 0, 0);
    }
    free(q);
}

int pusherredis_users(redis_link_t *l, const char *name, size_t len, int list,
                      pusherredis_users_cb cb, void *arg) {
    char km[PUSHERREDIS_KEY_MAX], ku[PUSHERREDIS_KEY_MAX];
    int a = presencewire_key(km, sizeof(km), PRESENCEWIRE_MEMBERS, name, len);
    int b = presencewire_key(ku, sizeof(ku), PRESENCEWIRE_USERS, name, len);
    pusherredis_req_t *q = a > 0 && b > 0 ? malloc(sizeof(*q)) : NULL;
    if (q == NULL) return HUB_EDOWN;
    q->cb = cb;
    q->arg = arg;
    q->list = list;
    int rc;
    if (list) {
        const char *argv[] = {"HKEYS", km};
        size_t lens[] = {5, (size_t)a};
        rc = redis_command_for(l, name, len, pusherredis_on_users, q, 2, argv, lens);
    } else {
        const char *argv[] = {"EVAL", pusherredis_count_lua, "2", km, ku};
        size_t lens[] = {4, sizeof(pusherredis_count_lua) - 1, 1, (size_t)a, (size_t)b};
        rc = redis_command_for(l, name, len, pusherredis_on_users, q, 5, argv, lens);
    }
    if (rc != 0) {
        free(q);
        return HUB_EDOWN;
    }
    return 0;
}

/* The channel list being gathered: one answer from one Redis, or one
 * from each master of a Redis Cluster (their shards' channels). */
typedef struct pusherredis_chq {
    pusherredis_channels_cb cb;
    void *arg;
    int nomem;
    size_t n, cap;
    char **names;
} pusherredis_chq_t;

static void pusherredis_on_channels(redisAsyncContext *ac, void *reply, void *priv) {
    pusherredis_chq_t *q = priv;
    redisReply *r = reply;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) return; /* done hears it failed */
    for (size_t i = 0; i < r->elements; i++) {
        const char *name;
        size_t len;
        if (r->element[i]->type != REDIS_REPLY_STRING ||
            rediswire_pubsub_channel(r->element[i]->str, r->element[i]->len, &name, &len) != 0)
            continue;
        if (q->n == q->cap) {
            size_t cap = q->cap ? 2 * q->cap : 16;
            char **more = realloc(q->names, cap * sizeof(*more));
            if (more == NULL) {
                q->nomem = 1;
                return;
            }
            q->names = more;
            q->cap = cap;
        }
        if ((q->names[q->n] = strndup(name, len)) == NULL) q->nomem = 1;
        else q->n++;
    }
}

static void pusherredis_on_channels_done(void *priv, int failed) {
    pusherredis_chq_t *q = priv;
    size_t *lens = calloc(q->n + 1, sizeof(*lens));
    if (failed) {
        q->cb(q->arg, HUB_EDOWN, NULL, 0, NULL);
    } else if (q->nomem || lens == NULL) {
        q->cb(q->arg, HUB_ENOMEM, NULL, 0, NULL);
    } else {
        for (size_t i = 0; i < q->n; i++) lens[i] = strlen(q->names[i]);
        q->cb(q->arg, 0, (const char *const *)q->names, q->n, lens);
    }
    for (size_t i = 0; i < q->n; i++) free(q->names[i]);
    free(q->names);
    free(lens);
    free(q);
}

int pusherredis_channels(redis_link_t *l, const char *prefix, size_t len,
                         pusherredis_channels_cb cb, void *arg) {
    char pattern[PUSHERREDIS_KEY_MAX];
    int n = snprintf(pattern, sizeof(pattern), "herald:{%.*s*}:%u", (int)len, prefix, redis_link_db(l));
    pusherredis_chq_t *q = n > 0 && (size_t)n < sizeof(pattern) ? calloc(1, sizeof(*q)) : NULL;
    if (q == NULL) return HUB_EDOWN;
    q->cb = cb;
    q->arg = arg;
    /* every node's subscriptions: with a Redis Cluster, each shard's */
    int sharded = redis_link_sharded(l);
    const char *argv[] = {"PUBSUB", sharded ? "SHARDCHANNELS" : "CHANNELS", pattern};
    size_t lens[] = {6, sharded ? 13 : 8, (size_t)n};
    if (redis_command_all(l, pusherredis_on_channels, pusherredis_on_channels_done, q, 3, argv, lens) != 0) {
        free(q);
        return HUB_EDOWN;
    }
    return 0;
}
