#include "webhook.h"

#include "log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEBHOOK_BATCH_MAX 500     /* events in one POST */
#define WEBHOOK_RETRIES 5         /* tries after the first */
#define WEBHOOK_BACKOFF_MS 500    /* before the first retry; doubles */

/* One app's POST of the current batch. */
typedef struct webhook_post {
    CURL *easy;                   /* while in flight */
    struct curl_slist *headers;
    char url[SECRETS_URL_MAX + 1];
    char id[SECRETS_APP_ID_MAX + 1];
    char key[SECRETS_APP_KEY_MAX + 1];
    char sig[65];
    int ok;
} webhook_post_t;

/* A socket libcurl asked us to watch. */
typedef struct webhook_sock {
    uv_poll_t poll;
    struct webhook *w;
    curl_socket_t fd;
    struct webhook_sock *prev, *next;
} webhook_sock_t;

struct webhook {
    loop_t *loop;
    CURLM *multi;
    uv_async_t wake;              /* the hub queued events */
    uv_timer_t timer;             /* libcurl's timeout */
    uv_timer_t retry;             /* backoff before a retry */
    int handles;                  /* open uv handles: freed at 0 once stopped */
    int stopping;
    webhook_event_t *queue, **tail; /* taken from the hub, for the next batch */
    webhook_event_t *batch;       /* being sent */
    size_t nbatch;
    char *body;
    size_t body_len;
    webhook_post_t *posts;
    size_t nposts, running;
    int attempt, waiting;         /* retries made; a retry timer is set */
    webhook_sock_t *socks;
};

static void webhook_check(webhook_t *w);
static void webhook_pump(webhook_t *w);

static void webhook_on_handle_closed(uv_handle_t *h) {
    webhook_t *w = h->data;
    if (--w->handles == 0) free(w);
}

static void webhook_sock_closed(uv_handle_t *h) {
    webhook_sock_t *s = h->data;
    webhook_t *w = s->w;
    free(s);
    if (--w->handles == 0) free(w);
}

static void webhook_sock_close(webhook_t *w, webhook_sock_t *s) {
    if (s->prev) s->prev->next = s->next;
    else w->socks = s->next;
    if (s->next) s->next->prev = s->prev;
    uv_close((uv_handle_t *)&s->poll, webhook_sock_closed);
}

static void webhook_on_poll(uv_poll_t *p, int status, int events) {
    webhook_sock_t *s = p->data;
    webhook_t *w = s->w;
    int flags = 0, running;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    /* s may be closed inside (CURL_POLL_REMOVE): not touched after */
    curl_multi_socket_action(w->multi, s->fd, flags, &running);
    webhook_check(w);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what libcurl waits for. */
static int webhook_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    webhook_t *w = userp;
    webhook_sock_t *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            if (!w->stopping) curl_multi_assign(w->multi, fd, NULL);
            webhook_sock_close(w, s);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL || uv_poll_init_socket(w->loop->uv, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        s->w = w;
        s->fd = fd;
        s->next = w->socks;
        if (w->socks) w->socks->prev = s;
        w->socks = s;
        w->handles++;
        curl_multi_assign(w->multi, fd, s);
    }
    int ev = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    uv_poll_start(&s->poll, ev, webhook_on_poll);
    return 0;
}

static void webhook_on_timeout(uv_timer_t *t) {
    webhook_t *w = t->data;
    int running;
    curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    webhook_check(w);
}

/* CURLMOPT_TIMERFUNCTION: one timer, as libcurl asks (0: at once, from
 * the loop rather than from inside libcurl). */
static int webhook_on_timer(CURLM *multi, long timeout_ms, void *userp) {
    webhook_t *w = userp;
    if (timeout_ms < 0) uv_timer_stop(&w->timer);
    else uv_timer_start(&w->timer, webhook_on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* The receiver's answer body is not read by anyone. */
static size_t webhook_discard(char *p, size_t size, size_t n, void *arg) { return size * n; }

static int webhook_post_start(webhook_t *w, webhook_post_t *p) {
    char h[3][160];
    snprintf(h[0], sizeof(h[0]), "X-Pusher-Key: %s", p->key);
    snprintf(h[1], sizeof(h[1]), "X-Pusher-Signature: %s", p->sig);
    snprintf(h[2], sizeof(h[2]), "Content-Type: application/json");
    struct curl_slist *l = NULL;
    for (int i = 0; i < 3; i++) {
        struct curl_slist *n = curl_slist_append(l, h[i]);
        if (n == NULL) {
            curl_slist_free_all(l);
            return -1;
        }
        l = n;
    }
    struct curl_slist *n = curl_slist_append(l, "Expect:"); /* no 100-continue wait */
    if (n) l = n;
    CURL *e = curl_easy_init();
    if (e == NULL) {
        curl_slist_free_all(l);
        return -1;
    }
    curl_easy_setopt(e, CURLOPT_URL, p->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, w->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)w->body_len);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)w->loop->cfg->webhook_timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "heraldd/" HERALD_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, webhook_discard);
    curl_easy_setopt(e, CURLOPT_PRIVATE, p);
    if (curl_multi_add_handle(w->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        curl_slist_free_all(l);
        return -1;
    }
    p->easy = e;
    p->headers = l;
    p->ok = 0;
    w->running++;
    return 0;
}

static void webhook_post_end(webhook_t *w, webhook_post_t *p) {
    if (p->easy == NULL) return;
    curl_multi_remove_handle(w->multi, p->easy);
    curl_easy_cleanup(p->easy);
    curl_slist_free_all(p->headers);
    p->easy = NULL;
    p->headers = NULL;
    w->running--;
}

/* The batch is done with (sent, or given up): its events leave the hub's
 * count, and the next batch may start. */
static void webhook_batch_end(webhook_t *w) {
    for (size_t i = 0; i < w->nposts; i++) webhook_post_end(w, &w->posts[i]);
    webhook_events_free(w->batch);
    hub_hooks_done(w->loop->hub, w->nbatch);
    free(w->body);
    free(w->posts);
    w->batch = NULL;
    w->body = NULL;
    w->posts = NULL;
    w->nbatch = w->nposts = 0;
    w->attempt = w->waiting = 0;
}

static void webhook_on_retry(uv_timer_t *t) {
    webhook_t *w = t->data;
    w->waiting = 0;
    for (size_t i = 0; i < w->nposts; i++)
        if (!w->posts[i].ok && webhook_post_start(w, &w->posts[i]) != 0)
            log_error("out of memory: webhook of app %s not retried", w->posts[i].id);
    webhook_check(w);
}

/* Every POST of this round has ended: the batch is done, or the failed
 * ones go again after 0.5, 1, 2, 4, 8 s; then its events are dropped. */
static void webhook_round_end(webhook_t *w) {
    size_t failed = 0;
    for (size_t i = 0; i < w->nposts; i++) failed += !w->posts[i].ok;
    if (failed && w->attempt < WEBHOOK_RETRIES) {
        uint64_t delay = (uint64_t)WEBHOOK_BACKOFF_MS << w->attempt++;
        w->loop->stats.webhook_retries += failed;
        w->waiting = 1;
        uv_timer_start(&w->retry, webhook_on_retry, delay, 0);
        return;
    }
    if (failed) {
        log_warn("webhook: %zu event(s) dropped after %d tries", w->nbatch, WEBHOOK_RETRIES + 1);
        w->loop->stats.webhook_events_dropped += w->nbatch;
    }
    webhook_batch_end(w);
    webhook_pump(w);
}

/* Finished transfers: a 2xx is delivered, anything else is tried again. */
static void webhook_check(webhook_t *w) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) continue;
        webhook_post_t *p = NULL;
        long code = 0;
        CURLcode res = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        webhook_post_end(w, p);
        p->ok = res == CURLE_OK && code >= 200 && code < 300;
        if (p->ok) w->loop->stats.webhook_batches_sent++;
        else if (res != CURLE_OK)
            log_warn("webhook of app %s: %s", p->id, curl_easy_strerror(res));
        else
            log_warn("webhook of app %s: HTTP %ld", p->id, code);
    }
    if (w->body && w->running == 0 && !w->waiting) webhook_round_end(w);
}

/* The next batch: up to WEBHOOK_BATCH_MAX of the queued events, one body
 * for every app (each signs it with its own secret). */
static void webhook_pump(webhook_t *w) {
    if (w->body || w->queue == NULL || w->stopping || w->multi == NULL) return;
    webhook_event_t *last = w->queue;
    size_t n = 1;
    while (last->next && n < WEBHOOK_BATCH_MAX) last = last->next, n++;
    w->batch = w->queue;
    w->queue = last->next;
    if (w->queue == NULL) w->tail = &w->queue;
    last->next = NULL;
    w->nbatch = n;
    const secrets_t *sec = &w->loop->auth.secrets;
    w->posts = calloc(sec->napps ? sec->napps : 1, sizeof(*w->posts));
    w->body = w->posts ? webhook_body_format(w->batch, n, hub_wall_ms(), &w->body_len) : NULL;
    for (size_t i = 0; w->body && i < sec->napps; i++) {
        const pusher_app_t *a = &sec->apps[i];
        if (a->webhook_url[0] == '\0') continue;
        webhook_post_t *p = &w->posts[w->nposts++];
        memcpy(p->url, a->webhook_url, sizeof(p->url));
        memcpy(p->id, a->id, sizeof(p->id));
        memcpy(p->key, a->key, sizeof(p->key));
        webhook_signature(a->secret, a->secret_len, w->body, w->body_len, p->sig);
        if (webhook_post_start(w, p) != 0) p->ok = 0;
    }
    if (w->body == NULL) {
        log_error("out of memory: %zu webhook event(s) dropped", n);
        w->loop->stats.webhook_events_dropped += n;
    }
    if (w->body == NULL || w->nposts == 0) { /* no app has a URL any more */
        webhook_batch_end(w);
        return;
    }
    webhook_check(w);
}

static void webhook_on_wake(uv_async_t *a) {
    webhook_t *w = a->data;
    uint64_t dropped;
    webhook_event_t *list = hub_hooks_take(w->loop->hub, &dropped);
    w->loop->stats.webhook_events_dropped += dropped;
    if (dropped) log_warn("webhook: %llu event(s) dropped: webhook_queue_size is full",
                          (unsigned long long)dropped);
    *w->tail = list;
    while (*w->tail) w->tail = &(*w->tail)->next;
    webhook_pump(w);
}

webhook_t *webhook_start(loop_t *loop) {
    static int curl_ready;
    if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("libcurl did not start: no webhooks");
        return NULL;
    }
    curl_ready = 1;
    webhook_t *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        log_error("out of memory: no webhooks");
        return NULL;
    }
    w->loop = loop;
    w->tail = &w->queue;
    uv_async_init(loop->uv, &w->wake, webhook_on_wake);
    uv_timer_init(loop->uv, &w->timer);
    uv_timer_init(loop->uv, &w->retry);
    w->wake.data = w->timer.data = w->retry.data = w;
    w->handles = 3;
    webhook_configure(w);
    return w;
}

void webhook_configure(webhook_t *w) {
    if (w == NULL) return;
    const secrets_t *sec = &w->loop->auth.secrets;
    size_t urls = 0;
    for (size_t i = 0; i < sec->napps; i++) urls += sec->apps[i].webhook_url[0] != '\0';
    /* libcurl's multi handle holds descriptors: made when first needed */
    if (urls && w->multi == NULL) {
        if ((w->multi = curl_multi_init()) == NULL) {
            log_error("out of memory: no webhooks");
            urls = 0;
        } else {
            curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, webhook_on_socket);
            curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
            curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, webhook_on_timer);
            curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
        }
    }
    hub_hooks_open(w->loop->hub, urls ? &w->wake : NULL, w->loop->cfg->webhook_queue_size);
    if (urls)
        log_info("webhooks: %zu app(s) with a webhook URL", urls);
}

void webhook_stop(webhook_t *w) {
    if (w == NULL) return;
    hub_hooks_open(w->loop->hub, NULL, 0); /* nothing more is queued or woken */
    w->stopping = 1;
    if (w->body) webhook_batch_end(w);
    hub_hooks_done(w->loop->hub, webhook_events_free(w->queue));
    w->queue = NULL;
    if (w->multi) curl_multi_cleanup(w->multi); /* its connections close: sockets may go */
    w->multi = NULL;
    while (w->socks) webhook_sock_close(w, w->socks);
    uv_close((uv_handle_t *)&w->wake, webhook_on_handle_closed);
    uv_close((uv_handle_t *)&w->timer, webhook_on_handle_closed);
    uv_close((uv_handle_t *)&w->retry, webhook_on_handle_closed);
}
