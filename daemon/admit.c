#include "admit.h"

#include "fdlimit.h"
#include "log.h"

/* Emit listeners live on loop 0 only, so their counts need no atomics;
 * each listener has its own, so a flood of idle connections on the TCP
 * port (any local user can open them) cannot lock PHP out of the Unix
 * socket. Where the open-file limit is what binds, one emit listener takes
 * at most a quarter of the room, so neither can it lock out browsers,
 * /healthz or the other listener. */
static int admit_emit(loop_t *loop, listener_t *l, size_t room) {
    uint64_t max = loop->cfg->max_emit_connections;
    int by_fd = room / 4 < max;
    if (by_fd) max = room / 4 ? room / 4 : 1;
    if (l->nconns < max) {
        l->nconns++;
        return 0;
    }
    loop->stats.emit_connections_refused++;
    if (loop_log_throttle(loop)) {
        if (by_fd)
            log_warn("emit connection refused on %s: %llu open, a quarter of what the open-file "
                     "limit (%llu) leaves; raise it (ulimit -n, systemd LimitNOFILE=)", l->addr,
                     (unsigned long long)max, (unsigned long long)fdlimit_current());
        else
            log_warn("emit connection refused on %s: max_emit_connections (%llu) reached; raise "
                     "it if PHP needs more (one per php-fpm worker)", l->addr,
                     (unsigned long long)max);
    }
    return -1;
}

/* Slots are claimed before they are checked, so loops accepting at the
 * same moment cannot together pass a limit. Every connection takes a
 * descriptor; a public one is refused while a few are still free (so the
 * refusal never fails) and a share stays for emit connections, so a flood
 * of browsers can lock out neither the PHP side nor /stats. */
int admit_count(loop_t *loop, listener_t *l) {
    hub_t *hub = loop->hub;
    int public = l->kind == LISTEN_PUBLIC;
    size_t room = atomic_load(&hub->fd_room);
    size_t keep = room / 4 < FDLIMIT_EMIT_KEEP ? room / 4 : FDLIMIT_EMIT_KEEP;
    size_t total = atomic_fetch_add(&hub->nconns, 1);
    size_t npublic = public ? atomic_fetch_add(&hub->npublic, 1) : 0;
    int over_fd = total >= (public ? room - keep : room);
    int over_max = public && npublic >= loop->cfg->max_connections;
    int stopping = loop->state != LOOP_RUNNING;
    if (!over_fd && !over_max && !stopping && (public || admit_emit(loop, l, room) == 0)) return 0;
    atomic_fetch_sub(&hub->nconns, 1);
    if (public) atomic_fetch_sub(&hub->npublic, 1);
    if (stopping || (!over_fd && !over_max)) return -1;
    if (over_max) {
        loop->stats.connections_refused++;
        if (loop_log_throttle(loop))
            log_warn("connection refused: max_connections (%llu) reached",
                     (unsigned long long)loop->cfg->max_connections);
    } else {
        loop->stats.fd_limit_refused++;
        if (loop_log_throttle(loop))
            log_error("connection refused: the open-file limit (%llu) leaves room for %zu "
                      "connections; raise it (ulimit -n, systemd LimitNOFILE=) or lower "
                      "max_connections", (unsigned long long)fdlimit_current(), room);
    }
    return -1;
}

void admit_release(loop_t *loop, listener_t *l) {
    atomic_fetch_sub(&loop->hub->nconns, 1);
    if (l->kind == LISTEN_PUBLIC) atomic_fetch_sub(&loop->hub->npublic, 1);
    else if (l->nconns > 0) l->nconns--;
}
