#include "redisshard.h"

#include "redisreader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes written and not yet taken by the kernel: Redis stopped reading. */
#define REDISSHARD_WRITE_MAX (8u << 20)

struct redisshard {
    uv_loop_t *uv;
    uv_getaddrinfo_t resolve;
    uv_connect_t connect;
    uv_tcp_t tcp;
    redisReader *reader;
    redisshard_state_cb on_state;
    redisshard_reply_cb on_reply;
    void *arg;
    int resolving, tcp_open, connected, ready, closing, failed;
    int auth_pending;       /* the first answer is AUTH's */
    size_t max_answer;
    char port[8];
    /* commands sent before the connection is up, written on connect */
    char *early;
    size_t nearly;
};

typedef struct redisshard_write {
    uv_write_t req;
    char *cmd;
    int ours;              /* malloc'd here, not by redisFormatCommandArgv */
} redisshard_write_t;

static void redisshard_cmd_free(char *cmd, int ours) {
    if (ours) free(cmd);
    else redisFreeCommand(cmd);
}

static void redisshard_free_if_done(redisshard_t *s) {
    if (!s->closing || s->resolving || s->tcp_open) return;
    redisReaderFree(s->reader);
    free(s->early);
    free(s);
}

static void redisshard_on_tcp_closed(uv_handle_t *h) {
    redisshard_t *s = h->data;
    s->tcp_open = 0;
    redisshard_free_if_done(s);
}

/* Report a loss once; the owner closes. */
static void redisshard_fail(redisshard_t *s, const char *why) {
    if (s->closing || s->failed) return;
    s->failed = 1;
    s->ready = 0;
    s->on_state(s->arg, 0, why);
}

static void redisshard_on_written(uv_write_t *req, int status) {
    redisshard_write_t *w = (redisshard_write_t *)req;
    redisshard_t *s = req->handle->data;
    redisshard_cmd_free(w->cmd, w->ours);
    free(w);
    if (status < 0 && status != UV_ECANCELED) redisshard_fail(s, uv_strerror(status));
}

static int redisshard_write(redisshard_t *s, char *cmd, size_t len, int ours) {
    redisshard_write_t *w = malloc(sizeof(*w));
    if (w == NULL) {
        redisshard_cmd_free(cmd, ours);
        return -1;
    }
    w->cmd = cmd;
    w->ours = ours;
    uv_buf_t b = uv_buf_init(cmd, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1, redisshard_on_written) != 0) {
        redisshard_cmd_free(cmd, ours);
        free(w);
        return -1;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&s->tcp) > REDISSHARD_WRITE_MAX)
        redisshard_fail(s, "Redis does not read its connection");
    return 0;
}

int redisshard_send(redisshard_t *s, int argc, const char **argv, const size_t *lens) {
    if (s->closing || s->failed) return -1;
    char *cmd;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len < 0) return -1;
    if (s->connected) return redisshard_write(s, cmd, (size_t)len, 0);
    char *e = realloc(s->early, s->nearly + (size_t)len);
    if (e == NULL) {
        redisFreeCommand(cmd);
        return -1;
    }
    memcpy(e + s->nearly, cmd, (size_t)len);
    s->early = e;
    s->nearly += (size_t)len;
    redisFreeCommand(cmd);
    return 0;
}

static void redisshard_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    static char chunk[65536]; /* one loop thread reads the link: one buffer */
    buf->base = chunk;
    buf->len = sizeof(chunk);
}

/* Answers in order: AUTH's first (with a password), then every answer
 * and push to the owner, until it closes. */
static void redisshard_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
    redisshard_t *s = st->data;
    if (n == 0 || s->closing || s->failed) return;
    if (n < 0) {
        redisshard_fail(s, n == UV_EOF ? "closed by Redis" : uv_strerror((int)n));
        return;
    }
    if (redisReaderFeed(s->reader, buf->base, (size_t)n) != REDIS_OK) {
        redisshard_fail(s, "out of memory");
        return;
    }
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(s->reader, &reply) != REDIS_OK) {
            redisshard_fail(s, "a malformed answer from Redis");
            return;
        }
        if (reply == NULL) break;
        redisReply *r = reply;
        if (s->auth_pending) {
            s->auth_pending = 0;
            if (r->type == REDIS_REPLY_ERROR) {
                char why[200];
                snprintf(why, sizeof(why), "AUTH refused: %.150s", r->str);
                freeReplyObject(r);
                redisshard_fail(s, why);
                return;
            }
            s->ready = 1;
            s->on_state(s->arg, 1, NULL);
        } else {
            s->on_reply(s->arg, r);
        }
        freeReplyObject(r);
        if (s->closing || s->failed) return;
    }
    if (s->reader->len - s->reader->pos > s->max_answer)
        redisshard_fail(s, "an answer larger than any message (max_emit_body_bytes)");
}

static void redisshard_on_connect(uv_connect_t *req, int status) {
    redisshard_t *s = req->data;
    if (s->closing) return;
    if (status < 0) {
        redisshard_fail(s, uv_strerror(status));
        return;
    }
    s->connected = 1;
    uv_read_start((uv_stream_t *)&s->tcp, redisshard_alloc, redisshard_on_read);
    if (s->nearly) {
        char *cmd = s->early;
        size_t len = s->nearly;
        s->early = NULL;
        s->nearly = 0;
        if (redisshard_write(s, cmd, len, 1) != 0) redisshard_fail(s, "out of memory");
    }
    if (!s->auth_pending && !s->failed) {
        s->ready = 1;
        s->on_state(s->arg, 1, NULL);
    }
}

static void redisshard_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai) {
    redisshard_t *s = req->data;
    s->resolving = 0;
    if (s->closing || status < 0 || ai == NULL) {
        if (ai) uv_freeaddrinfo(ai);
        if (!s->closing) redisshard_fail(s, status < 0 ? uv_strerror(status) : "no address");
        redisshard_free_if_done(s);
        return;
    }
    int rc = uv_tcp_init(s->uv, &s->tcp);
    if (rc == 0) {
        s->tcp_open = 1;
        s->tcp.data = s;
        uv_tcp_nodelay(&s->tcp, 1);
        s->connect.data = s;
        rc = uv_tcp_connect(&s->connect, &s->tcp, ai->ai_addr, redisshard_on_connect);
    }
    uv_freeaddrinfo(ai);
    if (rc < 0) redisshard_fail(s, uv_strerror(rc));
}

redisshard_t *redisshard_open(uv_loop_t *uv, const char *host, int port,
                              const rediswire_addr_t *auth, const char *name, size_t max_answer,
                              redisshard_state_cb on_state, redisshard_reply_cb on_reply,
                              void *arg) {
    redisshard_t *s = calloc(1, sizeof(*s));
    if (s == NULL) return NULL;
    s->reader = redisreader_create();
    if (s->reader == NULL) {
        free(s);
        return NULL;
    }
    s->uv = uv;
    s->max_answer = max_answer;
    s->on_state = on_state;
    s->on_reply = on_reply;
    s->arg = arg;
    snprintf(s->port, sizeof(s->port), "%d", port);
    if (auth->has_password) {
        const char *argv[3] = {"AUTH", auth->user, auth->password};
        size_t lens[3] = {4, strlen(auth->user), strlen(auth->password)};
        int user = auth->user[0] != 0;
        const char *av2[2] = {"AUTH", auth->password};
        size_t l2[2] = {4, lens[2]};
        redisshard_send(s, user ? 3 : 2, user ? argv : av2, user ? lens : l2);
        s->auth_pending = 1;
    }
    const char *sn[3] = {"CLIENT", "SETNAME", name};
    size_t snl[3] = {6, 7, strlen(name)};
    redisshard_send(s, 3, sn, snl);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    s->resolve.data = s;
    s->resolving = 1;
    if (uv_getaddrinfo(uv, &s->resolve, redisshard_on_resolved, host, s->port, &hints) != 0) {
        s->resolving = 0;
        redisReaderFree(s->reader);
        free(s->early);
        free(s);
        return NULL;
    }
    return s;
}

void redisshard_close(redisshard_t *s) {
    if (s->closing) return;
    s->closing = 1;
    if (s->resolving) uv_cancel((uv_req_t *)&s->resolve);
    if (s->tcp_open && !uv_is_closing((uv_handle_t *)&s->tcp))
        uv_close((uv_handle_t *)&s->tcp, redisshard_on_tcp_closed);
    redisshard_free_if_done(s);
}
