#include "clustercmd.h"

#include "clusterwire.h"
#include "log.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLUSTERCMD_REDIRECTS_MAX 3

/* A command in flight: its bytes, kept for a redirection. */
typedef struct clustercmd_req {
    rediscluster_t *rc;
    redisCallbackFn *cb;
    void *priv;
    int shard, redirects;
    size_t len;
    char *cmd;
} clustercmd_req_t;

/* The tag in braces hashes as every "herald:{tag}:…" key does: the text
 * up to the first '}' after the first '{', which is ours. */
int clustercmd_slot(const char *tag, size_t tag_len) {
    char key[CLUSTERCMD_TAG_MAX + 2];
    if (tag_len > CLUSTERCMD_TAG_MAX) return -1;
    key[0] = '{';
    memcpy(key + 1, tag, tag_len);
    key[tag_len + 1] = '}';
    return (int)clusterwire_slot(key, tag_len + 2);
}

static void clustercmd_free(clustercmd_req_t *q) {
    redisFreeCommand(q->cmd);
    free(q);
}

static void clustercmd_on_reply(redisAsyncContext *ac, void *reply, void *priv);

/* MOVED or ASK: the command did not run; it goes as it was to the master
 * named (ASK: for this once, after ASKING). 1 if sent again. */
static int clustercmd_redirect(clustercmd_req_t *q, const char *err) {
    int ask, port, to = -1;
    unsigned slot;
    char host[256];
    if (clusterwire_redirect(err, strlen(err), &ask, &slot, host, sizeof(host), &port) != 0) return 0;
    redisAsyncContext *ac = rediscluster_cmd_at(q->rc, q->shard, host, port, &to);
    rediscluster_redirected(q->rc, slot, ask || ac == NULL ? -1 : to);
    if (ac == NULL || q->redirects >= CLUSTERCMD_REDIRECTS_MAX) return 0;
    log_debug("redis cluster: %s: a command sent again", err);
    q->redirects++;
    q->shard = to;
    if (ask) redisAsyncCommand(ac, NULL, NULL, "ASKING");
    return redisAsyncFormattedCommand(ac, clustercmd_on_reply, q, q->cmd, q->len) == REDIS_OK;
}

static void clustercmd_on_reply(redisAsyncContext *ac, void *reply, void *priv) {
    clustercmd_req_t *q = priv;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR && clustercmd_redirect(q, r->str)) return;
    q->cb(ac, reply, q->priv);
    clustercmd_free(q);
}

int clustercmd_send(rediscluster_t *rc, const char *tag, size_t tag_len, redisCallbackFn *cb,
                    void *priv, int argc, const char **argv, const size_t *lens) {
    int shard = -1, slot = clustercmd_slot(tag, tag_len);
    redisAsyncContext *ac = slot < 0 ? NULL : rediscluster_cmd_for(rc, (unsigned)slot, &shard);
    if (ac == NULL) return -1;
    clustercmd_req_t *q = calloc(1, sizeof(*q));
    if (q == NULL) return -1;
    long long n = redisFormatCommandArgv(&q->cmd, argc, argv, lens);
    if (n < 0) {
        free(q);
        return -1;
    }
    q->rc = rc;
    q->cb = cb;
    q->priv = priv;
    q->shard = shard;
    q->len = (size_t)n;
    if (cb == NULL) { /* nobody waits: no redirection either */
        int rc2 = redisAsyncFormattedCommand(ac, NULL, NULL, q->cmd, q->len);
        clustercmd_free(q);
        return rc2 == REDIS_OK ? 0 : -1;
    }
    if (redisAsyncFormattedCommand(ac, clustercmd_on_reply, q, q->cmd, q->len) != REDIS_OK) {
        clustercmd_free(q);
        return -1;
    }
    return 0;
}

/* ---- one command on every master ---------------------------------------- */

typedef struct clustercmd_all {
    redisCallbackFn *each;
    clustercmd_done_fn *done;
    void *priv;
    size_t pending;
    int failed;
} clustercmd_all_t;

static void clustercmd_on_each(redisAsyncContext *ac, void *reply, void *priv) {
    clustercmd_all_t *a = priv;
    redisReply *r = reply;
    if (r == NULL || r->type == REDIS_REPLY_ERROR) a->failed = 1;
    a->each(ac, reply, a->priv);
    if (--a->pending > 0) return;
    a->done(a->priv, a->failed);
    free(a);
}

int clustercmd_send_all(rediscluster_t *rc, redisCallbackFn *each, clustercmd_done_fn *done,
                        void *priv, int argc, const char **argv, const size_t *lens) {
    redisAsyncContext *ac[CLUSTERWIRE_MAX_MASTERS];
    int n = rediscluster_masters(rc, ac, CLUSTERWIRE_MAX_MASTERS);
    if (n <= 0) return -1;
    clustercmd_all_t *a = calloc(1, sizeof(*a));
    if (a == NULL) return -1;
    a->each = each;
    a->done = done;
    a->priv = priv;
    a->pending = 1; /* held while sending */
    for (int i = 0; i < n; i++) {
        if (redisAsyncCommandArgv(ac[i], clustercmd_on_each, a, argc, argv, lens) == REDIS_OK)
            a->pending++;
        else
            a->failed = 1;
    }
    if (--a->pending > 0) return 0;
    free(a); /* none went out */
    return -1;
}
