#include "loop.h"

#include "fdlimit.h"
#include "log.h"
#include "presenceredis.h"
#include "redis.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The request limits derived from the config (also after a reload). */
static void loop_limits_set(loop_t *loop, const config_t *cfg) {
    loop->public_limits = (http_limits_t){cfg->max_url_bytes, cfg->max_header_count,
                                          cfg->max_header_bytes, 4096};
    loop->emit_limits = (http_limits_t){cfg->max_url_bytes, cfg->max_header_count,
                                        cfg->max_header_bytes, cfg->max_emit_body_bytes};
}

/* Everything the configuration says about who may do what, loaded apart
 * from the running loop so a reload can refuse it whole. */
static int loop_auth_load(loop_auth_t *a, const config_t *cfg, char *err, size_t es) {
    memset(a, 0, sizeof(*a));
    char why[400];
    if (peer_cidr_list_parse(cfg->trusted_proxies, a->trusted, PEER_CIDR_MAX, &a->ntrusted,
                             why, sizeof(why)) != 0) {
        snprintf(err, es, "trusted_proxies: %s", why);
        return -1;
    }
    return secrets_load(&a->secrets, cfg, err, es);
}

int loop_init(loop_t *loop, uv_loop_t *uv, const config_t *cfg, hub_t *hub, unsigned index,
              const loop_conn_ops_t *ops, int argc, char **argv) {
    memset(loop, 0, sizeof(*loop));
    loop->uv = uv;
    idem_init(&loop->idem, cfg->idempotency_max_keys, cfg->idempotency_window_ms);
    loop->cfg = cfg;
    loop->hub = hub;
    loop->index = index;
    loop->ops = ops;
    loop->src.argc = argc;
    loop->src.argv = argv;
    loop_limits_set(loop, cfg);
    loop->rbuf = malloc(LOOP_READ_BUF);
    if (loop->rbuf == NULL || channel_table_init(&loop->channels) != 0) {
        log_error("out of memory");
        return -1;
    }
    char err[512];
    if (loop_auth_load(&loop->auth, cfg, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return -1;
    }
    if (index == 0) {
        if (loop->auth.secrets.nkeys)
            log_info("loaded %zu secret(s) for signed channel names", loop->auth.secrets.nkeys);
        else
            log_warn("no secret_file: only public_channels can be subscribed to");
    }
    return 0;
}

/* heraldd refuses connections before the open-file limit is reached
 * (conn.c); what still arrives here is the system-wide table being full,
 * or descriptors taken by something else. */
static void loop_on_connection(uv_stream_t *s, int status) {
    listener_t *l = s->data;
    loop_t *loop = l->loop;
    if (status == UV_EMFILE || status == UV_ENFILE) {
        loop->stats.fd_limit_refused++;
        if (loop_log_throttle(loop))
            log_error("accept on %s: out of file descriptors (%s; open-file limit %llu)", l->addr,
                      status == UV_EMFILE ? "this process" : "the whole system",
                      (unsigned long long)fdlimit_current());
        return;
    }
    if (status < 0) {
        log_warn("accept on %s: %s", l->addr, uv_strerror(status));
        return;
    }
    loop->ops->accept(l);
}

int loop_log_throttle(loop_t *loop) {
    uint64_t now = uv_now(loop->uv);
    if (loop->refused_logged_ms != 0 && now - loop->refused_logged_ms < 1000) return 0;
    loop->refused_logged_ms = now ? now : 1;
    return 1;
}

int loop_listen(loop_t *loop, int kind, const char *addr, const struct route_table *routes,
                void (*on_request)(struct conn *c, http_req_t *req)) {
    assert(loop->nlisteners < LOOP_LISTENERS_MAX);
    listener_t *l = &loop->listeners[loop->nlisteners++];
    l->loop = loop;
    l->kind = kind;
    l->routes = routes;
    l->on_request = on_request;
    snprintf(l->addr, sizeof(l->addr), "%s", addr);
    unsigned flags = kind == LISTEN_PUBLIC && loop->hub->nloops > 1 ? LISTEN_REUSEPORT : 0;
    listen_unix_perm_t perm = {(uint32_t)loop->cfg->emit_socket_mode, loop->cfg->emit_socket_group};
    int state;
    int rc = listen_open(loop->uv, &l->h, addr, flags, &perm, loop_on_connection, &state);
    l->h.handle.data = l;
    l->open = state >= LISTEN_INIT;
    if (state >= LISTEN_BOUND && strncmp(addr, "unix:", 5) == 0)
        snprintf(l->unix_path, sizeof(l->unix_path), "%s", addr + 5);
    l->made_dir = state == LISTEN_BOUND_DIR;
    if (rc == 0 && loop->index == 0)
        log_info("listening on %s (%s)", addr, kind == LISTEN_PUBLIC ? "public" : "emit");
    return rc;
}

/* A loop's own channel table holds only its subscriber lists (ids and
 * history are the hub's): a channel goes when its last subscriber does,
 * and the sweep (a bounded part of the table per tick) frees those a
 * delivery in progress kept. */
static void loop_on_sweep(uv_timer_t *t) {
    loop_t *loop = t->data;
    loop->ops->sweep(loop, uv_now(loop->uv));
    channel_table_sweep(&loop->channels, hub_wall_ms(), 0, HUB_SWEEP_BUCKETS * HUB_SWEEP_CHUNKS);
    if (loop->index == 0) hub_sweep(loop->hub, hub_wall_ms(), loop->cfg);
    idem_expire(&loop->idem, hub_wall_ms());
    loop->stats.idempotency_keys = loop->idem.count;
    loop->stats.idempotency_evicted = loop->idem.evicted;
    hub_stats_publish(loop->hub, loop->index, &loop->stats);
}

static uint64_t loop_min(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* One sweep timer for every connection: fine-grained enough for the
 * shortest configured interval, at most once a second otherwise. */
static uint64_t loop_sweep_tick(const config_t *cfg) {
    uint64_t tick = loop_min(1000, loop_min(cfg->ping_interval_ms, cfg->pong_timeout_ms) / 2);
    tick = loop_min(tick, cfg->sse_heartbeat_ms / 2);
    tick = loop_min(tick, loop_min(cfg->handshake_timeout_ms, cfg->request_timeout_ms) / 2);
    if (cfg->emit_idle_timeout_ms) tick = loop_min(tick, cfg->emit_idle_timeout_ms / 2);
    return tick < 5 ? 5 : tick;
}

static void loop_flush(loop_t *loop);

static void loop_on_cork(uv_timer_t *t) {
    loop_t *loop = t->data;
    loop->out.hold.end = 1; /* the stream paused: the next flush writes everything */
    loop_flush(loop);
}

/* Runs in the loop's check phase, after all reads of this iteration were
 * handled. Answers go out at once; subscribers' frames too, unless emits
 * are streaming in: then they are held while the stream goes on (cork.h
 * says how long), and a burst leaves in one writev per client. */
static void loop_flush(loop_t *loop) {
    loop_output_t *o = &loop->out;
    if (o->to_wake) { /* first, so they write while this loop does */
        hub_wake(loop->hub, o->to_wake);
        o->to_wake = 0;
    }
    loop->ops->flush(&o->dirty_now);
    uint64_t now = uv_hrtime();
    if (o->emit_ns > o->hold.check_ns) o->emitted_ns = now;
    assert((o->dirty == NULL) == (o->ndirty == 0));
    unsigned what = cork_turn(&o->hold, now, o->ndirty, loop->state == LOOP_RUNNING);
    if (what & CORK_DISARM) uv_timer_stop(&o->cork);
    if (what & CORK_ARM) uv_timer_start(&o->cork, loop_on_cork, cork_gap_ns(&o->hold) / 1000000 + 1, 0);
    if (!(what & CORK_WRITE)) return;
    loop->ops->flush(&o->dirty);
    cork_written(&o->hold, uv_hrtime());
}

static void loop_on_check(uv_check_t *h) { loop_flush(h->data); }

/* One handed-over message, or a cluster notice about a channel (its
 * state came from Redis, or its subscribers missed messages), which the
 * owner answers (on_channel); both keep their order in the batch. */
static void loop_on_handed(void *ctx, hub_msg_t *hm) {
    loop_t *loop = ctx;
    if (hm->kind != HUB_MSG_DATA) {
        if (loop->on_channel) loop->on_channel(loop, hm->kind, hm->name, hm->name_len);
        return;
    }
    message_t m = hm->m;
    loop->stats.messages_handed_over++;
    if (hm->stream) loop->out.hold.stream_in = 1;
    if (hm->stream == HUB_STREAM_REMOTE) loop->out.hold.remote_in = 1;
    loop->ops->deliver(loop, hm->name, hm->name_len, &m);
}

/* Everything handed to this loop until its inbox stays empty, in order
 * (senders do not wake a loop that is still popping: hub.c); then what
 * loop 0 asked of every loop (reload, shutdown). */
static void loop_on_wake(uv_async_t *a) {
    loop_t *loop = a->data;
    loop->out.handing = 1;
    hub_mailbox_drain(loop->hub, loop->index, loop_on_handed, loop);
    loop->out.handing = 0;
    hub_note_t *n;
    while ((n = hub_note_pop(loop->hub, loop->index)) != NULL) {
        if (loop->ops->presence) loop->ops->presence(loop, n);
        hub_note_release(n);
    }
    hub_handoff_t *h;
    while ((h = hub_handoff_pop(loop->hub, loop->index)) != NULL) loop->ops->adopt(loop, h);
    int what = hub_pending_take(loop->hub, loop->index);
    if (what & HUB_RELOAD) loop_reload(loop);
    if (what & HUB_SHUTDOWN) loop_shutdown(loop);
}

int loop_publish(loop_t *loop, const char *channel, size_t channel_len, const char *data,
                 size_t len, uint64_t *id, size_t *subscribers) {
    message_t m;
    size_t everywhere;
    if (loop->hub->cluster) return HUB_ECLUSTER; /* local ids would fork the cluster's */
    uint64_t handed;
    loop_output_t *o = &loop->out;
    uint64_t now = uv_hrtime();
    /* loop_flush's rule, for the loops this is handed to: emits stream in
     * when one comes within LOOP_CORK_NS of the end of the last turn that
     * had emits (whether or not this loop has subscribers of their own) */
    int stream = o->emitted_ns && now - o->emitted_ns < LOOP_CORK_NS;
    o->emit_ns = now;
    int rc = hub_publish(loop->hub, loop->index, loop->cfg, channel, channel_len, data, len,
                         stream, &m, &everywhere, &handed);
    if (rc != 0) return rc;
    o->to_wake |= handed;
    channel_t *local = channel_find(&loop->channels, channel, channel_len);
    size_t here = local ? local->nsubs : 0;
    if (loop->bcast && channel_is_public(loop->cfg->socketio_channels, channel, channel_len))
        here += loop->hub->boxes[loop->index].bcast;
    size_t n = loop->ops->deliver(loop, channel, channel_len, &m);
    if (everywhere > here) n += everywhere - here; /* queued by the other loops */
    buf_unref(m.ws);
    loop->stats.messages_emitted++;
    *id = m.id;
    *subscribers = n;
    return 0;
}

int loop_reload(loop_t *loop) {
    char err[512];
    int action;
    config_t *cfg = malloc(sizeof(*cfg));
    loop_auth_t auth;
    if (cfg == NULL || config_load(cfg, loop->src.argc, loop->src.argv, &action, err, sizeof(err)) != 0) {
        log_error("reload refused, keeping the running configuration: %s", cfg ? err : "out of memory");
        free(cfg);
        return -1;
    }
    if (loop_auth_load(&auth, cfg, err, sizeof(err)) != 0) {
        log_error("reload refused, keeping the running configuration: %s", err);
        free(cfg);
        return -1;
    }
    if (loop->index == 0) config_diff_log(loop->cfg, cfg);
    config_keep_fixed(cfg, loop->cfg); /* listeners change only on a restart */
    secrets_free(&loop->auth.secrets);
    loop->auth = auth;
    loop->auth_gen++;
    idem_limits_set(&loop->idem, cfg->idempotency_max_keys, cfg->idempotency_window_ms, hub_wall_ms());
    free(loop->src.owned);
    loop->cfg = loop->src.owned = cfg;
    loop_limits_set(loop, cfg);
    log_level_set(cfg->log_level);
    uv_timer_set_repeat(&loop->sweep, loop_sweep_tick(cfg));
    loop->stats.reloads++;
    if (loop->index == 0)
        atomic_store(&loop->hub->fd_room, fdlimit_fit(cfg->max_connections, loop->hub->fd_base));
    if (loop->index == 0)
        log_info("reloaded: %zu secret(s), emit secret %s", auth.secrets.nkeys,
                 auth.secrets.emit_token_len ? "set" : "not set");
    return 0;
}

int loop_start(loop_t *loop) {
    uint64_t tick = loop_sweep_tick(loop->cfg);
    uv_timer_init(loop->uv, &loop->sweep);
    loop->sweep.data = loop;
    uv_timer_start(&loop->sweep, loop_on_sweep, tick, tick);
    uv_timer_init(loop->uv, &loop->out.cork);
    loop->out.cork.data = loop;
    uv_check_init(loop->uv, &loop->out.flush);
    loop->out.flush.data = loop;
    uv_check_start(&loop->out.flush, loop_on_check);
    uv_timer_init(loop->uv, &loop->shutdown_timer);
    loop->shutdown_timer.data = loop;
    uv_async_init(loop->uv, &loop->wake, loop_on_wake);
    loop->wake.data = loop;
    hub_mailbox_open(loop->hub, loop->index, &loop->wake);
    /* before the other loops run, so no subscription misses cluster mode */
    if (loop->index == 0 && (loop->cfg->redis[0] || loop->cfg->redis_cluster[0])) {
        loop->redis = redis_link_start(loop->uv, loop->hub, &loop->cfg, &loop->stats);
        if (loop->redis == NULL) return -1;
        if ((loop->presence = presenceredis_start(loop->uv, loop->hub, loop->redis, &loop->cfg)) == NULL)
            log_error("out of memory: presence- subscribes are refused");
    }
    return 0;
}

static void loop_on_shutdown_timeout(uv_timer_t *t) {
    loop_t *loop = t->data;
    log_warn("shutdown_timeout_ms reached: closing %zu connection(s)", loop->nconns);
    loop->ops->close_all(loop, 1);
}

static void loop_close_listeners(loop_t *loop) {
    for (size_t i = 0; i < loop->nlisteners; i++) {
        listener_t *l = &loop->listeners[i];
        if (!l->open) continue;
        l->open = 0;
        uv_close(&l->h.handle, NULL);
        if (l->unix_path[0]) unlink(l->unix_path);
        if (l->made_dir) { /* not under systemd's RuntimeDirectory: leave no trace */
            char *slash = strrchr(l->unix_path, '/');
            if (slash && slash != l->unix_path) {
                *slash = '\0';
                rmdir(l->unix_path); /* only if empty: another socket may live there */
            }
        }
    }
}

/* First call: stop accepting, close 1001 to WebSocket clients, end SSE
 * streams and answered HTTP; later calls (when the last connection closes)
 * release the loop's own handles so uv_run returns. */
void loop_shutdown(loop_t *loop) {
    if (loop->state == LOOP_RUNNING) {
        loop->state = LOOP_STOPPING;
        loop_close_listeners(loop);
        loop->ops->close_all(loop, 0);
        if (loop->cfg->shutdown_timeout_ms)
            uv_timer_start(&loop->shutdown_timer, loop_on_shutdown_timeout,
                           loop->cfg->shutdown_timeout_ms, 0);
        else
            loop_on_shutdown_timeout(&loop->shutdown_timer);
    }
    if (loop->nconns == 0 && loop->state == LOOP_STOPPING) {
        loop->state = LOOP_STOPPED;
        if (loop->out.to_wake) hub_wake(loop->hub, loop->out.to_wake); /* the last turn's */
        loop->out.to_wake = 0;
        uv_close((uv_handle_t *)&loop->sweep, NULL);
        uv_close((uv_handle_t *)&loop->out.flush, NULL);
        uv_close((uv_handle_t *)&loop->out.cork, NULL);
        uv_close((uv_handle_t *)&loop->shutdown_timer, NULL);
        if (loop->redis) {
            presenceredis_stop(loop->presence);
            loop->presence = NULL;
            redis_link_stop(loop->redis);
            loop->redis = NULL;
        }
        if (loop->hub->boxes[loop->index].open) {
            hub_mailbox_close(loop->hub, loop->index);
            uv_close((uv_handle_t *)&loop->wake, NULL);
        }
        if (loop->stopped_cb) loop->stopped_cb(loop);
    }
}

void loop_free(loop_t *loop) {
    idem_free(&loop->idem);
    channel_table_free(&loop->channels);
    secrets_free(&loop->auth.secrets);
    free(loop->rbuf);
    free(loop->src.owned);
    while (loop->out.wr_free) {
        uv_write_t *w = loop->out.wr_free;
        loop->out.wr_free = w->data;
        free(w);
    }
}
