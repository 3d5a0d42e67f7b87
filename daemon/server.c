#include "server.h"

#include "client_js.h"
#include "conn.h"
#include "fdlimit.h"
#include "log.h"
#include "notify.h"
#include "origin.h"
#include "sse.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Unit and fuzz builds compile this file without the Makefile's version. */
#ifndef HERALD_VERSION
#define HERALD_VERSION "0.0.0"
#endif

uint64_t server_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read a small private file whole; refuse large ones (a secret is short). */
static int server_file_read(const char *path, char *out, size_t size, size_t *len,
                            char *err, size_t es) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, es, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* A secret other users can read lets them mint names or publish; one
     * they can write lets them choose it. Refuse, saying how to fix it. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH))) {
        fclose(f);
        snprintf(err, es, "%s is %s by every user: run chmod o-rw %s (e.g. chmod 600, or 640 "
                 "with a group php-fpm is in)", path,
                 (st.st_mode & S_IWOTH) ? "writable" : "readable", path);
        return -1;
    }
    *len = fread(out, 1, size, f);
    int big = fgetc(f) != EOF;
    fclose(f);
    if (big) {
        snprintf(err, es, "%s: larger than %zu bytes", path, size);
        return -1;
    }
    return 0;
}

int server_secrets_load(const char *path, herald_secret_t **out, size_t *n,
                        char *err, size_t es) {
    enum { TEXT_MAX = 64 * 1024 };
    char *text = malloc(TEXT_MAX); /* every loop reloads on its own thread */
    size_t len;
    *out = NULL;
    *n = 0;
    if (text == NULL) {
        snprintf(err, es, "out of memory");
        return -1;
    }
    if (server_file_read(path, text, TEXT_MAX, &len, err, es) != 0) {
        free(text);
        return -1;
    }
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    herald_secret_t *s = calloc(lines, sizeof(*s));
    if (s == NULL) {
        free(text);
        snprintf(err, es, "out of memory");
        return -1;
    }
    size_t count = 0, pos = 0;
    int lineno = 0;
    while (pos < len) {
        const char *l = text + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - l) : len - pos;
        pos += ll + (nl ? 1 : 0);
        lineno++;
        size_t t = ll;
        while (t > 0 && (l[t - 1] == '\r' || l[t - 1] == ' ' || l[t - 1] == '\t')) t--;
        if (t == 0) continue;
        if (herald_secret_parse(&s[count], l, ll) != 0) {
            snprintf(err, es, "%s line %d: not a valid secret (at least %d bytes, optional "
                     "kid: of A-Z a-z 0-9 _ -)", path, lineno, HERALD_SECRET_MIN);
            memset(text, 0, TEXT_MAX);
            free(text);
            free(s);
            return -1;
        }
        count++;
    }
    memset(text, 0, TEXT_MAX);
    free(text);
    if (count == 0) {
        free(s);
        snprintf(err, es, "%s: no secret in the file", path);
        return -1;
    }
    *out = s;
    *n = count;
    return 0;
}

static int server_emit_secret_load(server_t *srv, const char *path, char *err, size_t es) {
    char text[SERVER_EMIT_SECRET_MAX + 2];
    size_t len;
    if (server_file_read(path, text, sizeof(text), &len, err, es) != 0) return -1;
    const char *nl = memchr(text, '\n', len);
    if (nl) len = (size_t)(nl - text);
    while (len > 0 && (text[len - 1] == '\r' || text[len - 1] == ' ')) len--;
    if (len < HERALD_SECRET_MIN || len > SERVER_EMIT_SECRET_MAX) {
        snprintf(err, es, "%s: the emit secret must be %d to %d bytes on the first line",
                 path, HERALD_SECRET_MIN, SERVER_EMIT_SECRET_MAX);
        return -1;
    }
    memcpy(srv->emit_secret, text, len);
    srv->emit_secret_len = len;
    memset(text, 0, sizeof(text));
    return 0;
}

/* The request limits derived from the config (also after a reload). */
static void server_limits_set(server_t *srv, const config_t *cfg) {
    srv->public_limits = (http_limits_t){cfg->max_url_bytes, cfg->max_header_count,
                                         cfg->max_header_bytes, 4096};
    srv->emit_limits = (http_limits_t){cfg->max_url_bytes, cfg->max_header_count,
                                       cfg->max_header_bytes, cfg->max_emit_body_bytes};
}

int server_init(server_t *srv, uv_loop_t *loop, const config_t *cfg) {
    char err[512];
    memset(srv, 0, sizeof(*srv));
    srv->loop = loop;
    srv->cfg = cfg;
    server_limits_set(srv, cfg);
    mpsc_init(&srv->inbox);
    pthread_mutex_init(&srv->snap_lock, NULL);
    srv->rbuf = malloc(SERVER_READ_BUF);
    if (srv->rbuf == NULL || channel_table_init(&srv->channels) != 0) {
        log_error("out of memory");
        return -1;
    }
    if (peer_cidr_list_parse(cfg->trusted_proxies, srv->trusted, PEER_CIDR_MAX, &srv->ntrusted,
                             err, sizeof(err)) != 0) {
        log_error("trusted_proxies: %s", err);
        return -1;
    }
    if (cfg->secret_file[0]) {
        if (server_secrets_load(cfg->secret_file, &srv->secrets, &srv->nsecrets, err, sizeof(err)) != 0) {
            log_error("secret_file %s", err);
            return -1;
        }
        log_info("loaded %zu secret(s) for signed channel names", srv->nsecrets);
    } else {
        log_warn("no secret_file: only public_channels can be subscribed to");
    }
    if (cfg->emit_secret_file[0] &&
        server_emit_secret_load(srv, cfg->emit_secret_file, err, sizeof(err)) != 0) {
        log_error("emit_secret_file %s", err);
        return -1;
    }
    return 0;
}

/* heraldd refuses connections before the open-file limit is reached
 * (conn_accept); what still arrives here is the system-wide table being
 * full, or descriptors taken by something else. */
static void server_on_connection(uv_stream_t *s, int status) {
    listener_t *l = s->data;
    server_t *srv = l->srv;
    if (status == UV_EMFILE || status == UV_ENFILE) {
        srv->stats.fd_limit_refused++;
        if (server_log_throttle(srv))
            log_error("accept on %s: out of file descriptors (%s; open-file limit %llu)", l->addr,
                      status == UV_EMFILE ? "this process" : "the whole system",
                      (unsigned long long)fdlimit_current());
        return;
    }
    if (status < 0) {
        log_warn("accept on %s: %s", l->addr, uv_strerror(status));
        return;
    }
    conn_accept(l);
}

int server_log_throttle(server_t *srv) {
    uint64_t now = uv_now(srv->loop);
    if (srv->refused_logged_ms != 0 && now - srv->refused_logged_ms < 1000) return 0;
    srv->refused_logged_ms = now ? now : 1;
    return 1;
}

static int server_mkdirs(const char *dir) {
    char tmp[CONFIG_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* A socket file nobody answers on is left from a crash: replace it. One
 * that answers belongs to a running heraldd: refuse to steal it. */
static int server_unix_prepare(const char *path) {
    char dir[CONFIG_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (server_mkdirs(dir) != 0) {
            log_error("cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
    }
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    if (!S_ISSOCK(st.st_mode)) {
        log_error("%s exists and is not a socket", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0) close(fd);
    if (live) {
        log_error("%s is in use by a running process", path);
        return -1;
    }
    unlink(path);
    return 0;
}

/* The emit socket is created owner-only (umask 0177 around the bind), then
 * given its group and only then its mode, so no other user can connect
 * during set-up; a mode or group that cannot be applied stops the start
 * rather than leaving the socket as the umask made it. Listeners are set up
 * before any worker thread starts, so the process-wide umask is safe. */
static int server_listen_unix(server_t *srv, listener_t *l, const char *path) {
    const config_t *cfg = srv->cfg;
    if (server_unix_prepare(path) != 0) return -1;
    uv_pipe_init(srv->loop, &l->h.pipe, 0);
    l->open = 1;
    mode_t old_mask = umask(0177);
    int rc = uv_pipe_bind(&l->h.pipe, path);
    umask(old_mask);
    if (rc == 0) {
        snprintf(l->unix_path, sizeof(l->unix_path), "%s", path);
        if (cfg->emit_socket_group[0]) {
            struct group *g = getgrnam(cfg->emit_socket_group);
            if (g == NULL || chown(path, (uid_t)-1, g->gr_gid) != 0) {
                log_error("emit_socket_group %s: no such group or chown failed", cfg->emit_socket_group);
                return -1;
            }
        }
        if (chmod(path, (mode_t)cfg->emit_socket_mode) != 0) {
            log_error("emit_socket_mode: chmod %s: %s", path, strerror(errno));
            return -1;
        }
        rc = uv_listen(&l->h.stream, 511, server_on_connection);
    }
    if (rc != 0) {
        log_error("listen on unix:%s: %s", path, uv_strerror(rc));
        return -1;
    }
    return 0;
}

/* libuv 1.44 has no UV_TCP_REUSEPORT: make the socket, let every loop bind
 * the same port with SO_REUSEPORT (the kernel spreads new connections over
 * them), then hand it to libuv. */
int server_listen_reuseport(server_t *srv, listener_t *l, const char *hostport) {
    char host[CONFIG_PATH_MAX];
    int port;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (config_hostport_split(hostport, host, sizeof(host), &port) != 0) return -1;
    if (strcmp(host, "localhost") == 0) snprintf(host, sizeof(host), "127.0.0.1");
    int v6 = strchr(host, ':') != NULL;
    int rc = v6 ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (rc != 0) {
        log_error("%s: not a numeric IP address", hostport);
        return -1;
    }
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, v6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in)) != 0) {
        log_error("listen on %s: %s", hostport, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    uv_tcp_init(srv->loop, &l->h.tcp);
    l->open = 1;
    rc = uv_tcp_open(&l->h.tcp, fd);
    if (rc == 0) rc = uv_listen(&l->h.stream, 511, server_on_connection);
    else close(fd);
    if (rc != 0) {
        log_error("listen on %s: %s", hostport, uv_strerror(rc));
        return -1;
    }
    return 0;
}

static int server_listen_tcp(server_t *srv, listener_t *l, const char *hostport) {
    char host[CONFIG_PATH_MAX];
    int port;
    struct sockaddr_storage ss;
    if (config_hostport_split(hostport, host, sizeof(host), &port) != 0) return -1;
    if (strcmp(host, "localhost") == 0) snprintf(host, sizeof(host), "127.0.0.1");
    int rc = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (rc != 0) {
        log_error("%s: not a numeric IP address", hostport);
        return -1;
    }
    uv_tcp_init(srv->loop, &l->h.tcp);
    l->open = 1;
    rc = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&ss, 0);
    if (rc == 0) rc = uv_listen(&l->h.stream, 511, server_on_connection);
    if (rc != 0) {
        log_error("listen on %s: %s", hostport, uv_strerror(rc));
        return -1;
    }
    return 0;
}

static int server_listener_add(server_t *srv, int kind, const char *addr) {
    listener_t *l = &srv->listeners[srv->nlisteners++];
    l->srv = srv;
    l->kind = kind;
    l->h.handle.data = l;
    snprintf(l->addr, sizeof(l->addr), "%s", addr);
    int shared = kind == LISTEN_PUBLIC && srv->hub && srv->hub->nloops > 1;
    int rc = strncmp(addr, "unix:", 5) == 0 ? server_listen_unix(srv, l, addr + 5)
             : shared ? server_listen_reuseport(srv, l, addr)
                      : server_listen_tcp(srv, l, addr);
    if (rc == 0 && srv->index == 0)
        log_info("listening on %s (%s)", addr, kind == LISTEN_PUBLIC ? "public" : "emit");
    return rc;
}

/* A loop's own channel table holds only its subscriber lists (ids and
 * history are the hub's), so an empty one goes at once. */
static void server_on_sweep(uv_timer_t *t) {
    server_t *srv = t->data;
    conn_sweep(srv, uv_now(srv->loop));
    channel_table_sweep(&srv->channels, server_wall_ms(), 0);
    if (srv->index == 0) hub_sweep(srv->hub, server_wall_ms(), srv->cfg->history_ttl_ms);
    pthread_mutex_lock(&srv->snap_lock);
    srv->snap = srv->stats;
    pthread_mutex_unlock(&srv->snap_lock);
}

static void server_on_flush(uv_check_t *h) { conn_flush_dirty(h->data); }

static uint64_t server_min(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* One sweep timer for every connection: fine-grained enough for the
 * shortest configured interval, at most once a second otherwise. */
static uint64_t server_sweep_tick(const config_t *cfg) {
    uint64_t tick = server_min(1000, server_min(cfg->ping_interval_ms, cfg->pong_timeout_ms) / 2);
    tick = server_min(tick, cfg->sse_heartbeat_ms / 2);
    tick = server_min(tick, server_min(cfg->handshake_timeout_ms, cfg->request_timeout_ms) / 2);
    if (cfg->emit_idle_timeout_ms) tick = server_min(tick, cfg->emit_idle_timeout_ms / 2);
    return tick < 5 ? 5 : tick;
}

static void server_on_signal(uv_signal_t *s, int signum) {
    server_t *srv = s->data;
    if (signum == SIGHUP) {
        log_info("SIGHUP: reloading the configuration");
        notify_send("RELOADING=1");
        if (server_reload(srv) == 0) hub_broadcast(srv, HUB_RELOAD);
        notify_send("READY=1"); /* reloaded, or still running the old one */
        return;
    }
    log_info("signal %d: shutting down", signum);
    notify_send("STOPPING=1");
    hub_broadcast(srv, HUB_SHUTDOWN);
    server_shutdown(srv);
}

int server_reload(server_t *srv) {
    char err[512];
    int action;
    config_t *cfg = malloc(sizeof(*cfg));
    if (cfg == NULL || config_load(cfg, srv->argc, srv->argv, &action, err, sizeof(err)) != 0) {
        log_error("reload refused, keeping the running configuration: %s", cfg ? err : "out of memory");
        free(cfg);
        return -1;
    }
    peer_cidr_t trusted[PEER_CIDR_MAX];
    size_t ntrusted;
    if (peer_cidr_list_parse(cfg->trusted_proxies, trusted, PEER_CIDR_MAX, &ntrusted, err, sizeof(err)) != 0) {
        log_error("reload refused, keeping the running configuration: trusted_proxies: %s", err);
        free(cfg);
        return -1;
    }
    herald_secret_t *secrets = NULL;
    size_t nsecrets = 0;
    if (cfg->secret_file[0] &&
        server_secrets_load(cfg->secret_file, &secrets, &nsecrets, err, sizeof(err)) != 0) {
        log_error("reload refused, keeping the running configuration: secret_file %s", err);
        free(cfg);
        return -1;
    }
    server_t tmp; /* the emit secret loads into a scratch copy first */
    tmp.emit_secret_len = 0;
    if (cfg->emit_secret_file[0] &&
        server_emit_secret_load(&tmp, cfg->emit_secret_file, err, sizeof(err)) != 0) {
        log_error("reload refused, keeping the running configuration: emit_secret_file %s", err);
        if (secrets) memset(secrets, 0, nsecrets * sizeof(*secrets));
        free(secrets);
        free(cfg);
        return -1;
    }
    int fixed;
    if (srv->index == 0) config_diff_log(srv->cfg, cfg, &fixed);
    /* Listeners stay as they are: keep their keys so the config says so. */
    memcpy(cfg->listen, srv->cfg->listen, sizeof(cfg->listen));
    memcpy(cfg->emit, srv->cfg->emit, sizeof(cfg->emit));
    cfg->workers = srv->cfg->workers;
    cfg->emit_count = srv->cfg->emit_count;
    cfg->emit_socket_mode = srv->cfg->emit_socket_mode;
    memcpy(cfg->emit_socket_group, srv->cfg->emit_socket_group, sizeof(cfg->emit_socket_group));
    if (srv->secrets) {
        memset(srv->secrets, 0, srv->nsecrets * sizeof(*srv->secrets));
        free(srv->secrets);
    }
    srv->secrets = secrets;
    srv->nsecrets = nsecrets;
    memset(srv->emit_secret, 0, sizeof(srv->emit_secret));
    memcpy(srv->emit_secret, tmp.emit_secret, tmp.emit_secret_len);
    srv->emit_secret_len = tmp.emit_secret_len;
    memset(tmp.emit_secret, 0, sizeof(tmp.emit_secret));
    memcpy(srv->trusted, trusted, sizeof(trusted));
    srv->ntrusted = ntrusted;
    free(srv->cfg_owned);
    srv->cfg = srv->cfg_owned = cfg;
    server_limits_set(srv, cfg);
    log_level_set(cfg->log_level);
    uv_timer_set_repeat(&srv->sweep, server_sweep_tick(cfg));
    srv->sweep_ms = server_sweep_tick(cfg);
    srv->stats.reloads++;
    if (srv->index == 0 && srv->hub)
        atomic_store(&srv->hub->fd_room, fdlimit_fit(cfg->max_connections, srv->hub->fd_base));
    if (srv->index == 0)
        log_info("reloaded: %zu secret(s), emit secret %s", nsecrets, srv->emit_secret_len ? "set" : "not set");
    return 0;
}

int server_start(server_t *srv) {
    const config_t *cfg = srv->cfg;
    uint64_t tick = server_sweep_tick(cfg);
    srv->sweep_ms = tick;
    uv_timer_init(srv->loop, &srv->sweep);
    srv->sweep.data = srv;
    uv_timer_start(&srv->sweep, server_on_sweep, tick, tick);
    uv_timer_init(srv->loop, &srv->cork);
    srv->cork.data = srv;
    uv_check_init(srv->loop, &srv->flush);
    srv->flush.data = srv;
    uv_check_start(&srv->flush, server_on_flush);
    uv_timer_init(srv->loop, &srv->shutdown_timer);
    srv->shutdown_timer.data = srv;
    if (srv->hub) {
        uv_async_init(srv->loop, &srv->wake, hub_on_wake);
        srv->wake.data = srv;
        pthread_mutex_lock(&srv->hub->lock);
        srv->inbox_open = 1;
        pthread_mutex_unlock(&srv->hub->lock);
    }
    /* Signals and the emit listeners belong to loop 0 (hub.h). */
    if (srv->index == 0) {
        uv_signal_init(srv->loop, &srv->sigterm);
        uv_signal_init(srv->loop, &srv->sigint);
        uv_signal_init(srv->loop, &srv->sighup);
        srv->sigterm.data = srv->sigint.data = srv->sighup.data = srv;
        uv_signal_start(&srv->sigterm, server_on_signal, SIGTERM);
        uv_signal_start(&srv->sigint, server_on_signal, SIGINT);
        uv_signal_start(&srv->sighup, server_on_signal, SIGHUP);
    }
    if (server_listener_add(srv, LISTEN_PUBLIC, cfg->listen) != 0) return -1;
    for (size_t i = 0; srv->index == 0 && i < cfg->emit_count; i++)
        if (server_listener_add(srv, LISTEN_EMIT, cfg->emit[i]) != 0) return -1;
    return 0;
}

static void server_on_shutdown_timeout(uv_timer_t *t) {
    server_t *srv = t->data;
    log_warn("shutdown_timeout_ms reached: closing %zu connection(s)", srv->nconns);
    conn_t *next;
    for (conn_t *c = srv->conns; c; c = next) {
        next = c->next;
        conn_close(c);
    }
}

static void server_close_listeners(server_t *srv) {
    for (size_t i = 0; i < srv->nlisteners; i++) {
        listener_t *l = &srv->listeners[i];
        if (!l->open) continue;
        l->open = 0;
        uv_close(&l->h.handle, NULL);
        if (l->unix_path[0]) unlink(l->unix_path);
    }
}

/* First call: stop accepting, close 1001 to WebSocket clients, end SSE
 * streams and answered HTTP; later calls (when the last connection closes)
 * release the loop's own handles so uv_run returns. */
void server_shutdown(server_t *srv) {
    if (!srv->shutting_down) {
        srv->shutting_down = 1;
        server_close_listeners(srv);
        conn_t *next;
        for (conn_t *c = srv->conns; c; c = next) {
            next = c->next;
            if (c->kind == CONN_WS) conn_ws_close(c, WS_CLOSE_GOING_AWAY, "server shutting down");
            else if (c->kind == CONN_SSE || c->qlen || c->nwriting) conn_drain(c);
            else conn_close(c);
        }
        if (srv->cfg->shutdown_timeout_ms)
            uv_timer_start(&srv->shutdown_timer, server_on_shutdown_timeout,
                           srv->cfg->shutdown_timeout_ms, 0);
        else
            server_on_shutdown_timeout(&srv->shutdown_timer);
    }
    if (srv->nconns == 0 && srv->shutting_down == 1) {
        srv->shutting_down = 2;
        uv_close((uv_handle_t *)&srv->sweep, NULL);
        uv_close((uv_handle_t *)&srv->flush, NULL);
        uv_close((uv_handle_t *)&srv->cork, NULL);
        uv_close((uv_handle_t *)&srv->shutdown_timer, NULL);
        if (srv->index == 0) {
            uv_close((uv_handle_t *)&srv->sigterm, NULL);
            uv_close((uv_handle_t *)&srv->sigint, NULL);
            uv_close((uv_handle_t *)&srv->sighup, NULL);
        }
        hub_loop_close(srv);
    }
}

void server_free(server_t *srv) {
    channel_table_free(&srv->channels);
    if (srv->secrets) {
        memset(srv->secrets, 0, srv->nsecrets * sizeof(*srv->secrets));
        free(srv->secrets);
    }
    memset(srv->emit_secret, 0, sizeof(srv->emit_secret));
    free(srv->rbuf);
    free(srv->cfg_owned);
    while (srv->wr_free) {
        uv_write_t *w = srv->wr_free;
        srv->wr_free = w->data;
        free(w);
    }
    pthread_mutex_destroy(&srv->snap_lock);
}

/* /ws and /sse ask here; the policy itself lives in origin.c. */
int server_origin_allowed(const server_t *srv, const char *origin, size_t len) {
    return origin_list_allows(srv->cfg->allowed_origins, origin, len);
}

static int server_path_is(const char *p, size_t n, const char *s) {
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* herald.js?v=<version> changes URL with every release, so browsers may
 * keep it for a year; a bare URL gets five minutes. Any origin may load it
 * (a module script from another origin needs CORS): it holds no secret. */
static const char *server_client_js_headers(const char *query, size_t qlen) {
    static const char versioned[] = "v=" HERALD_VERSION;
    if (qlen == sizeof(versioned) - 1 && memcmp(query, versioned, qlen) == 0)
        return "Cache-Control: public, max-age=31536000, immutable\r\n"
               "Access-Control-Allow-Origin: *\r\n";
    return "Cache-Control: public, max-age=300\r\nAccess-Control-Allow-Origin: *\r\n";
}

void server_public_route(conn_t *c, http_req_t *req) {
    size_t ulen, plen, qlen;
    const char *url = http_req_url(req, &ulen), *path, *query;
    http_url_split(url, ulen, &path, &plen, &query, &qlen);
    int get = http_req_method(req) == HTTP_GET;
    int keep = http_req_keep_alive(req);
    int known = 1;
    if (server_path_is(path, plen, "/ws")) {
        if (get && conn_admit_forwarded(c, req) == 0) conn_ws_upgrade(c, req);
    } else if (server_path_is(path, plen, "/sse")) {
        if (get && conn_admit_forwarded(c, req) == 0) sse_start(c, req);
    } else if (server_path_is(path, plen, "/healthz")) {
        if (get) conn_respond(c, 200, NULL, NULL, "ok\n", 3, keep);
    } else if (server_path_is(path, plen, "/herald.js")) {
        if (get) conn_respond(c, 200, "text/javascript; charset=utf-8",
                              server_client_js_headers(query, qlen),
                              client_js_classic, sizeof(client_js_classic), keep);
    } else if (server_path_is(path, plen, "/herald.mjs")) {
        if (get) conn_respond(c, 200, "text/javascript; charset=utf-8",
                              server_client_js_headers(query, qlen),
                              client_js_module, sizeof(client_js_module), keep);
    } else {
        known = 0;
        conn_http_error(c, 404, NULL, "not found");
    }
    if (known && !get) conn_http_error(c, 405, "Allow: GET\r\n", "use GET");
}
