#include "hub.h"

#include "conn.h"
#include "fdlimit.h"
#include "log.h"
#include "notify.h"
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t hub_workers_resolve(uint64_t workers) {
    if (workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n > 0 ? (uint64_t)n : 1;
    }
    return workers > HUB_LOOPS_MAX ? HUB_LOOPS_MAX : (size_t)workers;
}

int hub_init(hub_t *hub, const config_t *cfg, int argc, char **argv) {
    memset(hub, 0, sizeof(*hub));
    atomic_init(&hub->fd_room, SIZE_MAX);
    hub->start_ms = server_wall_ms();
    hub->nloops = hub_workers_resolve(cfg->workers);
    pthread_mutex_init(&hub->lock, NULL);
    pthread_mutex_init(&hub->peers_lock, NULL);
    hub->loops = calloc(hub->nloops, sizeof(*hub->loops));
    hub->uvloops = calloc(hub->nloops, sizeof(*hub->uvloops));
    hub->threads = calloc(hub->nloops, sizeof(*hub->threads));
    if (hub->loops == NULL || hub->uvloops == NULL || hub->threads == NULL ||
        channel_table_init(&hub->channels) != 0 || peer_table_init(&hub->peers) != 0) {
        log_error("out of memory");
        return -1;
    }
    for (size_t i = 0; i < hub->nloops; i++) {
        server_t *srv = &hub->loops[i];
        if (uv_loop_init(&hub->uvloops[i]) != 0 ||
            server_init(srv, &hub->uvloops[i], cfg) != 0)
            return -1;
        srv->hub = hub;
        srv->index = (unsigned)i;
        srv->argc = argc;
        srv->argv = argv;
    }
    return 0;
}

static void hub_thread(void *arg) {
    server_t *srv = arg;
    uv_run(srv->loop, UV_RUN_DEFAULT);
}

int hub_run(hub_t *hub) {
    int rc = 0;
    size_t started = 0;
    while (started < hub->nloops && rc == 0)
        if (server_start(&hub->loops[started++]) != 0) rc = 1;
    if (rc != 0) {
        for (size_t i = 0; i < started; i++) {
            server_shutdown(&hub->loops[i]);
            uv_run(hub->loops[i].loop, UV_RUN_DEFAULT);
        }
        return 1;
    }
    hub->fd_base = fdlimit_open_count();
    atomic_store(&hub->fd_room, fdlimit_fit(hub->loops[0].cfg->max_connections, hub->fd_base));
    if (hub->nloops > 1)
        log_info("%zu event loops (workers), public listener shared with SO_REUSEPORT", hub->nloops);
    for (size_t i = 1; i < hub->nloops; i++) {
        if (uv_thread_create(&hub->threads[i], hub_thread, &hub->loops[i]) != 0) {
            log_error("cannot start the thread of loop %zu", i);
            hub->nloops = i; /* the loops already running still stop below */
            hub_broadcast(&hub->loops[0], HUB_SHUTDOWN);
            server_shutdown(&hub->loops[0]);
            rc = 1;
            break;
        }
    }
    hub->started = 1;
    if (rc == 0) {
        log_info("heraldd ready");
        notify_send("READY=1");
    }
    uv_run(hub->loops[0].loop, UV_RUN_DEFAULT);
    for (size_t i = 1; i < hub->nloops; i++) uv_thread_join(&hub->threads[i]);
    return rc;
}

void hub_free(hub_t *hub) {
    if (hub->loops) {
        for (size_t i = 0; i < hub->nloops; i++) {
            if (hub->loops[i].loop == NULL) continue;
            server_free(&hub->loops[i]);
            uv_loop_close(&hub->uvloops[i]);
        }
    }
    if (hub->channels.buckets) channel_table_free(&hub->channels);
    if (hub->peers.buckets) peer_table_free(&hub->peers);
    pthread_mutex_destroy(&hub->lock);
    pthread_mutex_destroy(&hub->peers_lock);
    free(hub->loops);
    free(hub->uvloops);
    free(hub->threads);
    memset(hub, 0, sizeof(*hub));
}

/* The per-subscription last id makes a delivery idempotent: a message a
 * resume already replayed (or one queued before the subscription began)
 * is skipped with one compare. */
size_t hub_deliver_local(server_t *srv, const char *name, size_t len, message_t *m) {
    channel_t *ch = channel_find(&srv->channels, name, len);
    size_t n = 0;
    if (ch == NULL || ch->subs == NULL) return 0;
    server_published(srv, uv_hrtime());
    ch->busy++;
    sub_t *next;
    for (sub_t *s = ch->subs; s; s = next) {
        next = s->next; /* a slow consumer leaves the list while we walk */
        if (s->last_id >= m->id) continue;
        s->last_id = m->id;
        if (conn_deliver(s->conn, ch, m) == 0) n++;
    }
    ch->busy--;
    buf_unref(m->sse); /* SSE is encoded once per loop, when a loop has SSE clients */
    m->sse = NULL;
    return n;
}

/* One allocation per emit however many loops: the nodes for every inbox
 * and the channel name ride with the message. */
static hub_msg_t *hub_msg_new(hub_t *hub, const message_t *m, const char *name, size_t len) {
    hub_msg_t *hm = malloc(sizeof(*hm) + hub->nloops * sizeof(hub_node_t) + len);
    if (hm == NULL) return NULL;
    char *p = (char *)&hm->nodes[hub->nloops];
    memcpy(p, name, len);
    hm->name = p;
    hm->name_len = (uint16_t)len;
    hm->m = *m;
    hm->m.sse = NULL;
    buf_ref(hm->m.ws);
    atomic_init(&hm->refs, 0);
    for (size_t i = 0; i < hub->nloops; i++) hm->nodes[i].msg = hm;
    return hm;
}

static void hub_msg_release(hub_msg_t *hm) {
    if (atomic_fetch_sub_explicit(&hm->refs, 1, memory_order_acq_rel) == 1) {
        buf_unref(hm->m.ws);
        free(hm);
    }
}

/* Ids, history and the hand-over to other loops happen under the lock, so
 * every inbox receives a channel's messages in id order; the emitting
 * loop delivers its own subscribers right after (only loop 0 has emit
 * listeners, so no other loop's emit can come between). */
int hub_publish(server_t *srv, const char *channel, size_t channel_len,
                const char *data, size_t len, uint64_t *id, size_t *subscribers) {
    hub_t *hub = srv->hub;
    if (herald_channel_check(channel, channel_len) != 0) return -1;
    uint64_t now = server_wall_ms();
    message_t m;
    pthread_mutex_lock(&hub->lock);
    channel_t *ch = channel_get(&hub->channels, channel, channel_len, now, srv->cfg->history_size);
    if (ch == NULL || channel_message_build(&m, ch, ch->next_id, now, data, len) != 0) {
        pthread_mutex_unlock(&hub->lock);
        return -2;
    }
    history_expire(&ch->hist, now, srv->cfg->history_ttl_ms);
    ch->next_id++;
    history_push(&ch->hist, &m);
    size_t everywhere = ch->nsubs;
    /* Only loops with subscribers to this channel are handed the message:
     * with per-user channels most emits concern one loop. */
    uint64_t others = ch->loops & ~(UINT64_C(1) << srv->index);
    if (others) {
        hub_msg_t *hm = hub_msg_new(hub, &m, channel, channel_len);
        if (hm) {
            unsigned refs = 0;
            for (size_t i = 0; i < hub->nloops; i++) {
                server_t *o = &hub->loops[i];
                if (!(others & (UINT64_C(1) << i)) || !o->inbox_open) continue;
                refs++;
            }
            atomic_store_explicit(&hm->refs, refs ? refs : 1, memory_order_relaxed);
            for (size_t i = 0; i < hub->nloops; i++) {
                server_t *o = &hub->loops[i];
                if (!(others & (UINT64_C(1) << i)) || !o->inbox_open) continue;
                mpsc_push(&o->inbox, &hm->nodes[i].node);
                uv_async_send(&o->wake); /* under the lock: hub_loop_close
                                          * takes it before closing the handle */
            }
            if (refs == 0) hub_msg_release(hm);
        } else {
            log_error("out of memory: message %llu not handed to the other loops",
                      (unsigned long long)m.id);
        }
    }
    pthread_mutex_unlock(&hub->lock);
    channel_t *local = channel_find(&srv->channels, channel, channel_len);
    size_t here = local ? local->nsubs : 0;
    size_t n = hub_deliver_local(srv, channel, channel_len, &m);
    if (everywhere > here) n += everywhere - here; /* queued by the other loops */
    buf_unref(m.ws);
    srv->stats.messages_emitted++;
    *id = m.id;
    *subscribers = n;
    return 0;
}

int hub_subscribe(server_t *srv, const char *plain, size_t len, int counted,
                  int has_since, uint64_t since, uint64_t *last,
                  message_t **replay, size_t *nreplay) {
    hub_t *hub = srv->hub;
    uint64_t now = server_wall_ms();
    *replay = NULL;
    *nreplay = 0;
    pthread_mutex_lock(&hub->lock);
    channel_t *ch = channel_get(&hub->channels, plain, len, now, srv->cfg->history_size);
    if (ch == NULL) {
        pthread_mutex_unlock(&hub->lock);
        return -1;
    }
    if (counted) {
        ch->nsubs++;
        ch->loops |= UINT64_C(1) << srv->index;
    }
    history_expire(&ch->hist, now, srv->cfg->history_ttl_ms);
    size_t start = 0;
    int ok = 1;
    if (has_since) ok = history_since(&ch->hist, since, ch->base_id, ch->next_id, &start);
    *last = ch->next_id - 1;
    size_t count = history_count(&ch->hist);
    if (has_since && ok && start < count) {
        message_t *r = malloc((count - start) * sizeof(*r));
        if (r) {
            for (size_t i = start; i < count; i++) {
                r[i - start] = *history_at(&ch->hist, i);
                r[i - start].sse = NULL;
                buf_ref(r[i - start].ws);
            }
            *replay = r;
            *nreplay = count - start;
        } else {
            ok = 0; /* cannot replay: say gap, the client reloads */
        }
    }
    pthread_mutex_unlock(&hub->lock);
    return ok;
}

void hub_unsubscribe(server_t *srv, sub_t *const *subs, size_t n) {
    hub_t *hub = srv->hub;
    if (n == 0) return;
    pthread_mutex_lock(&hub->lock);
    for (size_t i = 0; i < n; i++) {
        channel_t *sh = channel_find(&hub->channels, subs[i]->ch->name, subs[i]->ch->name_len);
        if (sh && sh->nsubs) sh->nsubs--;
        /* still counted in the loop's own channel: 1 means it was the last */
        if (sh && subs[i]->ch->nsubs <= 1) sh->loops &= ~(UINT64_C(1) << srv->index);
    }
    pthread_mutex_unlock(&hub->lock);
}

void hub_broadcast(server_t *from, int what) {
    hub_t *hub = from->hub;
    if (hub == NULL) return;
    pthread_mutex_lock(&hub->lock);
    for (size_t i = 0; i < hub->nloops; i++) {
        server_t *o = &hub->loops[i];
        if (o == from || !o->inbox_open) continue;
        atomic_fetch_or(&o->pending, what);
        uv_async_send(&o->wake);
    }
    pthread_mutex_unlock(&hub->lock);
}

/* Everything queued for this loop since the last wake, in order. */
void hub_on_wake(uv_async_t *a) {
    server_t *srv = a->data;
    mpsc_node_t *n;
    while ((n = mpsc_pop(&srv->inbox)) != NULL) {
        hub_msg_t *hm = ((hub_node_t *)n)->msg;
        message_t m = hm->m;
        srv->stats.messages_handed_over++;
        hub_deliver_local(srv, hm->name, hm->name_len, &m);
        hub_msg_release(hm);
    }
    int what = atomic_exchange(&srv->pending, 0);
    if (what & HUB_RELOAD) server_reload(srv);
    if (what & HUB_SHUTDOWN) server_shutdown(srv);
}

/* No producer pushes once inbox_open is cleared under the lock, so what is
 * left can be released and the handle closed safely. */
void hub_loop_close(server_t *srv) {
    if (srv->hub == NULL || !srv->inbox_open) return;
    pthread_mutex_lock(&srv->hub->lock);
    srv->inbox_open = 0;
    pthread_mutex_unlock(&srv->hub->lock);
    mpsc_node_t *n;
    while ((n = mpsc_pop(&srv->inbox)) != NULL) hub_msg_release(((hub_node_t *)n)->msg);
    uv_close((uv_handle_t *)&srv->wake, NULL);
}

/* Its own lock, not the channels': taken once per accept and close of a
 * public connection, never per message. */
uint32_t hub_peer_incr(hub_t *hub, const peer_addr_t *a) {
    pthread_mutex_lock(&hub->peers_lock);
    uint32_t n = peer_table_incr(&hub->peers, a);
    pthread_mutex_unlock(&hub->peers_lock);
    return n;
}

void hub_peer_decr(hub_t *hub, const peer_addr_t *a) {
    pthread_mutex_lock(&hub->peers_lock);
    peer_table_decr(&hub->peers, a);
    pthread_mutex_unlock(&hub->peers_lock);
}

void hub_sweep(hub_t *hub, uint64_t now_ms, uint64_t ttl_ms) {
    pthread_mutex_lock(&hub->lock);
    channel_table_sweep(&hub->channels, now_ms, ttl_ms);
    pthread_mutex_unlock(&hub->lock);
}

/* Other loops publish a copy of their counters at each sweep tick, so a
 * /stats or /metrics answer is at most one tick old for them and live for
 * this loop. */
stats_t *hub_stats_collect(server_t *srv, size_t *nloops, size_t *channels) {
    hub_t *hub = srv->hub;
    *nloops = hub->nloops;
    stats_t *each = calloc(hub->nloops, sizeof(*each));
    if (each == NULL) return NULL;
    for (size_t i = 0; i < hub->nloops; i++) {
        server_t *o = &hub->loops[i];
        if (o == srv) {
            each[i] = srv->stats;
        } else {
            pthread_mutex_lock(&o->snap_lock);
            each[i] = o->snap;
            pthread_mutex_unlock(&o->snap_lock);
        }
    }
    pthread_mutex_lock(&hub->lock);
    *channels = hub->channels.count;
    pthread_mutex_unlock(&hub->lock);
    return each;
}

int hub_stats_format(server_t *srv, char *out, size_t size) {
    stats_t total;
    memset(&total, 0, sizeof(total));
    size_t nloops, channels;
    stats_t *each = hub_stats_collect(srv, &nloops, &channels);
    if (each == NULL) return -1;
    for (size_t i = 0; i < nloops; i++) stats_add(&total, &each[i]);
    int n = stats_format(&total, channels, out, size);
    if (n < 0 || (size_t)n < 2) {
        free(each);
        return -1;
    }
    size_t len = (size_t)n - 2; /* reopen the object before its "}\n" */
    int k = snprintf(out + len, size - len, ",\"workers\":%zu,\"loops\":[", nloops);
    for (size_t i = 0; k >= 0 && (size_t)k < size - len && i < nloops; i++) {
        len += (size_t)k;
        k = snprintf(out + len, size - len,
                     "%s{\"connections\":%llu,\"connections_accepted\":%llu,\"ws_connections\":%llu,"
                     "\"frames_delivered\":%llu,\"socket_writes\":%llu,\"messages_emitted\":%llu,"
                     "\"messages_handed_over\":%llu}",
                     i ? "," : "",
                     (unsigned long long)(each[i].public_connections_open + each[i].emit_connections_open),
                     (unsigned long long)each[i].public_connections_accepted,
                     (unsigned long long)each[i].ws_connections_open,
                     (unsigned long long)each[i].frames_delivered,
                     (unsigned long long)each[i].socket_writes,
                     (unsigned long long)each[i].messages_emitted,
                     (unsigned long long)each[i].messages_handed_over);
    }
    free(each);
    if (k < 0 || (size_t)k >= size - len) return -1;
    len += (size_t)k;
    k = snprintf(out + len, size - len, "]}\n");
    if (k < 0 || (size_t)k >= size - len) return -1;
    return (int)(len + (size_t)k);
}
