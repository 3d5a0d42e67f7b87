#include "clusterpub.h"

#include "clusterwire.h"
#include "idem.h"
#include "log.h"
#include "rediswire.h"
#include "signed.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLUSTERPUB_REDIRECTS_MAX 3
/* herald:{channel}:k:<key> at the longest */
#define CLUSTERPUB_IDEM_KEY_SIZE (8 + HERALD_CHANNEL_MAX + 4 + IDEM_KEY_MAX + 1)

typedef struct cp_batch {
    rediscluster_t *rc;
    redis_publish_cb cb;
    void *arg;
    size_t n, pending;
    int failed, sending;
    struct cp_group *groups;
    uint64_t *ids, *nodes;     /* [n] each, after the struct */
    unsigned char *repeated;   /* [n], after them: a key Redis had seen */
} cp_batch_t;

/* The messages of one slot, in order: one EVALSHA, or MULTI/EXEC around
 * them, on the master serving the slot. */
typedef struct cp_group {
    struct cp_group *next;
    cp_batch_t *b;
    unsigned slot;
    int shard;                 /* the master it was sent to */
    int redirects;
    int queued_err;            /* a queued command was refused: err says why */
    char err[160];
    size_t k;
    size_t *idx;               /* [k] positions in the batch */
    char **cmd;                /* [k] formatted EVALSHAs, kept for a redirection */
    size_t *len;               /* [k] */
} cp_group_t;

static void cp_free(cp_batch_t *b) {
    while (b->groups) {
        cp_group_t *g = b->groups;
        b->groups = g->next;
        for (size_t i = 0; i < g->k; i++)
            if (g->cmd[i]) redisFreeCommand(g->cmd[i]);
        free(g);
    }
    free(b);
}

static void cp_finish(cp_batch_t *b) {
    stats_t *st = rediscluster_stats(b->rc);
    size_t nrep = 0;
    for (size_t i = 0; i < b->n; i++) nrep += b->repeated[i];
    if (b->failed) st->redis_emit_failures++;
    else st->redis_messages_out += b->n - nrep;
    b->cb(b->arg, b->failed ? REDIS_EFAIL : 0, b->failed ? NULL : b->ids,
          b->failed ? NULL : b->nodes, b->failed ? NULL : b->repeated, b->n);
    cp_free(b);
}

static void cp_group_done(cp_group_t *g, int ok) {
    cp_batch_t *b = g->b;
    if (!ok) b->failed = 1;
    if (--b->pending > 0 || b->sending) return;
    cp_finish(b);
}

static void cp_on_done(redisAsyncContext *ac, void *reply, void *priv);

static void cp_on_queued(redisAsyncContext *ac, void *reply, void *priv) {
    cp_group_t *g = priv;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR && !g->queued_err) {
        snprintf(g->err, sizeof(g->err), "%s", r->str);
        g->queued_err = 1;
    }
}

/* hiredis buffers what it is given; REDIS_ERR only for a connection
 * already closing. */
static int cp_group_send(cp_group_t *g, redisAsyncContext *ac, int ask) {
    if (ask) redisAsyncCommand(ac, NULL, NULL, "ASKING");
    if (g->k == 1) return redisAsyncFormattedCommand(ac, cp_on_done, g, g->cmd[0], g->len[0]);
    redisAsyncCommand(ac, cp_on_queued, g, "MULTI");
    for (size_t i = 0; i < g->k; i++) redisAsyncFormattedCommand(ac, cp_on_queued, g, g->cmd[i], g->len[i]);
    return redisAsyncCommand(ac, cp_on_done, g, "EXEC");
}

/* MOVED or ASK: nothing of the group ran, so it goes, as it was, to the
 * master named (ASK: for this once; ASKING before MULTI covers the whole
 * transaction, Redis keeping the flag until EXEC). 1 if sent again. */
static int cp_redirect(cp_group_t *g, const char *err) {
    int ask, port, to = -1;
    unsigned slot;
    char host[256];
    if (clusterwire_redirect(err, strlen(err), &ask, &slot, host, sizeof(host), &port) != 0) return 0;
    rediscluster_t *rc = g->b->rc;
    redisAsyncContext *ac = rediscluster_cmd_at(rc, g->shard, host, port, &to);
    rediscluster_redirected(rc, slot, ask || ac == NULL ? -1 : to);
    if (ac == NULL || g->redirects >= CLUSTERPUB_REDIRECTS_MAX) return 0;
    log_debug("redis cluster: %s: %zu message(s) sent again", err, g->k);
    g->redirects++;
    g->queued_err = 0;
    g->shard = to;
    return cp_group_send(g, ac, ask) == REDIS_OK;
}

/* {id, nodes}, or {first id, 0, 1} from the keyed script for a repeat. */
static int cp_pair(const redisReply *r, cp_batch_t *b, size_t i) {
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2 || r->elements > 3 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER ||
        r->element[0]->integer <= 0)
        return -1;
    b->ids[i] = (uint64_t)r->element[0]->integer;
    b->nodes[i] = (uint64_t)r->element[1]->integer;
    b->repeated[i] = r->elements == 3;
    return 0;
}

/* A single EVALSHA's answer, or EXEC's (an array of answers). */
static void cp_on_done(redisAsyncContext *ac, void *reply, void *priv) {
    cp_group_t *g = priv;
    cp_batch_t *b = g->b;
    redisReply *r = reply;
    if (r == NULL) { /* the connection went: not known to be published */
        cp_group_done(g, 0);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        const char *err = g->k > 1 && g->queued_err ? g->err : r->str;
        if (cp_redirect(g, err)) return;
        log_error("redis cluster: publish refused: %s", err);
        if (strncmp(err, "NOSCRIPT", 8) == 0) rediscluster_shard_fail(b->rc, g->shard, "scripts flushed");
        cp_group_done(g, 0);
        return;
    }
    int ok = 1;
    if (g->k == 1) {
        ok = cp_pair(r, b, g->idx[0]) == 0;
    } else {
        ok = r->type == REDIS_REPLY_ARRAY && r->elements == g->k;
        for (size_t i = 0; ok && i < g->k; i++)
            ok = cp_pair(r->element[i], b, g->idx[i]) == 0;
    }
    if (!ok) log_error("redis cluster: publish: an unexpected answer");
    cp_group_done(g, ok);
}

/* One EVALSHA of the publish script, formatted once; with an idempotency
 * key (and keys not off: idempotency_window_ms 0) the keyed script's, as
 * redis.c sends it: EVALSHA sha 3 id h key data size ttl pubsub window. */
static int cp_format(rediscluster_t *rc, const redis_pub_t *p, char **out, size_t *len) {
    const config_t *cfg = rediscluster_cfg(rc);
    char kid[HERALD_CHANNEL_MAX + 32], kh[HERALD_CHANNEL_MAX + 32], kp[HERALD_CHANNEL_MAX + 32];
    char kk[CLUSTERPUB_IDEM_KEY_SIZE], win[24];
    char size[24], ttl[24];
    int sl = snprintf(size, sizeof(size), "%llu", (unsigned long long)cfg->history_size);
    int tl = snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)redischan_key_ttl(cfg));
    int a = rediswire_key(kid, sizeof(kid), REDISWIRE_KEY_ID, p->channel, p->channel_len, 0);
    int h = rediswire_key(kh, sizeof(kh), REDISWIRE_KEY_HISTORY, p->channel, p->channel_len, 0);
    int c = rediswire_key(kp, sizeof(kp), REDISWIRE_KEY_PUBSUB, p->channel, p->channel_len, 0);
    if (a < 0 || h < 0 || c < 0) return -1;
    const char *data = p->data ? p->data : "";
    int kl = p->key && cfg->idempotency_window_ms
                 ? rediswire_idem_key(kk, sizeof(kk), p->channel, p->channel_len, p->key, p->key_len)
                 : -1;
    int wl = snprintf(win, sizeof(win), "%llu", (unsigned long long)cfg->idempotency_window_ms);
    const char *plain[] = {"EVALSHA", rediscluster_sha(rc, 0), "2", kid, kh, data, size, ttl, kp};
    size_t plens[] = {7, 40, 1, (size_t)a, (size_t)h, p->len, (size_t)sl, (size_t)tl, (size_t)c};
    const char *keyed[] = {"EVALSHA", rediscluster_sha(rc, 1), "3", kid, kh, kk, data, size, ttl,
                           kp, win};
    size_t klens[] = {7, 40, 1, (size_t)a, (size_t)h, (size_t)kl, p->len, (size_t)sl, (size_t)tl,
                      (size_t)c, (size_t)wl};
    int n = kl < 0 ? redisFormatCommandArgv(out, 9, plain, plens)
                   : redisFormatCommandArgv(out, 11, keyed, klens);
    if (n < 0) return -1;
    *len = (size_t)n;
    return 0;
}

static unsigned cp_slot(const redis_pub_t *p) {
    char key[HERALD_CHANNEL_MAX + 32];
    int n = rediswire_key(key, sizeof(key), REDISWIRE_KEY_ID, p->channel, p->channel_len, 0);
    return n < 0 ? 0 : clusterwire_slot(key, (size_t)n);
}

int clusterpub_publish(rediscluster_t *rc, const redis_pub_t *msgs, size_t n,
                       redis_publish_cb cb, void *arg) {
    if (n == 0) return UV_EINVAL;
    cp_batch_t *b = calloc(1, sizeof(*b) + 2 * n * sizeof(uint64_t) + n * (sizeof(unsigned) + 2));
    if (b == NULL) return UV_ENOMEM;
    b->rc = rc;
    b->cb = cb;
    b->arg = arg;
    b->n = n;
    b->ids = (uint64_t *)(b + 1);
    b->nodes = b->ids + n;
    unsigned *slot = (unsigned *)(b->nodes + n);
    char *taken = (char *)(slot + n);
    b->repeated = (unsigned char *)(taken + n);
    int shard;
    for (size_t i = 0; i < n; i++) {
        slot[i] = cp_slot(&msgs[i]);
        if (rediscluster_cmd_for(rc, slot[i], &shard) == NULL) { /* its master is down */
            free(b);
            return REDIS_EDOWN;
        }
    }
    /* group by slot, keeping each slot's order (a batch names few channels) */
    cp_group_t **tail = &b->groups;
    for (size_t i = 0; i < n; i++) {
        if (taken[i]) continue;
        size_t k = 0;
        for (size_t j = i; j < n; j++) k += slot[j] == slot[i] && !taken[j];
        cp_group_t *g = calloc(1, sizeof(*g) + k * (2 * sizeof(size_t) + sizeof(char *)));
        if (g == NULL) {
            cp_free(b);
            return UV_ENOMEM;
        }
        *tail = g;
        tail = &g->next;
        g->b = b;
        g->slot = slot[i];
        g->cmd = (char **)(g + 1);
        g->idx = (size_t *)(g->cmd + k);
        g->len = g->idx + k;
        for (size_t j = i; j < n; j++) {
            if (slot[j] != slot[i] || taken[j]) continue;
            taken[j] = 1;
            g->idx[g->k] = j;
            if (cp_format(rc, &msgs[j], &g->cmd[g->k], &g->len[g->k]) != 0) {
                cp_free(b);
                return UV_ENOMEM;
            }
            g->k++;
        }
    }
    b->sending = 1;
    for (cp_group_t *g = b->groups; g; g = g->next) {
        redisAsyncContext *ac = rediscluster_cmd_for(rc, g->slot, &g->shard);
        b->pending++;
        if (ac == NULL || cp_group_send(g, ac, 0) != REDIS_OK) {
            b->pending--;
            b->failed = 1;
        }
    }
    b->sending = 0;
    if (b->pending == 0) { /* nothing went out */
        cp_free(b);
        return REDIS_EDOWN;
    }
    return 0;
}
