#include "redisuv.h"

#include "log.h"
#include "redisreader.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct redisuv {
    uv_poll_t poll;
    redisAsyncContext *ac; /* NULL once hiredis has let the context go */
    int events;            /* UV_READABLE | UV_WRITABLE, as hiredis asks */
    size_t max_answer;
    char who[80];
} redisuv_t;

/* hiredis frees a context only outside its own callbacks; here (in the
 * poll callback, the context connected) it runs the disconnect callback
 * with the error, then frees the context and, through cleanup, us. */
static void redisuv_cut(redisuv_t *p, const char *why) {
    redisAsyncContext *ac = p->ac;
    redisContext *c = &ac->c;
    c->err = REDIS_ERR_OTHER;
    snprintf(c->errstr, sizeof(c->errstr), "%s", why);
    ac->err = c->err;
    ac->errstr = c->errstr;
    redisAsyncFree(ac);
}

/* A read may complete answers whose callbacks free the context (p->ac
 * becomes NULL); what is left unparsed is then one unfinished answer. */
static void redisuv_on_poll(uv_poll_t *h, int status, int events) {
    redisuv_t *p = h->data;
    if (p->ac == NULL) return;
    /* libuv reports a socket error (a reset, a refused connect) as
     * UV_EBADF and stops the handle; hiredis's own adapter ignores it and
     * the context would wait for nothing. hiredis finds the error itself:
     * by reading, or before the connection is up by checking the socket
     * (the connect callback gets it); with none, it restarts the poll. */
    if (status < 0) events = p->ac->c.flags & REDIS_CONNECTED ? UV_READABLE : UV_WRITABLE;
    if (events & UV_READABLE) {
        redisAsyncHandleRead(p->ac);
        if (p->ac == NULL) return;
        redisReader *r = p->ac->c.reader;
        if ((p->ac->c.flags & REDIS_CONNECTED) && r->len - r->pos > p->max_answer) {
            log_warn("%s: an answer of more than %zu bytes, larger than any message "
                     "(max_emit_body_bytes or max_client_message_bytes, the larger, + 64 KiB): "
                     "connection cut",
                     p->who, p->max_answer);
            redisuv_cut(p, "an answer larger than any message");
            return;
        }
    }
    if ((events & UV_WRITABLE) && p->ac != NULL) redisAsyncHandleWrite(p->ac);
}

/* hiredis says which events it waits for; libuv's poll wants them all at
 * once, so they are kept and the poll restarted (or stopped) with them. */
static void redisuv_events_set(redisuv_t *p, int events) {
    p->events = events;
    if (events) uv_poll_start(&p->poll, events, redisuv_on_poll);
    else uv_poll_stop(&p->poll);
}

static void redisuv_read_add(void *arg) {
    redisuv_t *p = arg;
    redisuv_events_set(p, p->events | UV_READABLE);
}

static void redisuv_read_del(void *arg) {
    redisuv_t *p = arg;
    redisuv_events_set(p, p->events & ~UV_READABLE);
}

static void redisuv_write_add(void *arg) {
    redisuv_t *p = arg;
    redisuv_events_set(p, p->events | UV_WRITABLE);
}

static void redisuv_write_del(void *arg) {
    redisuv_t *p = arg;
    redisuv_events_set(p, p->events & ~UV_WRITABLE);
}

static void redisuv_on_closed(uv_handle_t *h) { free(h->data); }

/* hiredis is freeing the context (maybe inside our poll callback): forget
 * it now, free the handle once libuv has closed it. */
static void redisuv_cleanup(void *arg) {
    redisuv_t *p = arg;
    p->ac = NULL;
    uv_close((uv_handle_t *)&p->poll, redisuv_on_closed);
}

/* The largest string an answer carries is one message (history, a
 * publish) or a presence member's data; a history load is an array of
 * entries, and the reader parses each finished entry out of its buffer,
 * so a full history of the largest messages never holds more than one
 * unfinished entry unparsed (the entry count is bounded by redisreader). */
size_t redisuv_answer_max(const config_t *cfg) {
    uint64_t s = cfg->max_emit_body_bytes > cfg->max_client_message_bytes
                     ? cfg->max_emit_body_bytes
                     : cfg->max_client_message_bytes;
    return (size_t)s + 65536;
}

/* The event functions are set only once the handle exists: hiredis calls
 * cleanup on whatever ev.data holds when the caller frees ac. */
int redisuv_attach(redisAsyncContext *ac, uv_loop_t *uv, size_t max_answer, const char *who) {
    if (ac->ev.data != NULL) return UV_EBUSY;
    redisuv_t *p = calloc(1, sizeof(*p));
    if (p == NULL) return UV_ENOMEM;
    int rc = uv_poll_init(uv, &p->poll, ac->c.fd);
    if (rc != 0) {
        free(p);
        return rc;
    }
    p->poll.data = p;
    p->ac = ac;
    p->max_answer = max_answer;
    snprintf(p->who, sizeof(p->who), "%s", who);
    redisreader_bound(ac->c.reader);
    ac->ev.addRead = redisuv_read_add;
    ac->ev.delRead = redisuv_read_del;
    ac->ev.addWrite = redisuv_write_add;
    ac->ev.delWrite = redisuv_write_del;
    ac->ev.cleanup = redisuv_cleanup;
    ac->ev.data = p;
    return 0;
}
