#include "presenceredis.h"

#include "hubremote.h"
#include "log.h"
#include "presencewire.h"
#include "pusherwire.h"
#include "rediswire.h"
#include "signed.h"
#include "webhookwire.h"

#include <hiredis/hiredis.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sequence never restarts under joined connections (they would take
 * new events for old ones): it expires only a day after the channel's
 * last member left. */

/* KEYS: members, per node, per user, seq. ARGV: node, user_id, user_info,
 * max members, pub/sub channel. One more connection of the user on this
 * node; the user's first anywhere becomes a member (refused past max) and
 * member_added is published. Returns {1 added / 0 counted / -1 full, seq,
 * the members as user_id, user_info pairs}, all read in the same step. */
#define PRESENCEREDIS_JOIN_LUA(PUB) \
    "local total = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')\n" \
    "if total <= 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then\n" \
    "  return {-1, redis.call('GET', KEYS[4]) or '0', {}}\n" \
    "end\n" \
    "redis.call('HINCRBY', KEYS[2], ARGV[1] .. '|' .. ARGV[2], 1)\n" \
    "redis.call('HINCRBY', KEYS[3], ARGV[2], 1)\n" \
    "local added = 0\n" \
    "if total <= 0 then\n" \
    "  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])\n" \
    "  local s = redis.call('INCR', KEYS[4])\n" \
    "  if redis.call('HLEN', KEYS[1]) == 0 then redis.call('PEXPIRE', KEYS[4], 86400000) else redis.call('PERSIST', KEYS[4]) end\n" \
    "  redis.call('" PUB "', ARGV[5], 'P' .. s .. ' a ' .. ARGV[2] .. '\\n' .. ARGV[3])\n" \
    "  added = 1\n" \
    "end\n" \
    "return {added, redis.call('GET', KEYS[4]) or '0', redis.call('HGETALL', KEYS[1])}\n"
static const char presenceredis_join_lua[] = PRESENCEREDIS_JOIN_LUA("PUBLISH");
static const char presenceredis_sjoin_lua[] = PRESENCEREDIS_JOIN_LUA("SPUBLISH");

/* One connection less: the user's last anywhere is removed and
 * member_removed published. KEYS: as for a join, and the occupying nodes.
 * ARGV: node, user_id, pub/sub channel. Returns {1 removed / 0 not, 1 when
 * this node still has users or subscribers here}. */
#define PRESENCEREDIS_LEAVE_LUA(PUB) \
    "local f = ARGV[1] .. '|' .. ARGV[2]\n" \
    "local n = tonumber(redis.call('HGET', KEYS[2], f) or '0')\n" \
    "local removed = 0\n" \
    "if n > 0 then\n" \
    "  if n == 1 then redis.call('HDEL', KEYS[2], f) else redis.call('HINCRBY', KEYS[2], f, -1) end\n" \
    "  if redis.call('HINCRBY', KEYS[3], ARGV[2], -1) <= 0 then\n" \
    "    redis.call('HDEL', KEYS[3], ARGV[2])\n" \
    "    redis.call('HDEL', KEYS[1], ARGV[2])\n" \
    "    local s = redis.call('INCR', KEYS[4])\n" \
    "    if redis.call('HLEN', KEYS[1]) == 0 then redis.call('PEXPIRE', KEYS[4], 86400000) else redis.call('PERSIST', KEYS[4]) end\n" \
    "    redis.call('" PUB "', ARGV[3], 'P' .. s .. ' r ' .. ARGV[2])\n" \
    "    removed = 1\n" \
    "  end\n" \
    "end\n" \
    "local p, more = ARGV[1] .. '|', 0\n" \
    "for _, k in ipairs(redis.call('HKEYS', KEYS[2])) do\n" \
    "  if string.sub(k, 1, #p) == p then more = 1; break end\n" \
    "end\n" \
    "if redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 1 then more = 1 end\n" \
    "return {removed, more}\n"
static const char presenceredis_leave_lua[] = PRESENCEREDIS_LEAVE_LUA("PUBLISH");
static const char presenceredis_sleave_lua[] = PRESENCEREDIS_LEAVE_LUA("SPUBLISH");

/* A dead node's connections go: KEYS: as for a leave. ARGV: its id,
 * pub/sub channel. Returns {1 if the channel is left with no node
 * (vacated), the users that were members through it alone (member_removed
 * each)}. */
#define PRESENCEREDIS_SWEEP_LUA(PUB) \
    "local p, gone = ARGV[1] .. '|', {}\n" \
    "local flat = redis.call('HGETALL', KEYS[2])\n" \
    "for i = 1, #flat, 2 do\n" \
    "  if string.sub(flat[i], 1, #p) == p then\n" \
    "    local user = string.sub(flat[i], #p + 1)\n" \
    "    redis.call('HDEL', KEYS[2], flat[i])\n" \
    "    if redis.call('HINCRBY', KEYS[3], user, -tonumber(flat[i + 1])) <= 0 then\n" \
    "      redis.call('HDEL', KEYS[3], user)\n" \
    "      redis.call('HDEL', KEYS[1], user)\n" \
    "      local s = redis.call('INCR', KEYS[4])\n" \
    "      if redis.call('HLEN', KEYS[1]) == 0 then redis.call('PEXPIRE', KEYS[4], 86400000) else redis.call('PERSIST', KEYS[4]) end\n" \
    "      redis.call('" PUB "', ARGV[2], 'P' .. s .. ' r ' .. user)\n" \
    "      gone[#gone + 1] = user\n" \
    "    end\n" \
    "  end\n" \
    "end\n" \
    "local vacated = 0\n" \
    "if redis.call('SREM', KEYS[5], ARGV[1]) == 1 and redis.call('SCARD', KEYS[5]) == 0 then vacated = 1 end\n" \
    "return {vacated, gone}\n"
static const char presenceredis_sweep_lua[] = PRESENCEREDIS_SWEEP_LUA("PUBLISH");
static const char presenceredis_ssweep_lua[] = PRESENCEREDIS_SWEEP_LUA("SPUBLISH");

/* The variant for the link: a Redis Cluster's member events go by SPUBLISH
 * on the channel's shard, in order with its messages (the pub/sub channel
 * shares the keys' hash tag, so each script stays in one slot). */
#define PRESENCEREDIS_LUA(p, name) ((p)->sharded ? presenceredis_s##name##_lua : presenceredis_##name##_lua)
#define PRESENCEREDIS_LUA_LEN(p, name) \
    ((p)->sharded ? sizeof(presenceredis_s##name##_lua) - 1 : sizeof(presenceredis_##name##_lua) - 1)

/* KEYS: live nodes. ARGV: node, ttl. This node lives ttl ms more (Redis's
 * clock, so nodes' clocks need not agree); returns {1 if it was not
 * listed (new, or swept as dead), up to 16 nodes past their deadline}. */
static const char presenceredis_beat_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local new = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])\n"
    "return {new, redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 16)}\n";

/* KEYS: a node's channels. ARGV: channel, serial. The node had no users
 * left on the channel as of serial: forget it unless a later join came. */
static const char presenceredis_forget_lua[] =
    "local s = redis.call('ZSCORE', KEYS[1], ARGV[1])\n"
    "if s and tonumber(s) <= tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) end\n"
    "return 0\n";

/* KEYS: occupying nodes, per node (as a leave's). ARGV: node, 1 (the node
 * gained its first subscriber of the channel) or 0 (lost its last).
 * Returns {1 when the channel changed for the cluster (occupied /
 * vacated), 1 when the node still has users or subscribers here}. */
static const char presenceredis_occupy_lua[] =
    "if ARGV[2] == '1' then\n"
    "  local n = redis.call('SADD', KEYS[1], ARGV[1])\n"
    "  return {(n == 1 and redis.call('SCARD', KEYS[1]) == 1) and 1 or 0, 1}\n"
    "end\n"
    "local n = redis.call('SREM', KEYS[1], ARGV[1])\n"
    "local changed = (n == 1 and redis.call('SCARD', KEYS[1]) == 0) and 1 or 0\n"
    "local p, more = ARGV[1] .. '|', 0\n"
    "for _, k in ipairs(redis.call('HKEYS', KEYS[2])) do\n"
    "  if string.sub(k, 1, #p) == p then more = 1; break end\n"
    "end\n"
    "return {changed, more}\n";


#define PRESENCEREDIS_KEY_MAX (PUSHER_CHANNEL_MAX + 40)

struct presenceredis {
    uv_loop_t *uv;
    hub_t *hub;
    redis_link_t *link;
    const config_t *const *cfg;
    uv_async_t ops;        /* the loops queued joins and leaves */
    uv_timer_t beat;
    char node[PRESENCEWIRE_NODE_ID_LEN + 1];
    uint64_t serial;       /* joins sent: scores in the node's channel set */
    int up, beaten, stopping, nclosing;
    int sharded;           /* a Redis Cluster: SPUBLISH */
};

/* A request in flight; op is the loop's (freed with it). */
typedef struct presenceredis_req {
    presenceredis_t *p;
    hub_presence_op_t *op;
    uint64_t serial;
    char node[PRESENCEWIRE_NODE_ID_LEN + 1];
} presenceredis_req_t;

static void presenceredis_new_id(presenceredis_t *p) {
    unsigned char r[PRESENCEWIRE_NODE_ID_LEN / 2];
    if (RAND_bytes(r, sizeof(r)) != 1)
        for (size_t i = 0; i < sizeof(r); i++) r[i] = (unsigned char)rand();
    for (size_t i = 0; i < sizeof(r); i++) snprintf(p->node + 2 * i, 3, "%02x", r[i]);
    p->beaten = 0;
}

/* The four keys of a channel, as argv entries. */
typedef struct presenceredis_keys {
    char k[5][PRESENCEREDIS_KEY_MAX];
    size_t n[5];
    char pubsub[PRESENCEREDIS_KEY_MAX];
    size_t npubsub;
} presenceredis_keys_t;

static int presenceredis_keys(presenceredis_t *p, presenceredis_keys_t *k, const char *name,
                              size_t len) {
    for (int i = 0; i < 5; i++) {
        int n = presencewire_key(k->k[i], sizeof(k->k[i]), i, name, len);
        if (n < 0) return -1;
        k->n[i] = (size_t)n;
    }
    int n = rediswire_key(k->pubsub, sizeof(k->pubsub), REDISWIRE_KEY_PUBSUB, name, len,
                          redis_link_db(p->link));
    if (n < 0) return -1;
    k->npubsub = (size_t)n;
    return 0;
}

static int presenceredis_int(const redisReply *r, long long *v) {
    if (r->type == REDIS_REPLY_INTEGER) *v = r->integer;
    else if (r->type == REDIS_REPLY_STRING) *v = strtoll(r->str, NULL, 10);
    else return -1;
    return 0;
}

/* subscription_succeeded's data from HGETALL's pairs:
 * {"presence":{"ids":[…],"hash":{id:info,…},"count":n}}. */
static char *presenceredis_roll(const redisReply *flat) {
    size_t cap = 64;
    for (size_t i = 0; i < flat->elements; i++) cap += 2 * flat->element[i]->len + 8;
    char *s = malloc(cap);
    if (s == NULL) return NULL;
    size_t o = (size_t)snprintf(s, cap, "{\"presence\":{\"ids\":[");
    for (size_t i = 0; i + 1 < flat->elements; i += 2)
        o += (size_t)snprintf(s + o, cap - o, "%s\"%s\"", i ? "," : "", flat->element[i]->str);
    o += (size_t)snprintf(s + o, cap - o, "],\"hash\":{");
    for (size_t i = 0; i + 1 < flat->elements; i += 2)
        o += (size_t)snprintf(s + o, cap - o, "%s\"%s\":%s", i ? "," : "", flat->element[i]->str,
                              flat->element[i + 1]->str);
    snprintf(s + o, cap - o, "},\"count\":%zu}}", flat->elements / 2);
    return s;
}

static void presenceredis_on_joined(redisAsyncContext *ac, void *reply, void *priv) {
    presenceredis_req_t *q = priv;
    hub_presence_op_t *op = q->op;
    redisReply *r = reply;
    long long added = 0, seq = 0;
    int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
             presenceredis_int(r->element[0], &added) == 0 &&
             presenceredis_int(r->element[1], &seq) == 0 &&
             r->element[2]->type == REDIS_REPLY_ARRAY;
    for (size_t i = 0; ok && i < r->element[2]->elements; i++)
        ok = r->element[2]->element[i]->type == REDIS_REPLY_STRING;
    if (r && !ok)
        log_error("redis: presence join on %s refused: %s", op->name,
                  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer");
    char *roll = ok && added >= 0 ? presenceredis_roll(r->element[2]) : NULL;
    int status = !ok ? HUB_EDOWN : added < 0 ? HUB_EFULL : roll ? 0 : HUB_ENOMEM;
    if (added == 1 && ok) hub_hook_queue(q->p->hub, WEBHOOK_MEMBER_ADDED, op->name, op->name_len, op->user_id);
    hub_presence_note(q->p->hub, HUB_NOTE_JOINED, op->name, op->name_len, (uint64_t)seq, NULL, 0,
                      op->loop, op->token, status, roll);
    free(op);
    free(q);
}

static void presenceredis_on_none(redisAsyncContext *ac, void *reply, void *priv) {}

/* The node has neither users nor subscribers of the channel left as of
 * serial: it leaves the node's channel set, unless a later join came. */
static void presenceredis_forget(presenceredis_t *p, const char *node, const char *name, size_t len,
                                 uint64_t serial) {
    char key[PRESENCEREDIS_KEY_MAX], sv[24];
    int kn = presencewire_node_key(key, sizeof(key), node);
    int sn = snprintf(sv, sizeof(sv), "%llu", (unsigned long long)serial);
    if (kn < 0 || p->stopping) return;
    const char *argv[] = {"EVAL", presenceredis_forget_lua, "1", key, name, sv};
    size_t lens[] = {4, sizeof(presenceredis_forget_lua) - 1, 1, (size_t)kn, len, (size_t)sn};
    redis_command_for(p->link, key + 8, (size_t)kn - 12, presenceredis_on_none, NULL, 6, argv, lens);
}

/* Before a join (of a connection or of the node as a subscriber): the
 * channel goes into the node's set, so a sweep finds it if the node dies. */
static uint64_t presenceredis_register(presenceredis_t *p, const char *name, size_t len) {
    char nkey[PRESENCEREDIS_KEY_MAX], serial[24];
    int kn = presencewire_node_key(nkey, sizeof(nkey), p->node);
    int sn = snprintf(serial, sizeof(serial), "%llu", (unsigned long long)++p->serial);
    const char *za[] = {"ZADD", nkey, serial, name};
    size_t zl[] = {4, (size_t)kn, (size_t)sn, len};
    if (kn > 0) redis_command_for(p->link, nkey + 8, (size_t)kn - 12, presenceredis_on_none, NULL, 4, za, zl);
    return p->serial;
}

static void presenceredis_on_left(redisAsyncContext *ac, void *reply, void *priv) {
    presenceredis_req_t *q = priv;
    hub_presence_op_t *op = q->op;
    redisReply *r = reply;
    long long removed = 0, more = 1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        presenceredis_int(r->element[0], &removed) == 0 &&
        presenceredis_int(r->element[1], &more) == 0) {
        if (removed == 1) hub_hook_queue(q->p->hub, WEBHOOK_MEMBER_REMOVED, op->name, op->name_len, op->user_id);
        if (!more) presenceredis_forget(q->p, q->node, op->name, op->name_len, q->serial);
    } else if (r) {
        log_error("redis: presence leave on %s refused: %s", op->name,
                  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer");
    }
    free(op);
    free(q);
}

/* Each op in order on the command connection: Redis runs a node's joins
 * and leaves in the order its loops queued them. */
static void presenceredis_op_send(presenceredis_t *p, hub_presence_op_t *op) {
    presenceredis_keys_t k;
    presenceredis_req_t *q = calloc(1, sizeof(*q));
    if (q == NULL || !p->up || p->stopping || presenceredis_keys(p, &k, op->name, op->name_len) != 0) {
        free(q);
        if (op->join)
            hub_presence_note(p->hub, HUB_NOTE_JOINED, op->name, op->name_len, 0, NULL, 0, op->loop,
                              op->token, HUB_EDOWN, NULL);
        free(op);
        return;
    }
    q->p = p;
    q->op = op;
    memcpy(q->node, p->node, sizeof(q->node));
    char max[24];
    int ml = snprintf(max, sizeof(max), "%u", op->max);
    size_t nl = strlen(p->node), ul = strlen(op->user_id);
    int rc;
    if (op->join) {
        presenceredis_register(p, op->name, op->name_len);
        const char *argv[] = {"EVAL", PRESENCEREDIS_LUA(p, join), "4", k.k[0], k.k[1], k.k[2], k.k[3],
                              p->node, op->user_id, op->info ? op->info : "null", max, k.pubsub};
        size_t lens[] = {4, PRESENCEREDIS_LUA_LEN(p, join), 1, k.n[0], k.n[1], k.n[2], k.n[3],
                         nl, ul, op->info ? strlen(op->info) : 4, (size_t)ml, k.npubsub};
        rc = redis_command_for(p->link, op->name, op->name_len, presenceredis_on_joined, q, 12, argv, lens);
    } else {
        q->serial = p->serial;
        const char *argv[] = {"EVAL", PRESENCEREDIS_LUA(p, leave), "5", k.k[0], k.k[1], k.k[2], k.k[3],
                              k.k[4], p->node, op->user_id, k.pubsub};
        size_t lens[] = {4, PRESENCEREDIS_LUA_LEN(p, leave), 1, k.n[0], k.n[1], k.n[2], k.n[3],
                         k.n[4], nl, ul, k.npubsub};
        rc = redis_command_for(p->link, op->name, op->name_len, presenceredis_on_left, q, 11, argv, lens);
    }
    if (rc != 0) {
        q->op = NULL;
        free(q);
        if (op->join)
            hub_presence_note(p->hub, HUB_NOTE_JOINED, op->name, op->name_len, 0, NULL, 0, op->loop,
                              op->token, HUB_EDOWN, NULL);
        free(op);
    }
}

static void presenceredis_on_ops(uv_async_t *a) {
    presenceredis_t *p = a->data;
    hub_presence_op_t *op;
    while ((op = hub_presence_op_pop(p->hub)) != NULL) presenceredis_op_send(p, op);
}

/* A member event from the channel's pub/sub: its frame is built once here
 * and handed to every loop with subscribers of the channel. */
static void presenceredis_on_event(void *arg, const char *name, size_t len, const char *s, size_t n) {
    presenceredis_t *p = arg;
    presencewire_event_t e;
    char data[PUSHER_USER_ID_MAX + PUSHER_CHANNEL_DATA_MAX + 40];
    if (presencewire_event_decode(s, n, &e) != 0 || presencewire_event_data(data, sizeof(data), &e) < 0) {
        log_warn("redis: a malformed member event on %.*s: ignored", (int)len, name);
        return;
    }
    size_t off = 0;
    buf_t *frame = pusher_event_frame(e.added ? "pusher_internal:member_added" : "pusher_internal:member_removed",
                                      name, len, data, &off);
    if (frame == NULL) {
        log_error("out of memory: a member event of %.*s not delivered", (int)len, name);
        return;
    }
    hub_presence_note(p->hub, HUB_NOTE_EVENT, name, len, e.seq, frame, off, 0, 0, 0, NULL);
    buf_unref(frame);
}

/* ---- occupancy: channel_occupied / channel_vacated once per cluster ---- */

typedef struct presenceredis_occ {
    presenceredis_t *p;
    int on;
    uint64_t serial;
    char node[PRESENCEWIRE_NODE_ID_LEN + 1];
    size_t len;
    char name[];
} presenceredis_occ_t;

static void presenceredis_on_occupied(redisAsyncContext *ac, void *reply, void *priv) {
    presenceredis_occ_t *q = priv;
    redisReply *r = reply;
    long long changed = 0, more = 1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        presenceredis_int(r->element[0], &changed) == 0 && presenceredis_int(r->element[1], &more) == 0) {
        if (changed == 1)
            hub_hook_queue(q->p->hub, q->on ? WEBHOOK_CHANNEL_OCCUPIED : WEBHOOK_CHANNEL_VACATED,
                           q->name, q->len, NULL);
        if (!q->on && !more) presenceredis_forget(q->p, q->node, q->name, q->len, q->serial);
    } else if (r) {
        log_error("redis: occupancy of %.*s refused: %s", (int)q->len, q->name,
                  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer");
    }
    free(q);
}

/* The node subscribed to a channel in Redis (its first subscriber of any
 * protocol) or left it (its last): Redis decides whether the cluster's
 * occupancy changed, and this node alone sends the webhook. */
static void presenceredis_on_occupy(void *arg, const char *name, size_t len, int on) {
    presenceredis_t *p = arg;
    presenceredis_keys_t k;
    presenceredis_occ_t *q = p->stopping ? NULL : malloc(sizeof(*q) + len);
    if (q == NULL || presenceredis_keys(p, &k, name, len) != 0) {
        free(q);
        return;
    }
    q->p = p;
    q->on = on;
    q->serial = on ? presenceredis_register(p, name, len) : p->serial;
    memcpy(q->node, p->node, sizeof(q->node));
    q->len = len;
    memcpy(q->name, name, len);
    const char *argv[] = {"EVAL", presenceredis_occupy_lua, "2", k.k[PRESENCEWIRE_OCCUPIED],
                          k.k[PRESENCEWIRE_NODES], p->node, on ? "1" : "0"};
    size_t lens[] = {4, sizeof(presenceredis_occupy_lua) - 1, 1, k.n[PRESENCEWIRE_OCCUPIED],
                     k.n[PRESENCEWIRE_NODES], strlen(p->node), 1};
    if (redis_command_for(p->link, name, len, presenceredis_on_occupied, q, 7, argv, lens) != 0) free(q);
}

/* ---- liveness and sweeping -------------------------------------------- */

typedef struct presenceredis_sweep {
    presenceredis_t *p;
    size_t pending;
    int failed;
    char node[PRESENCEWIRE_NODE_ID_LEN * 2 + 1];
} presenceredis_sweep_t;

/* The node's channels are swept: forget the node (its set, its deadline). */
static void presenceredis_sweep_done(presenceredis_sweep_t *w) {
    presenceredis_t *p = w->p;
    char key[PRESENCEREDIS_KEY_MAX];
    int kn = presencewire_node_key(key, sizeof(key), w->node);
    if (!w->failed && kn > 0 && !p->stopping) {
        log_info("presence: node %s is gone: its members were removed", w->node);
        const char *del[] = {"DEL", key};
        size_t dl[] = {3, (size_t)kn};
        redis_command_for(p->link, key + 8, (size_t)kn - 12, presenceredis_on_none, NULL, 2, del, dl);
        const char *zrem[] = {"ZREM", PRESENCEWIRE_LIVE_KEY, w->node};
        size_t zl[] = {4, sizeof(PRESENCEWIRE_LIVE_KEY) - 1, strlen(w->node)};
        redis_command_for(p->link, "#nodes", 6, presenceredis_on_none, NULL, 3, zrem, zl);
    }
    free(w);
}

typedef struct presenceredis_swept {
    presenceredis_sweep_t *w;
    size_t len;
    char name[];
} presenceredis_swept_t;

static void presenceredis_on_swept(redisAsyncContext *ac, void *reply, void *priv) {
    presenceredis_swept_t *s = priv;
    presenceredis_sweep_t *w = s->w;
    redisReply *r = reply;
    long long vacated = 0;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        presenceredis_int(r->element[0], &vacated) == 0 && r->element[1]->type == REDIS_REPLY_ARRAY) {
        redisReply *gone = r->element[1];
        for (size_t i = 0; i < gone->elements; i++)
            if (gone->element[i]->type == REDIS_REPLY_STRING)
                hub_hook_queue(w->p->hub, WEBHOOK_MEMBER_REMOVED, s->name, s->len, gone->element[i]->str);
        if (vacated == 1) hub_hook_queue(w->p->hub, WEBHOOK_CHANNEL_VACATED, s->name, s->len, NULL);
    } else {
        w->failed = 1;
    }
    free(s);
    if (--w->pending == 0) presenceredis_sweep_done(w);
}

static void presenceredis_on_node_channels(redisAsyncContext *ac, void *reply, void *priv) {
    presenceredis_sweep_t *w = priv;
    presenceredis_t *p = w->p;
    redisReply *r = reply;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || p->stopping) {
        free(w);
        return;
    }
    w->pending = 1; /* held until every channel is sent */
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *c = r->element[i];
        presenceredis_keys_t k;
        if (c->type != REDIS_REPLY_STRING || herald_channel_check(c->str, c->len) != 0 ||
            presenceredis_keys(p, &k, c->str, c->len) != 0)
            continue;
        presenceredis_swept_t *s = malloc(sizeof(*s) + c->len + 1);
        if (s == NULL) {
            w->failed = 1;
            continue;
        }
        s->w = w;
        s->len = c->len;
        memcpy(s->name, c->str, c->len + 1);
        const char *argv[] = {"EVAL", PRESENCEREDIS_LUA(p, sweep), "5", k.k[0], k.k[1], k.k[2], k.k[3],
                              k.k[4], w->node, k.pubsub};
        size_t lens[] = {4, PRESENCEREDIS_LUA_LEN(p, sweep), 1, k.n[0], k.n[1], k.n[2], k.n[3],
                         k.n[4], strlen(w->node), k.npubsub};
        if (redis_command_for(p->link, c->str, c->len, presenceredis_on_swept, s, 10, argv, lens) == 0) {
            w->pending++;
        } else {
            w->failed = 1;
            free(s);
        }
    }
    if (--w->pending == 0) presenceredis_sweep_done(w);
}

static void presenceredis_sweep(presenceredis_t *p, const char *node, size_t len) {
    char key[PRESENCEREDIS_KEY_MAX];
    presenceredis_sweep_t *w = calloc(1, sizeof(*w));
    if (w == NULL || len >= sizeof(w->node)) {
        free(w);
        return;
    }
    w->p = p;
    memcpy(w->node, node, len);
    int kn = presencewire_node_key(key, sizeof(key), w->node);
    const char *argv[] = {"ZRANGE", key, "0", "-1"};
    size_t lens[] = {6, (size_t)kn, 1, 2};
    if (kn < 0 || redis_command_for(p->link, key + 8, (size_t)kn - 12, presenceredis_on_node_channels, w, 4,
                                    argv, lens) != 0)
        free(w);
}

static void presenceredis_on_beat(redisAsyncContext *ac, void *reply, void *priv) {
    presenceredis_t *p = priv;
    redisReply *r = reply;
    if (r == NULL || p->stopping) return;
    long long fresh = 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || presenceredis_int(r->element[0], &fresh) != 0 ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
        log_error("redis: presence liveness refused: %s", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer");
        return;
    }
    if (fresh && p->beaten) {
        /* others took this node for dead and removed its members */
        log_warn("presence: this node was taken for dead: its presence subscribers join again");
        hub_presence_reset_all(p->hub);
        presenceredis_new_id(p);
        return;
    }
    p->beaten = 1;
    for (size_t i = 0; i < r->element[1]->elements; i++) {
        redisReply *d = r->element[1]->element[i];
        if (d->type == REDIS_REPLY_STRING && strcmp(d->str, p->node) != 0) presenceredis_sweep(p, d->str, d->len);
    }
}

static void presenceredis_on_beat_timer(uv_timer_t *t) {
    presenceredis_t *p = t->data;
    if (!p->up || p->stopping) return;
    char ttl[24];
    int tl = snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)(*p->cfg)->presence_node_ttl_ms);
    const char *argv[] = {"EVAL", presenceredis_beat_lua, "1", PRESENCEWIRE_LIVE_KEY, p->node, ttl};
    size_t lens[] = {4, sizeof(presenceredis_beat_lua) - 1, 1, sizeof(PRESENCEWIRE_LIVE_KEY) - 1,
                     strlen(p->node), (size_t)tl};
    redis_command_for(p->link, "#nodes", 6, presenceredis_on_beat, p, 6, argv, lens);
}

static void presenceredis_on_up(void *arg) {
    presenceredis_t *p = arg;
    p->up = 1;
    hub_presence_set_up(p->hub, 1);
    uint64_t every = (*p->cfg)->presence_node_ttl_ms / 3;
    uv_timer_start(&p->beat, presenceredis_on_beat_timer, 0, every ? every : 1);
}

/* Member events may have been lost: every presence subscriber here joins
 * again, under a new id (the old one's members are swept as a dead node's). */
static void presenceredis_on_down(void *arg) {
    presenceredis_t *p = arg;
    if (!p->up) return;
    p->up = 0;
    hub_presence_set_up(p->hub, 0);
    uv_timer_stop(&p->beat);
    hub_presence_reset_all(p->hub);
    presenceredis_new_id(p);
}

/* A Redis Cluster moved the channel's slot: member events published on
 * its new master before this node subscribed there never came, so its
 * presence subscribers here join again (on the new master). */
static void presenceredis_on_lost(void *arg, const char *name, size_t len) {
    presenceredis_t *p = arg;
    if (len > 9 && memcmp(name, "presence-", 9) == 0)
        hub_presence_note(p->hub, HUB_NOTE_RESET, name, len, 0, NULL, 0, 0, 0, 0, NULL);
}

/* ---- life ------------------------------------------------------------- */

presenceredis_t *presenceredis_start(uv_loop_t *uv, hub_t *hub, redis_link_t *l,
                                     const config_t *const *cfg) {
    presenceredis_t *p = calloc(1, sizeof(*p));
    if (p == NULL) return NULL;
    p->uv = uv;
    p->hub = hub;
    p->link = l;
    p->cfg = cfg;
    p->sharded = redis_link_sharded(l);
    presenceredis_new_id(p);
    uv_async_init(uv, &p->ops, presenceredis_on_ops);
    uv_timer_init(uv, &p->beat);
    p->ops.data = p->beat.data = p;
    redis_hooks_t h = {presenceredis_on_up, presenceredis_on_down, presenceredis_on_event,
                       presenceredis_on_occupy, presenceredis_on_lost, p};
    redis_link_hooks(l, &h);
    hub_presence_ops_open(hub, &p->ops);
    if (redis_link_is_up(l)) presenceredis_on_up(p);
    return p;
}

static void presenceredis_on_closed(uv_handle_t *h) {
    presenceredis_t *p = h->data;
    if (--p->nclosing == 0) free(p);
}

void presenceredis_stop(presenceredis_t *p) {
    if (p == NULL) return;
    p->stopping = 1;
    hub_presence_set_up(p->hub, 0);
    redis_hooks_t none = {0};
    redis_link_hooks(p->link, &none);
    hub_presence_ops_open(p->hub, NULL);
    p->nclosing = 2;
    uv_close((uv_handle_t *)&p->ops, presenceredis_on_closed);
    uv_close((uv_handle_t *)&p->beat, presenceredis_on_closed);
}

