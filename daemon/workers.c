#include "workers.h"

#include "accept.h"
#include "conn.h"
#include "emit.h"
#include "fdlimit.h"
#include "log.h"
#include "notify.h"
#include "public.h"
#include "pusher.h"
#include "route.h"
#include "subscribe.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The connection layer as the loops see it (loop.h): accepting and handing
 * over in accept.c, the rest in conn.c. */
static const loop_conn_ops_t workers_conn_ops = {
    .accept = accept_connection,
    .flush = conn_flush_list,
    .sweep = conn_sweep,
    .deliver = conn_deliver_local,
    .close_all = conn_close_all,
    .adopt = accept_adopt,
    .presence = pusher_presence_deliver,
};

/* The workers key: 0 (auto) means one per CPU, except on 2 CPUs or
 * fewer, where it means one: there a second loop gets no core of its own
 * (php-fpm, nginx, the clients and the kernel's share of every write need
 * the other), and bench/RESULTS.md measured two loops delivering less
 * than one, at more CPU per frame, in every emit pattern. At most
 * HUB_LOOPS_MAX. */
static size_t workers_resolve(uint64_t workers) {
    if (workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n > 2 ? (uint64_t)n : 1;
    }
    return workers > HUB_LOOPS_MAX ? HUB_LOOPS_MAX : (size_t)workers;
}

int workers_init(workers_t *w, const config_t *cfg, int argc, char **argv) {
    memset(w, 0, sizeof(*w));
    w->nloops = workers_resolve(cfg->workers);
    w->loops = calloc(w->nloops, sizeof(*w->loops));
    w->uvloops = calloc(w->nloops, sizeof(*w->uvloops));
    w->threads = calloc(w->nloops, sizeof(*w->threads));
    if (w->loops == NULL || w->uvloops == NULL || w->threads == NULL ||
        hub_init(&w->hub, w->nloops) != 0) {
        log_error("out of memory");
        return -1;
    }
    for (size_t i = 0; i < w->nloops; i++) {
        if (uv_loop_init(&w->uvloops[i]) != 0 ||
            loop_init(&w->loops[i], &w->uvloops[i], cfg, &w->hub, (unsigned)i, &workers_conn_ops,
                      argc, argv) != 0)
            return -1;
        w->loops[i].on_channel = subscribe_on_channel;
    }
    return 0;
}

static workers_t *workers_of(uv_signal_t *s) { return s->data; }

/* Loop 0 applies a signal and passes it on; the others learn of it
 * through their mailboxes. */
static void workers_on_signal(uv_signal_t *s, int signum) {
    workers_t *w = workers_of(s);
    loop_t *main_loop = &w->loops[0];
    if (signum == SIGHUP) {
        log_info("SIGHUP: reloading the configuration");
        notify_send("RELOADING=1");
        if (loop_reload(main_loop) == 0) {
            webhook_configure(w->webhook); /* webhook URLs may have come or gone */
            hub_broadcast(&w->hub, 0, HUB_RELOAD);
        }
        notify_send("READY=1"); /* reloaded, or still running the old one */
        return;
    }
    log_info("signal %d: shutting down", signum);
    notify_send("STOPPING=1");
    hub_broadcast(&w->hub, 0, HUB_SHUTDOWN);
    loop_shutdown(main_loop);
}

/* Loop 0 has stopped: its signal handles go too, so uv_run returns (a
 * signal during the drain was still handled, not fatal). */
static void workers_on_main_stopped(loop_t *loop) {
    workers_t *w = loop->data;
    webhook_stop(w->webhook);
    w->webhook = NULL;
    uv_close((uv_handle_t *)&w->sigterm, NULL);
    uv_close((uv_handle_t *)&w->sigint, NULL);
    uv_close((uv_handle_t *)&w->sighup, NULL);
}

static void workers_signals_start(workers_t *w) {
    uv_loop_t *uv = w->loops[0].uv;
    uv_signal_init(uv, &w->sigterm);
    uv_signal_init(uv, &w->sigint);
    uv_signal_init(uv, &w->sighup);
    w->sigterm.data = w->sigint.data = w->sighup.data = w;
    uv_signal_start(&w->sigterm, workers_on_signal, SIGTERM);
    uv_signal_start(&w->sigint, workers_on_signal, SIGINT);
    uv_signal_start(&w->sighup, workers_on_signal, SIGHUP);
    w->loops[0].data = w;
    w->loops[0].stopped_cb = workers_on_main_stopped;
}

/* The public listener on every loop; the emit listeners on loop 0 only. */
static int workers_loop_start(workers_t *w, size_t i) {
    loop_t *loop = &w->loops[i];
    const config_t *cfg = loop->cfg;
    if (loop_start(loop) != 0) return -1;
    if (i == 0) {
        workers_signals_start(w);
        w->webhook = webhook_start(loop);
    }
    if (loop_listen(loop, LISTEN_PUBLIC, cfg->listen, &public_routes, route_dispatch) != 0) return -1;
    for (size_t k = 0; i == 0 && k < cfg->emit_count; k++)
        if (loop_listen(loop, LISTEN_EMIT, cfg->emit[k], &emit_routes, route_dispatch) != 0) return -1;
    return 0;
}

static void workers_thread(void *arg) {
    loop_t *loop = arg;
    uv_run(loop->uv, UV_RUN_DEFAULT);
}

int workers_run(workers_t *w) {
    int rc = 0;
    size_t started = 0;
    while (started < w->nloops && rc == 0)
        if (workers_loop_start(w, started++) != 0) rc = 1;
    if (rc != 0) {
        for (size_t i = 0; i < started; i++) {
            loop_shutdown(&w->loops[i]);
            uv_run(w->loops[i].uv, UV_RUN_DEFAULT);
        }
        return 1;
    }
    w->hub.fd_base = fdlimit_open_count();
    atomic_store(&w->hub.fd_room, fdlimit_fit(w->loops[0].cfg->max_connections, w->hub.fd_base));
    if (w->nloops > 1)
        log_info("%zu event loops (workers), public listener shared with SO_REUSEPORT", w->nloops);
    size_t running = w->nloops;
    for (size_t i = 1; i < w->nloops; i++) {
        if (uv_thread_create(&w->threads[i], workers_thread, &w->loops[i]) != 0) {
            log_error("cannot start the thread of loop %zu", i);
            running = i; /* the loops already running still stop below */
            for (size_t k = i; k < w->nloops; k++) loop_shutdown(&w->loops[k]);
            hub_broadcast(&w->hub, 0, HUB_SHUTDOWN);
            loop_shutdown(&w->loops[0]);
            rc = 1;
            break;
        }
    }
    if (rc == 0) {
        log_info("heraldd ready");
        notify_send("READY=1");
    }
    uv_run(w->loops[0].uv, UV_RUN_DEFAULT);
    for (size_t i = 1; i < running; i++) uv_thread_join(&w->threads[i]);
    for (size_t i = running; i < w->nloops; i++) uv_run(w->loops[i].uv, UV_RUN_DEFAULT);
    return rc;
}

void workers_free(workers_t *w) {
    for (size_t i = 0; w->loops && i < w->nloops; i++) {
        if (w->loops[i].uv == NULL) continue;
        loop_free(&w->loops[i]);
        uv_loop_close(&w->uvloops[i]);
    }
    if (w->hub.boxes) hub_free(&w->hub);
    free(w->loops);
    free(w->uvloops);
    free(w->threads);
    memset(w, 0, sizeof(*w));
}
