/* floor — the least server for Herald's benchmarks: what the kernel alone
 * costs on this machine.
 *
 * One thread, one epoll loop, nothing but libc. WebSocket clients connect
 * on --ws-port; after the upgrade each one receives every message (one
 * broadcast set: no channels, no history, no ids kept). Emits are HTTP/1.1
 * POSTs with a Content-Length body on --emit-port and/or --emit-unix,
 * kept alive and possibly pipelined; each is answered the way heraldd
 * answers a single emit (202, {"id":N,"subscribers":N}), so the PHP
 * extension's Herald\emit() and bench/loadgen accept it, and its body goes
 * out as one WebSocket text frame, built once, to every subscriber with ONE
 * write() each: no coalescing of messages, no queue. A subscriber whose
 * socket would block keeps the unwritten rest of its frames in a buffer of
 * at most --max-pending bytes and is dropped past that (loadgen keeps up, so
 * in the benchmarks nothing is ever buffered: the counters on exit say so).
 *
 * The subscriber side speaks just enough of heraldd's protocol for
 * `loadgen --proto heraldd`: a text frame holding "subscribe" is answered
 * {"type":"subscribed"} (the client is subscribed anyway); pings are
 * answered, a close frame closes. So the very same loadgen command and the
 * PHP extension drive heraldd and floor. Whatever heraldd costs above
 * floor's figures is heraldd's own code; floor's figures are the floor.
 *
 * Usage: bench/floor [--host H] [--ws-port P] [--emit-port P] [--emit-unix PATH]
 *                    [--max-pending BYTES] [--max-body BYTES]
 * Exits 0 on SIGTERM/SIGINT, printing its counters on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum kind { K_FREE, K_WS_LISTEN, K_EMIT_LISTEN, K_HANDSHAKE, K_WS, K_EMIT };

#define HEAD_MAX 8192          /* an upgrade request's or an emit's head */
#define MAX_FDS 20000          /* this machine's per-process open-file cap */

struct conn {
    uint8_t kind;
    uint8_t want_out;          /* EPOLLOUT armed */
    int sub;                   /* index in subs[], or -1 */
    char *in;                  /* bytes read and not consumed yet */
    size_t nin, incap;
    char *out;                 /* unwritten rest: frames or answers */
    size_t nout, outcap;
};

static struct {
    const char *host, *emit_unix;
    int ws_port, emit_port;
    size_t max_pending, max_body;
} o = {.host = "127.0.0.1", .max_pending = 256 << 10, .max_body = 64 << 10};

static struct conn *conns;
static int nfds_max, epfd;
static int *subs, nsubs;
static uint64_t next_id = 1;
static struct {
    uint64_t emits, frames, writes, partial, dropped, upgrades;
} st;
static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
    (void)sig;
    stop_now = 1;
}

/* ---------------------------------------------------------------------- */
/* SHA-1 (FIPS 180-4) and base64: only for Sec-WebSocket-Accept, once per  */
/* connection, so the plain textbook form.                                 */

static uint32_t rol(uint32_t x, int n) { return x << n | x >> (32 - n); }

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5a827999;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ed9eba1;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
        else f = b ^ c ^ d, k = 0xca62c1d6;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void sha1(const void *data, size_t len, uint8_t out[20])
{
    uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    const uint8_t *p = data;
    size_t left = len;
    for (; left >= 64; p += 64, left -= 64)
        sha1_block(h, p);
    uint8_t last[128] = {0};
    memcpy(last, p, left);
    last[left] = 0x80;
    size_t n = left < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        last[n - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha1_block(h, last);
    if (n == 128)
        sha1_block(h, last + 64);
    for (int i = 0; i < 20; i++)
        out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static size_t base64(const uint8_t *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o_ = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o_++] = t[v >> 18 & 63];
        out[o_++] = t[v >> 12 & 63];
        out[o_++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        out[o_++] = i + 2 < n ? t[v & 63] : '=';
    }
    return o_;
}

/* ---------------------------------------------------------------------- */
/* Connections                                                             */

static void conn_close(int fd)
{
    struct conn *c = &conns[fd];
    if (c->sub >= 0) { /* the last subscriber takes its slot */
        int last = subs[--nsubs];
        subs[c->sub] = last;
        conns[last].sub = c->sub;
    }
    free(c->in);
    free(c->out);
    memset(c, 0, sizeof *c);
    c->sub = -1;
    close(fd); /* also leaves the epoll set */
}

static int buf_add(char **b, size_t *n, size_t *cap, const void *p, size_t len, size_t max)
{
    if (*n + len > max)
        return -1;
    if (*n + len > *cap) {
        size_t nc = *cap ? *cap : 512;
        while (nc < *n + len)
            nc *= 2;
        char *nb = realloc(*b, nc);
        if (!nb)
            return -1;
        *b = nb;
        *cap = nc;
    }
    memcpy(*b + *n, p, len);
    *n += len;
    return 0;
}

static void want_out(int fd, int on)
{
    struct conn *c = &conns[fd];
    if (c->want_out == on)
        return;
    c->want_out = (uint8_t)on;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.fd = fd};
    epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* One write() of p; what the socket does not take waits in c->out (behind
 * anything already waiting, with no write then). -1: the connection is
 * closed (an error, or more than max_pending waiting). */
static int conn_send(int fd, const void *p, size_t len)
{
    struct conn *c = &conns[fd];
    size_t done = 0;
    if (c->nout == 0) {
        ssize_t w = write(fd, p, len);
        st.writes++;
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            conn_close(fd);
            return -1;
        }
        done = w > 0 ? (size_t)w : 0;
        if (done == len)
            return 0;
        st.partial++;
    }
    if (buf_add(&c->out, &c->nout, &c->outcap, (const char *)p + done, len - done, o.max_pending) < 0) {
        st.dropped++;
        conn_close(fd);
        return -1;
    }
    want_out(fd, 1);
    return 0;
}

static void conn_flush(int fd)
{
    struct conn *c = &conns[fd];
    ssize_t w = write(fd, c->out, c->nout);
    st.writes++;
    if (w < 0) {
        if (errno != EAGAIN && errno != EINTR)
            conn_close(fd);
        return;
    }
    memmove(c->out, c->out + w, c->nout - (size_t)w);
    c->nout -= (size_t)w;
    if (c->nout == 0)
        want_out(fd, 0);
}

/* ---------------------------------------------------------------------- */
/* The broadcast                                                           */

/* One text frame, built once, one write per subscriber. */
static void broadcast(const char *body, size_t len)
{
    static char *frame;
    static size_t cap;
    size_t h = len < 126 ? 2 : len < 65536 ? 4 : 10;
    if (h + len > cap) {
        char *nf = realloc(frame, h + len);
        if (!nf)
            return;
        frame = nf;
        cap = h + len;
    }
    frame[0] = (char)0x81;
    if (h == 2) {
        frame[1] = (char)len;
    } else if (h == 4) {
        frame[1] = 126, frame[2] = (char)(len >> 8), frame[3] = (char)len;
    } else {
        frame[1] = 127;
        for (int i = 0; i < 8; i++)
            frame[2 + i] = (char)((uint64_t)len >> (56 - 8 * i));
    }
    memcpy(frame + h, body, len);
    st.emits++;
    /* backwards: a dropped subscriber's slot takes the last one, already done */
    for (int i = nsubs - 1; i >= 0; i--) {
        if (i >= nsubs)
            continue;
        st.frames++;
        conn_send(subs[i], frame, h + len);
    }
}

/* ---------------------------------------------------------------------- */
/* Emits: find the head's end and Content-Length, nothing more             */

static const char *find_header(const char *head, size_t hlen, const char *name)
{
    size_t nl = strlen(name);
    for (const char *l = memchr(head, '\n', hlen); l && (size_t)(l - head) + 1 + nl < hlen;
         l = memchr(l + 1, '\n', hlen - (size_t)(l + 1 - head))) {
        if (strncasecmp(l + 1, name, nl) == 0)
            return l + 1 + nl;
    }
    return NULL;
}

/* Answer every complete request in c->in with one write, then fan each
 * body out: the publisher has its answer before the subscribers' writes.
 * -1 when the connection was closed. */
static int emit_input(int fd)
{
    struct conn *c = &conns[fd];
    struct { size_t off, len; } bodies[64];
    int nb = 0;
    size_t used = 0;
    char ans[64 * 160];
    size_t na = 0;
    int close_after = 0;
    while (nb < 64 && !close_after) {
        char *p = c->in + used;
        size_t avail = c->nin - used;
        char *e = memmem(p, avail, "\r\n\r\n", 4);
        if (!e) {
            if (avail > HEAD_MAX)
                close_after = 1;
            break;
        }
        size_t hl = (size_t)(e - p) + 4;
        const char *cl = find_header(p, hl, "content-length:");
        size_t blen = cl ? strtoul(cl, NULL, 10) : 0;
        const char *status = NULL;
        if (avail < 5 || memcmp(p, "POST ", 5) != 0)
            status = "405 Method Not Allowed";
        else if (!cl)
            status = "411 Length Required";
        else if (blen > o.max_body)
            status = "413 Content Too Large";
        if (status) { /* answered, then closed: the rest is not read */
            na += (size_t)snprintf(ans + na, sizeof ans - na,
                                   "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n"
                                   "Connection: close\r\n\r\n", status);
            close_after = 1;
            break;
        }
        if (avail < hl + blen)
            break;
        bodies[nb].off = used + hl;
        bodies[nb].len = blen;
        nb++;
        char js[64];
        int jl = snprintf(js, sizeof js, "{\"id\":%" PRIu64 ",\"subscribers\":%d}", next_id++, nsubs);
        na += (size_t)snprintf(ans + na, sizeof ans - na,
                               "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                               "Content-Length: %d\r\nConnection: keep-alive\r\n\r\n%s", jl, js);
        used += hl + blen;
    }
    if (na && conn_send(fd, ans, na) < 0)
        return -1;
    for (int i = 0; i < nb; i++)
        broadcast(c->in + bodies[i].off, bodies[i].len);
    if (close_after) { /* a refusal: its answer had one write, best effort */
        conn_close(fd);
        return -1;
    }
    memmove(c->in, c->in + used, c->nin - used);
    c->nin -= used;
    return nb == 64 ? emit_input(fd) : 0;
}

/* ---------------------------------------------------------------------- */
/* WebSocket: the upgrade, then the few client frames there are            */

static int ws_upgrade(int fd)
{
    struct conn *c = &conns[fd];
    char *e = memmem(c->in, c->nin, "\r\n\r\n", 4);
    if (!e) {
        if (c->nin > HEAD_MAX) {
            conn_close(fd);
            return -1;
        }
        return 0;
    }
    size_t hl = (size_t)(e - c->in) + 4;
    const char *k = find_header(c->in, hl, "sec-websocket-key:");
    static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if (!k) {
        if (write(fd, bad, sizeof bad - 1) < 0) { /* closed anyway */ }
        conn_close(fd);
        return -1;
    }
    while (*k == ' ' || *k == '\t')
        k++;
    const char *ke = k;
    while (ke < e && *ke != '\r' && *ke != ' ')
        ke++;
    char kg[128 + 36];
    size_t kl = (size_t)(ke - k);
    if (kl == 0 || kl > 128) {
        if (write(fd, bad, sizeof bad - 1) < 0) { /* closed anyway */ }
        conn_close(fd);
        return -1;
    }
    memcpy(kg, k, kl);
    memcpy(kg + kl, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
    uint8_t d[20];
    sha1(kg, kl + 36, d);
    char ans[160];
    size_t n = (size_t)snprintf(ans, sizeof ans, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                                 "Connection: Upgrade\r\nSec-WebSocket-Accept: ");
    n += base64(d, 20, ans + n);
    memcpy(ans + n, "\r\n\r\n", 4);
    n += 4;
    memmove(c->in, c->in + hl, c->nin - hl);
    c->nin -= hl;
    c->kind = K_WS;
    c->sub = nsubs;
    subs[nsubs++] = fd;
    st.upgrades++;
    return conn_send(fd, ans, n);
}

/* Client frames (masked): "subscribe" is answered, ping is ponged, close
 * closes; nothing else is looked at. Any piece of a frame may arrive. */
static int ws_input(int fd)
{
    struct conn *c = &conns[fd];
    size_t off = 0;
    while (c->nin - off >= 2) {
        uint8_t *f = (uint8_t *)c->in + off;
        size_t avail = c->nin - off, h = 2;
        uint64_t len = f[1] & 0x7f;
        if (len == 126) {
            if (avail < 4)
                break;
            len = (uint64_t)f[2] << 8 | f[3];
            h = 4;
        } else if (len == 127) {
            conn_close(fd); /* no client of ours sends 64 KiB */
            return -1;
        }
        if (!(f[1] & 0x80)) {
            conn_close(fd); /* RFC 6455 5.1: a client's frames are masked */
            return -1;
        }
        if (avail < h + 4 + len)
            break;
        uint8_t *m = f + h, *p = f + h + 4;
        for (uint64_t i = 0; i < len; i++)
            p[i] ^= m[i & 3];
        int op = f[0] & 0x0f;
        if (op == 8) { /* echo the close (its code, if any), then close */
            uint8_t cl[4] = {0x88, 0, 0, 0};
            if (len >= 2)
                cl[1] = 2, cl[2] = p[0], cl[3] = p[1];
            if (write(fd, cl, 2 + cl[1]) < 0) { /* closed anyway */ }
            conn_close(fd);
            return -1;
        }
        if (op == 9) {
            uint8_t pong[2 + 125];
            if (len > 125) {
                conn_close(fd);
                return -1;
            }
            pong[0] = 0x8a, pong[1] = (uint8_t)len;
            memcpy(pong + 2, p, len);
            if (conn_send(fd, pong, 2 + len) < 0)
                return -1;
        } else if (op == 1 && memmem(p, len, "subscribe", 9)) {
            static const char ok[] = "\x81\x15{\"type\":\"subscribed\"}";
            _Static_assert(sizeof ok - 3 == 0x15, "the frame's length byte");
            if (conn_send(fd, ok, sizeof ok - 1) < 0)
                return -1;
        }
        off += h + 4 + len;
    }
    memmove(c->in, c->in + off, c->nin - off);
    c->nin -= off;
    if (c->nin > HEAD_MAX) {
        conn_close(fd);
        return -1;
    }
    if (c->nin == 0) { /* a subscriber rarely sends: it holds no buffer */
        free(c->in);
        c->in = NULL;
        c->incap = 0;
    }
    return 0;
}

static void on_readable(int fd)
{
    struct conn *c = &conns[fd];
    char buf[65536];
    ssize_t r = read(fd, buf, sizeof buf);
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        conn_close(fd);
        return;
    }
    size_t cap = c->kind == K_EMIT ? HEAD_MAX + o.max_body + sizeof buf : 2 * HEAD_MAX + sizeof buf;
    if (buf_add(&c->in, &c->nin, &c->incap, buf, (size_t)r, cap) < 0) {
        conn_close(fd);
        return;
    }
    if (c->kind == K_EMIT) {
        emit_input(fd);
        return;
    }
    if (c->kind == K_HANDSHAKE && ws_upgrade(fd) < 0)
        return;
    if (c->kind == K_WS)
        ws_input(fd);
}

static void on_accept(int lfd)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (fd >= nfds_max) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails on Unix: fine */
        struct conn *c = &conns[fd];
        c->kind = conns[lfd].kind == K_WS_LISTEN ? K_HANDSHAKE : K_EMIT;
        c->sub = -1;
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    }
}

static int listen_on(int fd, struct sockaddr *sa, socklen_t sl, enum kind k)
{
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, sa, sl) < 0 || listen(fd, 4096) < 0)
        return -1;
    conns[fd].kind = (uint8_t)k;
    conns[fd].sub = -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int listen_tcp(int port, enum kind k)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, o.host, &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -1 : listen_on(fd, (struct sockaddr *)&sa, sizeof sa, k);
}

static int listen_unix(const char *path)
{
    struct sockaddr_un su = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof su.sun_path)
        return -1;
    strcpy(su.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -1 : listen_on(fd, (struct sockaddr *)&su, sizeof su, K_EMIT_LISTEN);
}

static void usage(FILE *f)
{
    fputs("usage: floor [options]   the least server: what the kernel alone costs\n"
          "  --host H              listen address for the TCP ports (127.0.0.1)\n"
          "  --ws-port P           WebSocket subscribers (every client gets every message)\n"
          "  --emit-port P         emits over TCP: POST ANY-PATH, Content-Length body\n"
          "  --emit-unix PATH      emits over a Unix socket (as well as, or instead of, TCP)\n"
          "  --max-pending BYTES   unwritten bytes a subscriber may have before it is dropped (262144)\n"
          "  --max-body BYTES      largest emit body (65536; larger ones get 413)\n"
          "  --help                this text\n"
          "Each emit is answered 202 {\"id\":N,\"subscribers\":N} (as heraldd does) and its body\n"
          "written as one text frame to every subscriber, one write() each. A text frame\n"
          "holding \"subscribe\" is answered {\"type\":\"subscribed\"}, so loadgen --proto heraldd\n"
          "drives it. SIGTERM or SIGINT: exit 0, counters on stderr.\n", f);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"host", 1, 0, 'H'}, {"ws-port", 1, 0, 'w'}, {"emit-port", 1, 0, 'e'},
        {"emit-unix", 1, 0, 'u'}, {"max-pending", 1, 0, 'm'}, {"max-body", 1, 0, 'b'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'H': o.host = optarg; break;
        case 'w': o.ws_port = atoi(optarg); break;
        case 'e': o.emit_port = atoi(optarg); break;
        case 'u': o.emit_unix = optarg; break;
        case 'm': o.max_pending = strtoul(optarg, NULL, 10); break;
        case 'b': o.max_body = strtoul(optarg, NULL, 10); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || o.ws_port <= 0 || o.ws_port > 65535 || o.emit_port < 0 || o.emit_port > 65535 ||
        (o.emit_port == 0 && !o.emit_unix)) {
        fprintf(stderr, "floor: needs --ws-port and --emit-port and/or --emit-unix (see --help)\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = rl.rlim_max < MAX_FDS ? rl.rlim_max : MAX_FDS;
        if (rl.rlim_cur < want) {
            rl.rlim_cur = want;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        nfds_max = (int)(rl.rlim_cur < MAX_FDS ? rl.rlim_cur : MAX_FDS);
    } else {
        nfds_max = 1024;
    }
    conns = calloc((size_t)nfds_max, sizeof *conns);
    subs = calloc((size_t)nfds_max, sizeof *subs);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || !subs || epfd < 0)
        return 2;
    for (int i = 0; i < nfds_max; i++)
        conns[i].sub = -1;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: epoll_wait returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (listen_tcp(o.ws_port, K_WS_LISTEN) < 0 ||
        (o.emit_port && listen_tcp(o.emit_port, K_EMIT_LISTEN) < 0) ||
        (o.emit_unix && listen_unix(o.emit_unix) < 0)) {
        fprintf(stderr, "floor: cannot listen: %s\n", strerror(errno));
        return 2;
    }
    struct epoll_event evs[256];
    while (!stop_now) {
        int n = epoll_wait(epfd, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            struct conn *c = &conns[fd];
            if (c->kind == K_WS_LISTEN || c->kind == K_EMIT_LISTEN) {
                on_accept(fd);
                continue;
            }
            /* an event for a connection closed earlier in this batch */
            if (c->kind == K_FREE)
                continue;
            if ((evs[i].events & EPOLLOUT) && c->nout) {
                conn_flush(fd);
                if (c->kind == K_FREE)
                    continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                on_readable(fd);
        }
    }
    if (o.emit_unix)
        unlink(o.emit_unix);
    fprintf(stderr,
            "floor: %" PRIu64 " upgrades, %" PRIu64 " emits, %" PRIu64 " frames, %" PRIu64
            " writes, %" PRIu64 " partial writes, %" PRIu64 " subscribers dropped\n",
            st.upgrades, st.emits, st.frames, st.writes, st.partial, st.dropped);
    return 0;
}
