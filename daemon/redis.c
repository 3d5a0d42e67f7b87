#include "redis.h"

#include "clustercmd.h"
#include "clusterpub.h"
#include "idem.h"
#include "digest.h"
#include "log.h"
#include "rediscluster.h"
#include "redischan.h"
#include "redisuv.h"
#include "rediswire.h"
#include "signed.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REDIS_BACKOFF_MIN_MS 100
#define REDIS_BACKOFF_MAX_MS 5000
#define REDIS_PING_MS 1000
/* herald:{channel}:k:<key> at the longest */
#define REDIS_IDEM_KEY_SIZE (8 + HERALD_CHANNEL_MAX + 4 + IDEM_KEY_MAX + 1)

struct redis_link {
    /* first: a connection's data (the link) is also its channel set's */
    redischan_set_t ch;   /* the channels, and the connections they use */
    rediscluster_t *cluster; /* redis_cluster: the link is that, and nothing below */
    uv_loop_t *uv;
    hub_t *hub;
    const config_t *const *cfg;
    stats_t *stats;
    rediswire_addr_t addr;
    int cmd_ready, sub_ready, stopping, ever_up;
    char sha_publish[41];
    char *keyed_lua;      /* rediswire_keyed_lua(): publish with an idempotency key */
    char sha_keyed[41];
    uv_timer_t reconnect, ping, teardown;
    uv_async_t interest;
    int nclosing;         /* handles still closing after stop */
    uint64_t backoff_ms;
    uint64_t ping_sent_ns;   /* 0: no ping outstanding */
    redis_hooks_t hooks;
};

/* ---- connection state ------------------------------------------------- */

static void redis_connect(redis_link_t *l);
static void redis_on_teardown(uv_timer_t *t);


/* Tear both connections down outside any hiredis callback (hiredis frees
 * a context after its own callback returns), then reconnect later. */
static void redis_fail(redis_link_t *l, const char *why) {
    if (l->ch.up) {
        log_warn("redis: link lost (%s); subscribers stay, reconnecting", why);
        l->stats->redis_link_up = 0;
    }
    l->ch.up = 0;
    if (!uv_is_active((uv_handle_t *)&l->teardown) && !l->stopping)
        uv_timer_start(&l->teardown, redis_on_teardown, 0, 0);
}

static void redis_on_reconnect(uv_timer_t *t) {
    redis_link_t *l = t->data;
    if (!l->stopping && l->ch.cmd == NULL && l->ch.sub == NULL) redis_connect(l);
}

static void redis_on_teardown(uv_timer_t *t) {
    redis_link_t *l = t->data;
    redisAsyncContext *cmd = l->ch.cmd, *sub = l->ch.sub;
    l->ch.cmd = l->ch.sub = NULL;
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
    redischan_reset(&l->ch);
    if (l->hooks.down) l->hooks.down(l->hooks.arg);
    if (l->stopping) return;
    uint64_t wait = l->backoff_ms + (uint64_t)(rand() % (int)(l->backoff_ms / 4 + 1));
    l->backoff_ms = l->backoff_ms * 2 > REDIS_BACKOFF_MAX_MS ? REDIS_BACKOFF_MAX_MS
                                                              : l->backoff_ms * 2;
    uv_timer_start(&l->reconnect, redis_on_reconnect, wait, 0);
}

/* Both connections answer: subscribe to every channel wanted, old and new
 * (their loads recover what the outage skipped). */
static void redis_maybe_up(redis_link_t *l) {
    if (l->ch.up || !l->cmd_ready || !l->sub_ready) return;
    l->ch.up = 1;
    l->stats->redis_link_up = 1;
    if (l->ever_up++) l->stats->redis_reconnects++;
    l->backoff_ms = REDIS_BACKOFF_MIN_MS;
    log_info("redis: link up (%s)", l->addr.is_unix ? l->addr.path : l->addr.host);
    redischan_subscribe_all(&l->ch);
    uv_async_send(&l->interest);
    if (l->hooks.up) l->hooks.up(l->hooks.arg);
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
    if (l->ping_sent_ns) l->stats->redis_rtt = (uv_hrtime() - l->ping_sent_ns) / 1000;
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
    if (status != REDIS_OK && (ac == l->ch.cmd || ac == l->ch.sub)) {
        /* hiredis frees the context after this callback */
        if (ac == l->ch.cmd) l->ch.cmd = NULL;
        if (ac == l->ch.sub) l->ch.sub = NULL;
        if (l->backoff_ms == REDIS_BACKOFF_MIN_MS)
            log_warn("redis: cannot connect: %s", ac->errstr);
        redis_fail(l, ac->errstr);
    }
}

static void redis_on_disconnect(const redisAsyncContext *ac, int status) {
    redis_link_t *l = ac->data;
    if (l == NULL || (ac != l->ch.cmd && ac != l->ch.sub)) return;
    if (ac == l->ch.cmd) l->ch.cmd = NULL;
    if (ac == l->ch.sub) l->ch.sub = NULL;
    if (!l->stopping) redis_fail(l, status == REDIS_OK ? "closed" : ac->errstr);
}

static redisAsyncContext *redis_open(redis_link_t *l) {
    redisAsyncContext *ac = l->addr.is_unix ? redisAsyncConnectUnix(l->addr.path)
                                            : redisAsyncConnect(l->addr.host, l->addr.port);
    if (ac == NULL) return NULL;
    if (ac->err || redisuv_attach(ac, l->uv, redisuv_answer_max(*l->cfg), "redis") != 0) {
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
    l->ch.cmd = redis_open(l);
    l->ch.sub = l->ch.cmd ? redis_open(l) : NULL;
    if (l->ch.cmd == NULL || l->ch.sub == NULL) {
        redis_fail(l, "connect");
        return;
    }
    if (l->addr.has_password) {
        redis_auth(l, l->ch.cmd, redis_on_cmd_setup);
        redis_auth(l, l->ch.sub, redis_on_sub_auth);
    } else {
        l->sub_ready = 1;
    }
    /* named, so an operator (or a test) finds each node's connections */
    redisAsyncCommand(l->ch.cmd, NULL, NULL, "CLIENT SETNAME heraldd-%d-cmd", (int)getpid());
    redisAsyncCommand(l->ch.sub, NULL, NULL, "CLIENT SETNAME heraldd-%d-sub", (int)getpid());
    if (l->addr.db) redisAsyncCommand(l->ch.cmd, redis_on_cmd_setup, "SELECT", "SELECT %u", l->addr.db);
    redisAsyncCommand(l->ch.cmd, redis_on_cmd_setup, "SCRIPT LOAD", "SCRIPT LOAD %s", rediswire_publish_lua);
    redisAsyncCommand(l->ch.cmd, redis_on_cmd_setup, "SCRIPT LOAD", "SCRIPT LOAD %s", rediswire_load_lua);
    redisAsyncCommand(l->ch.cmd, redis_on_cmd_setup, "SCRIPT LOAD", "SCRIPT LOAD %s", l->keyed_lua);
    l->ping_sent_ns = uv_hrtime();
    redisAsyncCommand(l->ch.cmd, redis_on_ping, NULL, "PING");
}

/* Every REDIS_PING_MS: the round trip for /metrics, and a link that does
 * not answer within redis_timeout_ms is torn down (hiredis 0.14 has no
 * timeouts of its own). */
static void redis_on_ping_timer(uv_timer_t *t) {
    redis_link_t *l = t->data;
    if (l->ch.cmd == NULL) return;
    uint64_t now = uv_hrtime();
    if (l->ping_sent_ns) {
        if (now - l->ping_sent_ns > (*l->cfg)->redis_timeout_ms * 1000000) {
            log_warn("redis: no answer for %llu ms", (unsigned long long)(*l->cfg)->redis_timeout_ms);
            redis_fail(l, "timeout");
        }
        return;
    }
    if (!l->ch.up) return;
    l->ping_sent_ns = now;
    redisAsyncCommand(l->ch.cmd, redis_on_ping, NULL, "PING");
}

/* ---- publish ---------------------------------------------------------- */

typedef struct redis_batch {
    redis_link_t *l;
    redis_publish_cb cb;
    void *arg;
    size_t n;
    uint64_t *ids, *nodes; /* [n] each, after the struct */
    unsigned char *repeated; /* [n], after them */
} redis_batch_t;

/* {id, nodes}, or {first id, 0, 1} from the keyed script for a repeat. */
static int redis_pair(redisReply *r, uint64_t *id, uint64_t *nodes, unsigned char *repeated) {
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2 || r->elements > 3 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER ||
        r->element[0]->integer <= 0)
        return -1;
    *id = (uint64_t)r->element[0]->integer;
    *nodes = (uint64_t)r->element[1]->integer;
    *repeated = r->elements == 3;
    return 0;
}

/* A single publish's answer, or a batch's EXEC (an array of answers). */
static void redis_on_published(redisAsyncContext *ac, void *reply, void *priv) {
    redis_batch_t *b = priv;
    redisReply *r = reply;
    int ok = r != NULL;
    if (ok && b->n == 1) {
        ok = redis_pair(r, &b->ids[0], &b->nodes[0], &b->repeated[0]) == 0;
    } else if (ok) {
        ok = r->type == REDIS_REPLY_ARRAY && r->elements == b->n;
        for (size_t i = 0; ok && i < b->n; i++)
            ok = redis_pair(r->element[i], &b->ids[i], &b->nodes[i], &b->repeated[i]) == 0;
    }
    if (!ok && r) {
        const char *why = r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer";
        if (r->type == REDIS_REPLY_ARRAY && r->elements && r->element[0]->type == REDIS_REPLY_ERROR)
            why = r->element[0]->str;
        log_error("redis: publish refused: %s", why);
        if (strncmp(why, "NOSCRIPT", 8) == 0) redis_fail(b->l, "scripts flushed");
    }
    size_t nrep = 0;
    for (size_t i = 0; ok && i < b->n; i++) nrep += b->repeated[i];
    if (ok) b->l->stats->redis_messages_out += b->n - nrep;
    else b->l->stats->redis_emit_failures++;
    b->cb(b->arg, ok ? 0 : REDIS_EFAIL, ok ? b->ids : NULL, ok ? b->nodes : NULL,
          ok ? b->repeated : NULL, b->n);
    free(b);
}

static void redis_on_queued(redisAsyncContext *ac, void *reply, void *priv) {}

/* ---- idempotency keys across nodes ------------------------------------ */

/* A message with an idempotency key (and keys not switched off with
 * idempotency_window_ms = 0) goes through the keyed script: argv[0..8],
 * the unkeyed call, becomes EVALSHA sha 3 id h key data size ttl pubsub
 * window; kk and win hold the key's name and the window (hiredis copies
 * them before redis_publish returns). The argument count. */
static int redis_keyed_args(redis_link_t *l, const redis_pub_t *p, const char *argv[11],
                            size_t lens[11], char kk[REDIS_IDEM_KEY_SIZE], char win[24]) {
    uint64_t window = (*l->cfg)->idempotency_window_ms;
    if (p->key == NULL || window == 0) return 9;
    int kl = rediswire_idem_key(kk, REDIS_IDEM_KEY_SIZE, p->channel, p->channel_len, p->key,
                                p->key_len);
    if (kl < 0) return 9;
    int wl = snprintf(win, 24, "%llu", (unsigned long long)window);
    memmove(argv + 6, argv + 5, 4 * sizeof(*argv)); /* data size ttl pubsub, one later */
    memmove(lens + 6, lens + 5, 4 * sizeof(*lens));
    argv[1] = l->sha_keyed;
    argv[2] = "3";
    argv[5] = kk;
    lens[5] = (size_t)kl;
    argv[10] = win;
    lens[10] = (size_t)wl;
    return 11;
}

int redis_publish(redis_link_t *l, const redis_pub_t *msgs, size_t n, redis_publish_cb cb,
                  void *arg) {
    if (l->cluster) return clusterpub_publish(l->cluster, msgs, n, cb, arg);
    if (!l->ch.up || l->ch.cmd == NULL) return REDIS_EDOWN;
    redis_batch_t *b = calloc(1, sizeof(*b) + 2 * n * sizeof(uint64_t) + n);
    if (b == NULL) return UV_ENOMEM;
    b->l = l;
    b->cb = cb;
    b->arg = arg;
    b->n = n;
    b->ids = (uint64_t *)(b + 1);
    b->nodes = b->ids + n;
    b->repeated = (unsigned char *)(b->nodes + n);
    const config_t *cfg = *l->cfg;
    char size[24], ttl[24];
    int sl = snprintf(size, sizeof(size), "%llu", (unsigned long long)cfg->history_size);
    int tl = snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)redischan_key_ttl(cfg));
    if (n > 1) redisAsyncCommand(l->ch.cmd, redis_on_queued, NULL, "MULTI");
    for (size_t i = 0; i < n; i++) {
        char kid[HERALD_CHANNEL_MAX + 32], kh[HERALD_CHANNEL_MAX + 32], kp[HERALD_CHANNEL_MAX + 32];
        const redis_pub_t *p = &msgs[i];
        int a = rediswire_key(kid, sizeof(kid), REDISWIRE_KEY_ID, p->channel, p->channel_len, 0);
        int bb = rediswire_key(kh, sizeof(kh), REDISWIRE_KEY_HISTORY, p->channel, p->channel_len, 0);
        int c = rediswire_key(kp, sizeof(kp), REDISWIRE_KEY_PUBSUB, p->channel, p->channel_len,
                              l->addr.db);
        const char *argv[11] = {"EVALSHA", l->sha_publish, "2", kid, kh, p->data ? p->data : "",
                                size, ttl, kp};
        size_t lens[11] = {7, 40, 1, (size_t)a, (size_t)bb, p->len, (size_t)sl, (size_t)tl, (size_t)c};
        char kk[REDIS_IDEM_KEY_SIZE], win[24];
        int argc = redis_keyed_args(l, p, argv, lens, kk, win);
        if (n == 1)
            redisAsyncCommandArgv(l->ch.cmd, redis_on_published, b, argc, argv, lens);
        else
            redisAsyncCommandArgv(l->ch.cmd, redis_on_queued, NULL, argc, argv, lens);
    }
    if (n > 1) redisAsyncCommand(l->ch.cmd, redis_on_published, b, "EXEC");
    return 0;
}

int redis_command_for(redis_link_t *l, const char *tag, size_t tag_len, redisCallbackFn *cb,
                      void *priv, int argc, const char **argv, const size_t *lens) {
    if (l->cluster) /* the master of the tag's slot */
        return clustercmd_send(l->cluster, tag, tag_len, cb, priv, argc, argv, lens) == 0 ? 0 : REDIS_EDOWN;
    if (!l->ch.up || l->ch.cmd == NULL) return REDIS_EDOWN;
    return redisAsyncCommandArgv(l->ch.cmd, cb, priv, argc, argv, lens) == REDIS_OK ? 0 : REDIS_EDOWN;
}

/* One Redis: one command connection, so the command once, then done. */
typedef struct redis_each {
    redisCallbackFn *each;
    void (*done)(void *priv, int failed);
    void *priv;
} redis_each_t;

static void redis_on_each(redisAsyncContext *ac, void *reply, void *priv) {
    redis_each_t *e = priv;
    redisReply *r = reply;
    e->each(ac, reply, e->priv);
    e->done(e->priv, r == NULL || r->type == REDIS_REPLY_ERROR);
    free(e);
}

int redis_command_all(redis_link_t *l, redisCallbackFn *each, void (*done)(void *priv, int failed),
                      void *priv, int argc, const char **argv, const size_t *lens) {
    if (l->cluster)
        return clustercmd_send_all(l->cluster, each, done, priv, argc, argv, lens) == 0 ? 0 : REDIS_EDOWN;
    redis_each_t *e = l->ch.up && l->ch.cmd ? malloc(sizeof(*e)) : NULL;
    if (e == NULL) return REDIS_EDOWN;
    e->each = each;
    e->done = done;
    e->priv = priv;
    if (redisAsyncCommandArgv(l->ch.cmd, redis_on_each, e, argc, argv, lens) != REDIS_OK) {
        free(e);
        return REDIS_EDOWN;
    }
    return 0;
}

int redis_link_sharded(const redis_link_t *l) { return l->cluster != NULL; }

void redis_link_hooks(redis_link_t *l, const redis_hooks_t *h) {
    if (l->cluster) rediscluster_hooks(l->cluster, h);
    else l->hooks = *h;
}

unsigned redis_link_db(const redis_link_t *l) { return l->addr.db; }

/* ---- life ------------------------------------------------------------- */

static redis_link_t *redis_link_of(redischan_set_t *s) {
    return (redis_link_t *)(void *)((char *)s - offsetof(redis_link_t, ch));
}

static void redis_chans_fail(redischan_set_t *s, const char *why) { redis_fail(redis_link_of(s), why); }

static void redis_chans_event(redischan_set_t *s, const char *name, size_t len, const char *p,
                              size_t n) {
    redis_link_t *l = redis_link_of(s);
    if (l->hooks.event) l->hooks.event(l->hooks.arg, name, len, p, n);
}

static void redis_chans_occupy(redischan_set_t *s, const char *name, size_t len, int on) {
    redis_link_t *l = redis_link_of(s);
    if (l->hooks.occupy) l->hooks.occupy(l->hooks.arg, name, len, on);
}

static void redis_on_interest(uv_async_t *a) {
    redis_link_t *l = a->data;
    redischan_interest(&l->ch);
}

redis_link_t *redis_link_start(uv_loop_t *uv, hub_t *hub, const config_t *const *cfg,
                               stats_t *stats) {
    redis_link_t *l = calloc(1, sizeof(*l));
    char why[200];
    if (l == NULL) return NULL;
    if ((*cfg)->redis_cluster[0]) {
        l->cluster = rediscluster_start(uv, hub, cfg, stats);
        if (l->cluster == NULL) {
            free(l);
            return NULL;
        }
        return l;
    }
    if (rediswire_url_parse((*cfg)->redis, strlen((*cfg)->redis), &l->addr, why, sizeof(why)) != 0) {
        log_error("redis: %s", why);
        free(l);
        return NULL;
    }
    if (redischan_init(&l->ch) != 0) {
        free(l);
        return NULL;
    }
    l->uv = uv;
    l->hub = hub;
    l->ch.hub = hub;
    l->ch.cfg = cfg;
    l->ch.stats = stats;
    l->ch.db = l->addr.db;
    l->ch.fail = redis_chans_fail;
    l->ch.event = redis_chans_event;
    l->ch.occupy = redis_chans_occupy;
    l->cfg = cfg;
    l->stats = stats;
    l->backoff_ms = REDIS_BACKOFF_MIN_MS;
    digest_script_sha1(rediswire_publish_lua, l->sha_publish);
    digest_script_sha1(rediswire_load_lua, l->ch.sha_load);
    if ((l->keyed_lua = rediswire_keyed_lua(rediswire_publish_lua)) == NULL) {
        redischan_free(&l->ch);
        free(l);
        return NULL;
    }
    digest_script_sha1(l->keyed_lua, l->sha_keyed);
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

int redis_link_is_up(const redis_link_t *l) {
    return l->cluster ? rediscluster_is_up(l->cluster) : l->ch.up;
}

static void redis_on_handle_closed(uv_handle_t *h) {
    redis_link_t *l = h->data;
    if (--l->nclosing > 0) return;
    redischan_free(&l->ch);
    free(l->keyed_lua);
    free(l);
}

void redis_link_stop(redis_link_t *l) {
    if (l->cluster) {
        rediscluster_stop(l->cluster);
        free(l);
        return;
    }
    l->stopping = 1;
    l->ch.up = 0;
    redis_on_teardown(&l->teardown);
    hub_cluster_enable(l->hub, NULL);
    l->nclosing = 4;
    uv_close((uv_handle_t *)&l->reconnect, redis_on_handle_closed);
    uv_close((uv_handle_t *)&l->ping, redis_on_handle_closed);
    uv_close((uv_handle_t *)&l->teardown, redis_on_handle_closed);
    uv_close((uv_handle_t *)&l->interest, redis_on_handle_closed);
}
