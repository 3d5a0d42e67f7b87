#include "rediscluster.h"

#include "clusterwire.h"
#include "digest.h"
#include "log.h"
#include "redisshard.h"
#include "redisuv.h"
#include "rediswire.h"
#include "signed.h"

#include <hiredis/async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RC_TICK_MS 100
#define RC_PING_NS UINT64_C(1000000000)
#define RC_BACKOFF_MIN_MS 100
#define RC_BACKOFF_MAX_MS 5000

/* A master of the slot map, and its two connections. */
typedef struct rc_master {
    struct rediscluster *rc;
    int idx;
    char host[256];            /* "": a free entry */
    int port;
    int in_map;                /* serves slots in the current map */
    redisAsyncContext *cmd;    /* NULL while down */
    redisshard_t *sub;
    int cmd_ready, sub_ready, up, dead, ever_up;
    uint64_t backoff_ms, retry_ns;
    uint64_t ping_ns, sub_ping_ns, pinged_ns; /* outstanding pings (0: none), the last sent */
} rc_master_t;

struct rediscluster {
    redischan_set_t ch;        /* first: the channels, with rc_ops */
    uv_loop_t *uv;
    hub_t *hub;
    const config_t *const *cfg;
    stats_t *stats;
    clusterwire_seeds_t seeds;
    char sha_publish[41], sha_keyed[41];
    char *keyed_lua;           /* the SPUBLISH script inside the idempotency key check */
    uint8_t owner[CLUSTERWIRE_SLOTS];  /* slot -> index in m, or CLUSTERWIRE_NONE */
    rc_master_t m[CLUSTERWIRE_MAX_MASTERS];
    clusterwire_map_t map;     /* a CLUSTER SLOTS answer being applied */
    redisAsyncContext *probe;  /* the connection asking CLUSTER SLOTS */
    char probe_host[256];
    uint64_t probe_ns;
    size_t probe_next;         /* the next address to ask */
    int need_map, mapped, stopping, nclosing;
    uint64_t map_backoff_ms, map_ns;   /* retry after a failed read */
    uint64_t map_gap_ms, mapped_ns;    /* between reads that succeed (see rc_on_slots) */
    uv_timer_t tick;
    uv_async_t interest;
    redis_hooks_t hooks;       /* presence (presenceredis.c) */
    int hooked_up;             /* hooks.up called last, not hooks.down */
};

static void rc_on_tick(uv_timer_t *t);

/* Act now (a teardown, a map to read) rather than at the next tick. */
static void rc_kick(rediscluster_t *rc) {
    if (!rc->stopping) uv_timer_start(&rc->tick, rc_on_tick, 0, 0);
}

/* ---- the figures -------------------------------------------------------- */

static void rc_stats(rediscluster_t *rc) {
    uint64_t masters = 0, up = 0;
    for (size_t i = 0; i < CLUSTERWIRE_MAX_MASTERS; i++) {
        if (!rc->m[i].host[0] || !rc->m[i].in_map) continue;
        masters++;
        up += rc->m[i].up != 0;
    }
    rc->stats->redis_cluster_masters = masters;
    rc->stats->redis_cluster_masters_up = up;
    int covered = rc->mapped;
    for (size_t s = 0; covered && s < CLUSTERWIRE_SLOTS; s++) covered = rc->owner[s] != CLUSTERWIRE_NONE;
    rc->ch.up = masters > 0 && up == masters && covered;
    rc->stats->redis_link_up = (uint64_t)rc->ch.up;
    /* presence: any master lost may have dropped member events */
    if (rc->ch.up != rc->hooked_up && !rc->stopping) {
        rc->hooked_up = rc->ch.up;
        if (rc->ch.up && rc->hooks.up) {
            rc->hooks.up(rc->hooks.arg);
            redischan_occupy_all(&rc->ch); /* under the node's new presence id */
        } else if (!rc->ch.up && rc->hooks.down) {
            rc->hooks.down(rc->hooks.arg);
        }
    }
}

/* ---- masters: connect, ready, lost ------------------------------------- */

/* Torn down on the next tick, outside hiredis's callbacks. */
static void rc_master_dead(rc_master_t *m, const char *why) {
    rediscluster_t *rc = m->rc;
    if (m->dead || rc->stopping) return;
    if (m->up) log_warn("redis cluster: %s:%d lost (%s); its channels wait, reconnecting", m->host, m->port, why);
    else if (m->backoff_ms == RC_BACKOFF_MIN_MS) log_warn("redis cluster: %s:%d: %s", m->host, m->port, why);
    m->dead = 1;
    m->up = 0;
    rc->need_map = 1; /* a replica may have taken its slots */
    rc_kick(rc);
}

static void rc_teardown(rc_master_t *m) {
    rediscluster_t *rc = m->rc;
    redisAsyncContext *cmd = m->cmd;
    m->cmd = NULL;
    if (cmd) { /* pending callbacks get NULL answers: emits answer 503 */
        cmd->data = NULL;
        redisAsyncFree(cmd);
    }
    if (m->sub) redisshard_close(m->sub);
    m->sub = NULL;
    m->cmd_ready = m->sub_ready = m->up = 0;
    m->ping_ns = m->sub_ping_ns = 0;
    redischan_reset_shard(&rc->ch, m->idx);
}

static void rc_master_maybe_up(rc_master_t *m) {
    rediscluster_t *rc = m->rc;
    if (m->up || !m->cmd_ready || !m->sub_ready || m->dead) return;
    m->up = 1;
    m->backoff_ms = RC_BACKOFF_MIN_MS;
    if (m->ever_up++) rc->stats->redis_reconnects++;
    log_info("redis cluster: %s:%d up", m->host, m->port);
    rc_stats(rc);
    redischan_reroute(&rc->ch); /* its channels subscribe */
}

static void rc_on_cmd_setup(redisAsyncContext *ac, void *reply, void *priv) {
    rc_master_t *m = ac->data;
    redisReply *r = reply;
    if (m == NULL || r == NULL || r->type != REDIS_REPLY_ERROR) return;
    log_error("redis cluster: %s:%d: %s: %s", m->host, m->port, (const char *)priv, r->str);
    rc_master_dead(m, "setup refused");
}

static void rc_on_cmd_ping(redisAsyncContext *ac, void *reply, void *priv) {
    rc_master_t *m = ac->data;
    redisReply *r = reply;
    if (m == NULL || r == NULL) return;
    if (r->type == REDIS_REPLY_ERROR) {
        rc_master_dead(m, r->str);
        return;
    }
    if (m->ping_ns) m->rc->stats->redis_rtt = (uv_hrtime() - m->ping_ns) / 1000;
    m->ping_ns = 0;
    if (!m->cmd_ready) {
        m->cmd_ready = 1;
        rc_master_maybe_up(m);
    }
}

static void rc_on_cmd_connect(const redisAsyncContext *ac, int status) {
    rc_master_t *m = ac->data;
    if (m == NULL || status == REDIS_OK || ac != m->cmd) return;
    m->cmd = NULL; /* hiredis frees it after this callback */
    rc_master_dead(m, ac->errstr);
}

static void rc_on_cmd_disconnect(const redisAsyncContext *ac, int status) {
    rc_master_t *m = ac->data;
    if (m == NULL || ac != m->cmd) return;
    m->cmd = NULL;
    rc_master_dead(m, status == REDIS_OK ? "closed" : ac->errstr);
}

static void rc_on_sub_state(void *arg, int ok, const char *why) {
    rc_master_t *m = arg;
    if (!ok) {
        rc_master_dead(m, why);
        return;
    }
    m->sub_ready = 1;
    rc_master_maybe_up(m);
}

/* Pushes go to the channels; a PING's answer (+PONG, or [pong, ""] once
 * subscribed) clears the ping; an error answer is an SSUBSCRIBE refused
 * (MOVED, CLUSTERDOWN: the slot is not this master's), which names no
 * channel: the connection is renewed and the map read again. */
static void rc_on_sub_reply(void *arg, const redisReply *r) {
    rc_master_t *m = arg;
    if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0) {
        m->sub_ping_ns = 0;
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
               r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "pong") == 0) {
        m->sub_ping_ns = 0;
    } else if (r->type == REDIS_REPLY_ARRAY) {
        redischan_on_push(&m->rc->ch, r, m->idx);
    } else if (r->type == REDIS_REPLY_ERROR) {
        log_warn("redis cluster: %s:%d refused a subscription: %s", m->host, m->port, r->str);
        if (strncmp(r->str, "MOVED", 5) == 0) m->rc->stats->redis_cluster_moved++;
        rc_master_dead(m, "subscription refused");
    }
}

static void rc_auth(rediscluster_t *rc, redisAsyncContext *ac, redisCallbackFn *cb) {
    const rediswire_addr_t *a = &rc->seeds.auth;
    if (!a->has_password) return;
    if (a->user[0])
        redisAsyncCommand(ac, cb, "AUTH", "AUTH %s %s", a->user, a->password);
    else
        redisAsyncCommand(ac, cb, "AUTH", "AUTH %s", a->password);
}

static redisAsyncContext *rc_async_open(rediscluster_t *rc, const char *host, int port, void *data,
                                        redisConnectCallback *on_connect,
                                        redisDisconnectCallback *on_disconnect) {
    redisAsyncContext *ac = redisAsyncConnect(host, port);
    if (ac == NULL) return NULL;
    char who[80];
    snprintf(who, sizeof(who), "redis cluster %s:%d", host, port);
    if (ac->err || redisuv_attach(ac, rc->uv, redisuv_answer_max(*rc->cfg), who) != 0) {
        log_warn("redis cluster: cannot connect to %s:%d: %s", host, port,
                 ac->err ? ac->errstr : "out of memory");
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = data;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

/* Commands are buffered before the connection completes, in order: AUTH,
 * the name, the scripts, then a PING whose answer says it is ready. */
static void rc_connect(rc_master_t *m) {
    rediscluster_t *rc = m->rc;
    char name[64];
    snprintf(name, sizeof(name), "heraldd-%d-ssub", (int)getpid());
    m->cmd = rc_async_open(rc, m->host, m->port, m, rc_on_cmd_connect, rc_on_cmd_disconnect);
    /* an smessage: a message of at most max_emit_body_bytes, its id, its
     * channel's name and RESP's framing */
    size_t max_answer = (*rc->cfg)->max_emit_body_bytes + 65536;
    m->sub = m->cmd ? redisshard_open(rc->uv, m->host, m->port, &rc->seeds.auth, name, max_answer,
                                      rc_on_sub_state, rc_on_sub_reply, m)
                    : NULL;
    if (m->cmd == NULL || m->sub == NULL) {
        rc_master_dead(m, "cannot connect");
        return;
    }
    rc_auth(rc, m->cmd, rc_on_cmd_setup);
    redisAsyncCommand(m->cmd, NULL, NULL, "CLIENT SETNAME heraldd-%d-cmd", (int)getpid());
    redisAsyncCommand(m->cmd, rc_on_cmd_setup, "SCRIPT LOAD", "SCRIPT LOAD %s", rediswire_spublish_lua);
    redisAsyncCommand(m->cmd, rc_on_cmd_setup, "SCRIPT LOAD", "SCRIPT LOAD %s", rediswire_load_lua);
    redisAsyncCommand(m->cmd, rc_on_cmd_setup, "SCRIPT LOAD", "SCRIPT LOAD %s", rc->keyed_lua);
    m->ping_ns = m->pinged_ns = uv_hrtime();
    redisAsyncCommand(m->cmd, rc_on_cmd_ping, NULL, "PING");
}

/* ---- the slot map ------------------------------------------------------- */

static rc_master_t *rc_master_find(rediscluster_t *rc, const char *host, int port) {
    for (size_t i = 0; i < CLUSTERWIRE_MAX_MASTERS; i++)
        if (rc->m[i].host[0] && rc->m[i].port == port && strcmp(rc->m[i].host, host) == 0)
            return &rc->m[i];
    return NULL;
}

static rc_master_t *rc_master_add(rediscluster_t *rc, const char *host, int port) {
    for (size_t i = 0; i < CLUSTERWIRE_MAX_MASTERS; i++) {
        rc_master_t *m = &rc->m[i];
        if (m->host[0] || m->cmd || m->sub) continue;
        memset(m, 0, sizeof(*m));
        m->rc = rc;
        m->idx = (int)i;
        snprintf(m->host, sizeof(m->host), "%s", host);
        m->port = port;
        m->backoff_ms = RC_BACKOFF_MIN_MS;
        return m;
    }
    return NULL;
}

/* A new map: masters found or added, the ones gone dropped (next tick),
 * and every channel not on its slot's master moves there. */
static void rc_map_apply(rediscluster_t *rc) {
    clusterwire_map_t *map = &rc->map;
    int idx[CLUSTERWIRE_MAX_MASTERS];
    for (size_t i = 0; i < CLUSTERWIRE_MAX_MASTERS; i++) rc->m[i].in_map = 0;
    for (size_t i = 0; i < map->nnodes; i++) {
        rc_master_t *m = rc_master_find(rc, map->node[i].host, map->node[i].port);
        if (m == NULL) m = rc_master_add(rc, map->node[i].host, map->node[i].port);
        idx[i] = m ? m->idx : CLUSTERWIRE_NONE;
        if (m) m->in_map = 1;
    }
    size_t unserved = 0;
    for (size_t s = 0; s < CLUSTERWIRE_SLOTS; s++) {
        uint8_t o = map->owner[s];
        rc->owner[s] = o == CLUSTERWIRE_NONE ? CLUSTERWIRE_NONE : (uint8_t)idx[o];
        unserved += rc->owner[s] == CLUSTERWIRE_NONE;
    }
    if (!rc->mapped || unserved)
        log_info("redis cluster: slot map from %s: %zu masters%s", rc->probe_host, map->nnodes,
                 unserved ? ", some slots unserved (emits to them answer 503)" : "");
    rc->mapped = 1;
    rc->stats->redis_cluster_slot_refreshes++;
    rc_stats(rc);
    redischan_reroute(&rc->ch);
    rc_kick(rc);
}

static void rc_map_retry(rediscluster_t *rc) {
    rc->probe_next++;
    rc->map_ns = uv_hrtime() + rc->map_backoff_ms * 1000000;
    rc->map_backoff_ms = rc->map_backoff_ms * 2 > RC_BACKOFF_MAX_MS ? RC_BACKOFF_MAX_MS
                                                                     : rc->map_backoff_ms * 2;
}

static void rc_on_slots(redisAsyncContext *ac, void *reply, void *priv) {
    rediscluster_t *rc = ac->data;
    redisReply *r = reply;
    if (rc == NULL || r == NULL) return;
    char why[200];
    if (clusterwire_slots_parse(r, rc->probe_host, &rc->map, why, sizeof(why)) == 0 &&
        rc->map.nnodes > 0) {
        /* the next read waits: asked for again within a second (a slot
         * refused again and again, CLUSTERDOWN while a master rejoins),
         * twice as long, up to the reconnect backoff's bound */
        uint64_t now = uv_hrtime();
        rc->map_gap_ms = now - rc->mapped_ns < 1000000000 && rc->map_gap_ms * 2 <= RC_BACKOFF_MAX_MS
                             ? rc->map_gap_ms * 2 : RC_BACKOFF_MIN_MS;
        rc->mapped_ns = now;
        rc->map_ns = now + rc->map_gap_ms * 1000000;
        rc->need_map = 0;
        rc->map_backoff_ms = RC_BACKOFF_MIN_MS;
        rc_map_apply(rc);
    } else {
        log_warn("redis cluster: %s: %s", rc->probe_host,
                 r->type == REDIS_REPLY_ERROR ? r->str : rc->map.nnodes ? why : "no slot served");
        rc_map_retry(rc);
    }
    redisAsyncDisconnect(ac); /* after this callback; its disconnect clears probe */
}

static void rc_on_probe_connect(const redisAsyncContext *ac, int status) {
    rediscluster_t *rc = ac->data;
    if (rc == NULL || status == REDIS_OK || ac != rc->probe) return;
    rc->probe = NULL;
    log_warn("redis cluster: cannot ask %s for the slot map: %s", rc->probe_host, ac->errstr);
    rc_map_retry(rc);
}

static void rc_on_probe_disconnect(const redisAsyncContext *ac, int status) {
    rediscluster_t *rc = ac->data;
    if (rc && ac == rc->probe) rc->probe = NULL;
}

/* Ask for the map: the masters known first (up ones), then the seeds, in
 * turn, one at a time. */
static void rc_probe_start(rediscluster_t *rc) {
    const char *cand[CLUSTERWIRE_MAX_MASTERS + CLUSTERWIRE_MAX_SEEDS];
    int port[CLUSTERWIRE_MAX_MASTERS + CLUSTERWIRE_MAX_SEEDS];
    size_t n = 0;
    for (size_t i = 0; i < CLUSTERWIRE_MAX_MASTERS; i++)
        if (rc->m[i].host[0] && rc->m[i].up) cand[n] = rc->m[i].host, port[n++] = rc->m[i].port;
    for (size_t i = 0; i < rc->seeds.n; i++)
        cand[n] = rc->seeds.seed[i].host, port[n++] = rc->seeds.seed[i].port;
    size_t k = rc->probe_next % n;
    snprintf(rc->probe_host, sizeof(rc->probe_host), "%s", cand[k]);
    rc->probe = rc_async_open(rc, cand[k], port[k], rc, rc_on_probe_connect, rc_on_probe_disconnect);
    if (rc->probe == NULL) {
        rc_map_retry(rc);
        return;
    }
    rc->probe_ns = uv_hrtime();
    rc_auth(rc, rc->probe, NULL);
    redisAsyncCommand(rc->probe, rc_on_slots, NULL, "CLUSTER SLOTS");
}

/* ---- the tick: teardowns, reconnects, pings, map ----------------------- */

static void rc_on_tick(uv_timer_t *t) {
    rediscluster_t *rc = t->data;
    uint64_t now = uv_hrtime(), timeout = (*rc->cfg)->redis_timeout_ms * 1000000;
    for (size_t i = 0; i < CLUSTERWIRE_MAX_MASTERS; i++) {
        rc_master_t *m = &rc->m[i];
        if (!m->host[0]) continue;
        if (m->dead) {
            rc_teardown(m);
            m->dead = 0;
            m->retry_ns = now + (m->backoff_ms + (uint64_t)(rand() % (int)(m->backoff_ms / 4 + 1))) * 1000000;
            m->backoff_ms = m->backoff_ms * 2 > RC_BACKOFF_MAX_MS ? RC_BACKOFF_MAX_MS : m->backoff_ms * 2;
        }
        if (!m->in_map) {
            if (m->cmd || m->sub) rc_teardown(m);
            m->host[0] = '\0';
            continue;
        }
        if (m->cmd == NULL && m->sub == NULL) {
            if (now >= m->retry_ns) rc_connect(m);
            continue;
        }
        if ((m->ping_ns && now - m->ping_ns > timeout) || (m->sub_ping_ns && now - m->sub_ping_ns > timeout)) {
            log_warn("redis cluster: %s:%d: no answer for %llu ms", m->host, m->port,
                     (unsigned long long)(*rc->cfg)->redis_timeout_ms);
            rc_master_dead(m, "timeout");
        } else if (m->up && now - m->pinged_ns >= RC_PING_NS) {
            m->pinged_ns = now;
            if (!m->ping_ns) {
                m->ping_ns = now;
                redisAsyncCommand(m->cmd, rc_on_cmd_ping, NULL, "PING");
            }
            if (!m->sub_ping_ns && redisshard_send(m->sub, 1, (const char *[]){"PING"}, (size_t[]){4}) == 0)
                m->sub_ping_ns = now;
        }
    }
    if (rc->probe && now - rc->probe_ns > timeout) {
        redisAsyncContext *p = rc->probe;
        rc->probe = NULL;
        p->data = NULL;
        redisAsyncFree(p);
        log_warn("redis cluster: %s: no slot map within redis_timeout_ms", rc->probe_host);
        rc_map_retry(rc);
    }
    if (rc->need_map && rc->probe == NULL && now >= rc->map_ns) rc_probe_start(rc);
    rc_stats(rc);
    uv_timer_start(&rc->tick, rc_on_tick, RC_TICK_MS, 0);
}

/* ---- the channels' way to the shards (redischan_ops_t) ----------------- */

static rediscluster_t *rc_of(redischan_set_t *s) {
    return (rediscluster_t *)(void *)((char *)s - offsetof(rediscluster_t, ch));
}

static int rc_channel_slot(const char *name, size_t len, char *key, size_t size, int *klen) {
    *klen = rediswire_key(key, size, REDISWIRE_KEY_PUBSUB, name, len, 0);
    return *klen < 0 ? -1 : (int)clusterwire_slot(key, (size_t)*klen);
}

static int rc_owner(redischan_set_t *s, const char *name, size_t len) {
    rediscluster_t *rc = rc_of(s);
    char key[HERALD_CHANNEL_MAX + 32];
    int kl, slot = rc_channel_slot(name, len, key, sizeof(key), &kl);
    if (slot < 0 || rc->owner[slot] == CLUSTERWIRE_NONE) return -1;
    return rc->m[rc->owner[slot]].up ? rc->owner[slot] : -1;
}

static int rc_subscribe(redischan_set_t *s, const char *name, size_t len) {
    rediscluster_t *rc = rc_of(s);
    char key[HERALD_CHANNEL_MAX + 32];
    int kl, o = rc_owner(s, name, len);
    if (o < 0 || rc_channel_slot(name, len, key, sizeof(key), &kl) < 0) return -1;
    const char *argv[2] = {"SSUBSCRIBE", key};
    size_t lens[2] = {10, (size_t)kl};
    return redisshard_send(rc->m[o].sub, 2, argv, lens) == 0 ? o : -1;
}

static void rc_unsubscribe(redischan_set_t *s, int shard, const char *name, size_t len) {
    rediscluster_t *rc = rc_of(s);
    rc_master_t *m = &rc->m[shard];
    char key[HERALD_CHANNEL_MAX + 32];
    int kl;
    if (m->sub == NULL || m->dead || rc_channel_slot(name, len, key, sizeof(key), &kl) < 0) return;
    const char *argv[2] = {"SUNSUBSCRIBE", key};
    size_t lens[2] = {12, (size_t)kl};
    redisshard_send(m->sub, 2, argv, lens);
}

static redisAsyncContext *rc_cmd(redischan_set_t *s, int shard) {
    rc_master_t *m = &rc_of(s)->m[shard];
    return m->up ? m->cmd : NULL;
}

static void rc_moved(redischan_set_t *s) {
    rediscluster_t *rc = rc_of(s);
    rc->need_map = 1;
    rc_kick(rc);
}

static void rc_fail(redischan_set_t *s, int shard, const char *why) {
    rediscluster_t *rc = rc_of(s);
    if (rc->m[shard].host[0]) rc_master_dead(&rc->m[shard], why);
}

static const redischan_ops_t rc_ops = {rc_owner, rc_subscribe, rc_unsubscribe, rc_cmd, rc_moved,
                                       rc_fail};

/* ---- what the publish side (clusterpub.c) uses ------------------------- */

redisAsyncContext *rediscluster_cmd_for(rediscluster_t *rc, unsigned slot, int *shard) {
    uint8_t o = rc->owner[slot];
    if (o == CLUSTERWIRE_NONE || !rc->m[o].up) return NULL;
    *shard = o;
    return rc->m[o].cmd;
}

redisAsyncContext *rediscluster_cmd_at(rediscluster_t *rc, int from, const char *host, int port,
                                       int *shard) {
    rc_master_t *m = rc_master_find(rc, host[0] ? host : rc->m[from].host, port);
    if (m == NULL || !m->up) return NULL;
    *shard = m->idx;
    return m->cmd;
}

void rediscluster_redirected(rediscluster_t *rc, unsigned slot, int shard) {
    rc->stats->redis_cluster_moved++;
    if (shard >= 0) rc->owner[slot] = (uint8_t)shard;
    rc_moved(&rc->ch);
}

void rediscluster_shard_fail(rediscluster_t *rc, int shard, const char *why) {
    if (shard >= 0 && rc->m[shard].host[0]) rc_master_dead(&rc->m[shard], why);
}

stats_t *rediscluster_stats(rediscluster_t *rc) { return rc->stats; }
const config_t *rediscluster_cfg(rediscluster_t *rc) { return *rc->cfg; }
const char *rediscluster_sha(rediscluster_t *rc, int keyed) {
    return keyed ? rc->sha_keyed : rc->sha_publish;
}

int rediscluster_masters(rediscluster_t *rc, redisAsyncContext **out, size_t max) {
    size_t n = 0;
    if (!rc->ch.up) return -1;
    for (size_t i = 0; i < CLUSTERWIRE_MAX_MASTERS && n < max; i++) {
        rc_master_t *m = &rc->m[i];
        if (!m->host[0] || !m->in_map) continue;
        if (!m->up || m->cmd == NULL) return -1;
        out[n++] = m->cmd;
    }
    return (int)n;
}

/* The channels' hooks (redischan.h) handed on to presence, which listens
 * through redis.c's redis_link_hooks. */
static void rc_chans_event(redischan_set_t *s, const char *name, size_t len, const char *p, size_t n) {
    rediscluster_t *rc = rc_of(s);
    if (rc->hooks.event) rc->hooks.event(rc->hooks.arg, name, len, p, n);
}

static void rc_chans_occupy(redischan_set_t *s, const char *name, size_t len, int on) {
    rediscluster_t *rc = rc_of(s);
    if (rc->hooks.occupy) rc->hooks.occupy(rc->hooks.arg, name, len, on);
}

static void rc_chans_lost(redischan_set_t *s, const char *name, size_t len) {
    rediscluster_t *rc = rc_of(s);
    if (rc->hooks.lost) rc->hooks.lost(rc->hooks.arg, name, len);
}

void rediscluster_hooks(rediscluster_t *rc, const redis_hooks_t *h) {
    rc->hooks = *h;
    rc->hooked_up = rc->ch.up; /* the caller asks whether it is up */
}

/* ---- life --------------------------------------------------------------- */

static void rc_on_interest(uv_async_t *a) {
    rediscluster_t *rc = a->data;
    redischan_interest(&rc->ch);
}

rediscluster_t *rediscluster_start(uv_loop_t *uv, hub_t *hub, const config_t *const *cfg,
                                   stats_t *stats) {
    rediscluster_t *rc = calloc(1, sizeof(*rc));
    char why[200];
    if (rc == NULL) return NULL;
    const char *v = (*cfg)->redis_cluster;
    if (clusterwire_seeds_parse(v, strlen(v), &rc->seeds, why, sizeof(why)) != 0) {
        log_error("redis_cluster: %s", why);
        free(rc);
        return NULL;
    }
    if ((rc->keyed_lua = rediswire_keyed_lua(rediswire_spublish_lua)) == NULL ||
        redischan_init(&rc->ch) != 0) {
        free(rc->keyed_lua);
        free(rc);
        return NULL;
    }
    rc->uv = uv;
    rc->hub = hub;
    rc->cfg = cfg;
    rc->stats = stats;
    rc->ch.ops = &rc_ops;
    rc->ch.hub = hub;
    rc->ch.cfg = cfg;
    rc->ch.stats = stats;
    rc->ch.event = rc_chans_event;
    rc->ch.occupy = rc_chans_occupy;
    rc->ch.lost = rc_chans_lost;
    memset(rc->owner, CLUSTERWIRE_NONE, sizeof(rc->owner));
    rc->need_map = 1;
    rc->map_backoff_ms = rc->map_gap_ms = RC_BACKOFF_MIN_MS;
    digest_script_sha1(rediswire_spublish_lua, rc->sha_publish);
    digest_script_sha1(rediswire_load_lua, rc->ch.sha_load);
    digest_script_sha1(rc->keyed_lua, rc->sha_keyed);
    uv_timer_init(uv, &rc->tick);
    uv_async_init(uv, &rc->interest, rc_on_interest);
    rc->tick.data = rc->interest.data = rc;
    hub_cluster_enable(hub, &rc->interest);
    uv_timer_start(&rc->tick, rc_on_tick, 0, 0);
    return rc;
}

int rediscluster_is_up(const rediscluster_t *rc) { return rc->ch.up; }

static void rc_on_closed(uv_handle_t *h) {
    rediscluster_t *rc = h->data;
    if (--rc->nclosing > 0) return;
    redischan_free(&rc->ch);
    free(rc->keyed_lua);
    memset(&rc->seeds.auth, 0, sizeof(rc->seeds.auth));
    free(rc);
}

void rediscluster_stop(rediscluster_t *rc) {
    rc->stopping = 1;
    rc->ch.up = 0;
    for (size_t i = 0; i < CLUSTERWIRE_MAX_MASTERS; i++)
        if (rc->m[i].host[0]) rc_teardown(&rc->m[i]);
    if (rc->probe) {
        rc->probe->data = NULL;
        redisAsyncFree(rc->probe);
        rc->probe = NULL;
    }
    hub_cluster_enable(rc->hub, NULL);
    rc->nclosing = 2;
    uv_close((uv_handle_t *)&rc->tick, rc_on_closed);
    uv_close((uv_handle_t *)&rc->interest, rc_on_closed);
}
