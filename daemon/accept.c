#include "accept.h"

#include "admit.h"
#include "log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* max_connections_per_ip: count c under address a; 0, or -1 when a holds
 * too many already (then c is answered 503 and closes). */
int conn_admit(conn_t *c, const peer_addr_t *a) {
    loop_t *loop = c->loop;
    if (c->ip_counted) hub_peer_decr(loop->hub, &c->ip_key);
    c->ip = *a;
    c->ip_key = peer_addr_prefix(a, (unsigned)loop->cfg->ipv6_prefix_bits);
    uint32_t n = hub_peer_incr(loop->hub, &c->ip_key);
    c->ip_counted = n > 0;
    if (loop->cfg->max_connections_per_ip == 0 || n <= loop->cfg->max_connections_per_ip) return 0;
    loop->stats.per_ip_refused++;
    log_info("%s: over max_connections_per_ip (%llu)", c->peer,
             (unsigned long long)loop->cfg->max_connections_per_ip);
    conn_http_error(c, 503, "Retry-After: 10\r\n",
                    "too many connections from your address (max_connections_per_ip)");
    return -1;
}

static void accept_peer_name(conn_t *c, int is_unix) {
    if (is_unix) {
        snprintf(c->peer, sizeof(c->peer), "unix");
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char ip[48] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    snprintf(c->peer, sizeof(c->peer), "%s:%d", ip, port);
    if (peer_addr_parse(ip, strlen(ip), &c->ip) != 0) c->ip.family = 0;
}

static void accept_on_refused_close(uv_handle_t *h) { free(h); }

conn_t *conn_virtual_new(conn_t *via, const conn_proto_t *proto) {
    loop_t *loop = via->loop;
    if (admit_count(loop, via->l) != 0) return NULL;
    conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        admit_release(loop, via->l);
        return NULL;
    }
    uv_timer_init(loop->uv, &c->h.timer);
    c->h.handle.data = c;
    conn_open(c, loop, via->l, 1);
    conn_proto_set(c, proto);
    memcpy(c->peer, via->peer, sizeof(c->peer));
    if (via->ip.family == 0) return c;
    c->ip = via->ip;
    c->ip_key = via->ip_key;
    uint32_t n = hub_peer_incr(loop->hub, &c->ip_key);
    c->ip_counted = n > 0;
    uint64_t max = loop->cfg->max_connections_per_ip;
    if (max && n > max) {
        loop->stats.per_ip_refused++;
        log_info("%s: over max_connections_per_ip (%llu)", c->peer, (unsigned long long)max);
        conn_close(c);
        return NULL;
    }
    return c;
}

/* The part of accepting shared with a connection handed over from another
 * loop: name the peer, join the loop, read, and count its address. */
static void accept_start(conn_t *c, loop_t *loop, listener_t *l, int is_unix) {
    int public = l->kind == LISTEN_PUBLIC;
    conn_open(c, loop, l, public);
    accept_peer_name(c, is_unix);
    if (!is_unix) uv_tcp_nodelay(&c->h.tcp, 1);
    conn_read_start(c);
    if (public && c->ip.family &&
        !peer_cidr_contains(loop->auth.trusted, loop->auth.ntrusted, &c->ip))
        conn_admit(c, &c->ip);
}

void accept_connection(listener_t *l) {
    loop_t *loop = l->loop;
    int is_unix = l->unix_path[0] != '\0';
    conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL) return;
    if (is_unix) uv_pipe_init(loop->uv, &c->h.pipe, 0);
    else uv_tcp_init(loop->uv, &c->h.tcp);
    c->h.handle.data = c;
    if (uv_accept(&l->h.stream, &c->h.stream) != 0) {
        uv_close(&c->h.handle, accept_on_refused_close);
        return;
    }
    if (admit_count(loop, l) != 0) {
        uv_close(&c->h.handle, accept_on_refused_close);
        return;
    }
    accept_start(c, loop, l, is_unix);
}


/* What travels with a connection to its new loop. */
typedef struct accept_move {
    hub_handoff_t h;
    http_req_t req;        /* the request that asked for the move, owned */
} accept_move_t;

static void accept_move_drop(hub_handoff_t *h) {
    accept_move_t *m = (accept_move_t *)h;
    close(m->h.fd);
    http_req_free(&m->req);
    free(m);
}

int accept_handoff(conn_t *c, http_req_t *req, unsigned to) {
    loop_t *loop = c->loop;
    uv_os_fd_t fd;
    if (c->listener != LISTEN_PUBLIC || c->q.len || c->nwriting || to >= loop->hub->nloops ||
        uv_fileno(&c->h.handle, &fd) != 0)
        return -1;
    accept_move_t *m = malloc(sizeof(*m));
    int dup_fd = m ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (dup_fd < 0) {
        free(m);
        return -1;
    }
    m->h.fd = dup_fd;
    m->h.drop = accept_move_drop;
    m->req = *req;          /* the request's memory moves with it */
    req->mem = NULL;
    req->len = req->cap = 0;
    if (hub_handoff_push(loop->hub, to, &m->h) != 0) {
        accept_move_drop(&m->h);
        return -1;
    }
    loop->stats.connections_handed_over++;
    conn_close(c); /* our descriptor only: the socket lives on in dup_fd */
    return 0;
}

void accept_adopt(loop_t *loop, hub_handoff_t *h) {
    accept_move_t *m = (accept_move_t *)h;
    listener_t *l = &loop->listeners[0];
    conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL || loop->state != LOOP_RUNNING || l->kind != LISTEN_PUBLIC ||
        admit_count(loop, l) != 0) {
        free(c);
        accept_move_drop(h);
        return;
    }
    uv_tcp_init(loop->uv, &c->h.tcp);
    c->h.handle.data = c;
    if (uv_tcp_open(&c->h.tcp, m->h.fd) != 0) {
        admit_release(loop, l);
        uv_close(&c->h.handle, accept_on_refused_close);
        accept_move_drop(h); /* closes the descriptor the handle did not take */
        return;
    }
    accept_start(c, loop, l, 0);
    if (conn_is_open(c)) l->on_request(c, &m->req);
    http_req_free(&m->req);
    free(m);
}
