/* loadgen — Herald's benchmark client.
 *
 * Opens N WebSocket subscribers against heraldd, a socket.io 4 server, a
 * plain `ws` broadcaster, nginx+nchan or laravel-echo-server (socket.io 2), publishes M messages through the
 * server's HTTP emit endpoint, and reports connection set-up rate, delivered
 * messages per second, publish-to-receive latency, lost messages and the
 * server's CPU time per delivered frame and RSS per connection.
 *
 * Layout: the parent process is the coordinator and the publisher; the
 * subscribers live in --procs child processes (each one epoll loop, each
 * under the open-file limit). Children write their counters and latency
 * histogram into one shared anonymous mapping, so the parent can merge them
 * (and watch progress for --window) without any copying protocol.
 *
 * A payload is "HBx<seq>_<t_ns>_" padded with 'x' to --size bytes: the
 * marker is found in whatever envelope the server wraps it in, <t_ns> is
 * CLOCK_MONOTONIC at the moment the publish request was written.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"

enum proto { P_HERALDD, P_SOCKETIO, P_WS, P_NCHAN, P_PUSHER, P_ECHO };
static const char *proto_names[] = {"heraldd", "socketio", "ws", "nchan", "pusher", "echo"};

enum cstate {
    ST_IDLE,        /* not started yet */
    ST_CONNECTING,  /* TCP connect in progress */
    ST_HANDSHAKE,   /* upgrade request sent, waiting for 101 */
    ST_WAIT_OPEN,   /* socket.io: waiting for engine.io "0{...}" */
    ST_WAIT_CONNECT,/* socket.io: "40" sent, waiting for "40{...}" */
    ST_WAIT_SUB,    /* heraldd: subscribe sent, waiting for "subscribed" */
    ST_READY,
    ST_FAILED,      /* never became ready */
    ST_CLOSED       /* was ready, then the server or the network closed it */
};

/* Latency histogram: 1 us buckets below 100 ms, 1 ms buckets up to 100 s. */
#define HIST_FINE 100000
#define HIST_COARSE 100000
#define HIST_N (HIST_FINE + HIST_COARSE)

struct child_res {
    _Atomic uint64_t unique;   /* in-order or gap-skipping deliveries */
    uint64_t dup;              /* frames whose seq was already seen */
    uint64_t other;            /* frames without our marker */
    uint64_t ready, failed, closed;
    int64_t t_start_ns, t_ready_ns, t_last_recv_ns;
    uint64_t lat_max_ns;
    double lat_sum_us;
    int close_code;            /* last close code seen from the server */
    char err[160];             /* first failure reason */
    uint32_t hist[HIST_N];
};

struct shared {
    _Atomic int64_t published_ok; /* set by the parent before "done" */
    struct child_res res[];
};

struct opts {
    enum proto proto;
    const char *host;
    int port;
    int ports[16], nports;   /* subscribers round-robin over these (a cluster) */
    const char *ws_path;
    const char *emit_host;
    int emit_port;
    int emit_ports[16], nemit_ports; /* each publisher's emits round-robin */
    const char *emit_unix;
    int emit_get;            /* 1: GET prefix{ch}/{msg}; 0: POST prefix{ch} */
    const char *emit_prefix;
    const char *channel;
    const char *sub_name;
    const char *origin;
    const char *label;
    int clients, procs, concurrency, src_ips;
    int messages, window, size, pipeline, warmup, publishers;
    double rate;
    int connect_timeout_ms, drain_ms, deadline_s, hold_ms;
    int until_signal;        /* subscribe only; messages come from elsewhere */
    pid_t server_pids[32];
    int nserver_pids;
    pid_t aux_pids[8];       /* measured apart: a cluster's redis-server */
    int naux_pids;
    int server_children;
};

static struct opts o = {
    .proto = P_HERALDD, .host = "127.0.0.1", .port = 8080,
    .emit_host = "127.0.0.1", .emit_port = 26300, .emit_get = -1,
    .channel = "bench", .label = "",
    .clients = 100, .procs = 1, .concurrency = 256, .src_ips = 0,
    .messages = 100, .window = 0, .size = 48, .pipeline = 1, .publishers = 1, .rate = 0,
    .connect_timeout_ms = 10000, .drain_ms = 5000, .deadline_s = 120,
    .hold_ms = 300,
};

static struct shared *shm;
static volatile sig_atomic_t got_stop;

static void on_stop(int sig)
{
    (void)sig;
    got_stop = 1;
}
static int64_t run_deadline_ns;

/* All timing is CLOCK_MONOTONIC: publisher and subscribers share a clock. */
static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "loadgen: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

/* ---------------------------------------------------------------------- */
/* Server-side measurements from /proc                                     */

/* Direct children of a pid: heraldd --workers and nginx keep their real
 * work in children, which /proc/PID/stat alone would not count. */
static int proc_children(pid_t parent, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)) && n < max) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        char *rp = strrchr(buf, ')');
        int ppid;
        char st;
        if (rp && sscanf(rp + 1, " %c %d", &st, &ppid) == 2 && ppid == parent)
            out[n++] = (pid_t)atoi(e->d_name);
    }
    closedir(d);
    return n;
}

static int server_pid_list(pid_t *out, int max)
{
    int n = 0;
    for (int i = 0; i < o.nserver_pids && n < max; i++) {
        out[n++] = o.server_pids[i];
        if (o.server_children)
            n += proc_children(o.server_pids[i], out + n, max - n);
    }
    return n;
}

static long proc_rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static int64_t server_cpu_ns(void)
{
    pid_t p[256];
    int n = server_pid_list(p, 256);
    int64_t sum = 0;
    if (n == 0)
        return -1;
    for (int i = 0; i < n; i++) {
        int64_t c = procstat_cpu_ns(p[i]);
        if (c > 0)
            sum += c;
    }
    return sum;
}

/* User and system CPU of the server processes in ms, from utime and
 * stime of /proc/PID/stat (clock ticks: coarser than schedstat, but they
 * split the time into the server's own code and the kernel's). */
static void server_user_sys_ms(double *user, double *sys)
{
    pid_t p[256];
    int n = server_pid_list(p, 256);
    int64_t ut_sum = 0, st_sum = 0;
    *user = *sys = -1;
    for (int i = 0; i < n; i++) {
        int64_t ut, st;
        if (procstat_user_sys_ns(p[i], &ut, &st) == 0)
            ut_sum += ut, st_sum += st;
    }
    if (n == 0)
        return;
    *user = (double)ut_sum / 1e6;
    *sys = (double)st_sum / 1e6;
}

/* CPU of each --server-pid (with its children), and of the --aux-pid
 * processes together: a cluster's nodes one by one, and its Redis. */
static void server_cpu_each(int64_t *each)
{
    for (int i = 0; i < o.nserver_pids; i++) {
        pid_t p[64];
        int n = 1;
        p[0] = o.server_pids[i];
        if (o.server_children)
            n += proc_children(p[0], p + 1, 63);
        each[i] = 0;
        for (int k = 0; k < n; k++) {
            int64_t c = procstat_cpu_ns(p[k]);
            if (c > 0)
                each[i] += c;
        }
    }
}

static int64_t aux_cpu_ns(void)
{
    int64_t sum = 0;
    if (o.naux_pids == 0)
        return -1;
    for (int i = 0; i < o.naux_pids; i++) {
        int64_t c = procstat_cpu_ns(o.aux_pids[i]);
        if (c > 0)
            sum += c;
    }
    return sum;
}

/* "P[,P...]" into out (at most max); the count, or die. */
static int parse_list(const char *arg, const char *flag, long *out, int max)
{
    const char *s = arg;
    char *end;
    int n = 0;
    while (*s) {
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || n == max || (*end && *end != ','))
            die(flag, arg);
        out[n++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    if (n == 0)
        die(flag, arg);
    return n;
}

static long server_rss_kb(void)
{
    pid_t p[256];
    int n = server_pid_list(p, 256);
    long sum = 0;
    if (n == 0)
        return -1;
    for (int i = 0; i < n; i++) {
        long r = proc_rss_kb(p[i]);
        if (r > 0)
            sum += r;
    }
    return sum;
}

/* ---------------------------------------------------------------------- */
/* Subscribers (one child process)                                         */

struct conn {
    int fd;
    uint8_t state;
    int64_t t_deadline;   /* connect/handshake deadline */
    uint8_t *pend;        /* bytes of an incomplete handshake or frame */
    uint32_t npend, cap;
};

#define CTL_ID UINT32_MAX
#define MAX_PUBLISHERS 64
/* RFC 6455 1.3's example key and its accept value: one fixed key is enough
 * for a client that only checks the server computed it. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static struct conn *conns;
static int nconns, cbase, epfd;
static struct child_res *me;
static char handshake[1024];
static int handshake_len;
static int n_inflight, n_started, n_settled, n_ready_live;
/* Next expected sequence number, per subscriber and publisher: several
 * publishers' messages interleave in any order, each one's stay in order. */
static uint32_t *next_seq;

/* Keep the first failure reason of this process: it names the cause of
 * the rest more often than not. */
__attribute__((format(printf, 1, 2))) static void set_err(const char *fmt, ...)
{
    va_list ap;
    if (me->err[0])
        return;
    va_start(ap, fmt);
    vsnprintf(me->err, sizeof me->err, fmt, ap);
    va_end(ap);
}

/* Send one small masked client frame; the socket buffer of a quiet
 * connection always takes it whole, so a short write is a failure. */
static int ws_send_text(struct conn *c, int opcode, const char *p, size_t n)
{
    uint8_t f[256 + 8];
    size_t h = 2;
    if (n > 256)
        return -1;
    f[0] = 0x80 | opcode;
    if (n < 126) {
        f[1] = 0x80 | n;
    } else {
        f[1] = 0x80 | 126;
        f[2] = n >> 8;
        f[3] = n & 0xff;
        h = 4;
    }
    uint32_t r = (uint32_t)rand();
    uint8_t mask[4] = {r, r >> 8, r >> 16, r >> 24};
    memcpy(f + h, mask, 4);
    for (size_t i = 0; i < n; i++)
        f[h + 4 + i] = p[i] ^ mask[i & 3];
    ssize_t w = send(c->fd, f, h + 4 + n, MSG_NOSIGNAL);
    return w == (ssize_t)(h + 4 + n) ? 0 : -1;
}

static void conn_close(struct conn *c, int new_state)
{
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    free(c->pend);
    c->pend = NULL;
    c->npend = c->cap = 0;
    if (c->state == ST_READY) {
        me->closed++;
        n_ready_live--;
    } else if (c->state < ST_READY) {
        me->failed++;
        n_settled++;
        if (c->state != ST_IDLE)
            n_inflight--;
    }
    c->state = new_state;
}

static void conn_ready(struct conn *c)
{
    c->state = ST_READY;
    me->ready++;
    n_settled++;
    n_inflight--;
    n_ready_live++;
}

static void conn_start(struct conn *c, int idx)
{
    /* several servers (a cluster's nodes): subscribers spread evenly */
    int port = o.nports > 1 ? o.ports[(cbase + idx) % o.nports] : o.port;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, o.host, &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->state = ST_CONNECTING;
    c->t_deadline = now_ns() + (int64_t)o.connect_timeout_ms * 1000000;
    n_inflight++;
    n_started++;
    if (fd < 0) {
        set_err("socket: %s (raise the open-file limit or use more --procs)", strerror(errno));
        conn_close(c, ST_FAILED);
        return;
    }
    c->fd = fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (o.src_ips > 0) {
        /* Spread source addresses over 127.0.0.2.. so that each (source,
         * destination) pair has its own ephemeral port range. */
        int k = (cbase + idx) % o.src_ips;
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)k);
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
            set_err("bind to a 127/8 source address: %s", strerror(errno));
            conn_close(c, ST_FAILED);
            return;
        }
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        set_err("connect: %s", strerror(errno));
        conn_close(c, ST_FAILED);
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)idx};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int pend_append(struct conn *c, const uint8_t *p, size_t n)
{
    if (c->npend + n > c->cap) {
        size_t cap = c->cap ? c->cap : 512;
        while (cap < c->npend + n)
            cap *= 2;
        if (cap > (16u << 20))
            return -1;
        uint8_t *np = realloc(c->pend, cap);
        if (!np)
            return -1;
        c->pend = np;
        c->cap = cap;
    }
    memcpy(c->pend + c->npend, p, n);
    c->npend += n;
    return 0;
}

static void record_message(struct conn *c, const uint8_t *p, size_t n, int64_t now)
{
    const uint8_t *m = memmem(p, n, "HBx", 3);
    if (!m) {
        me->other++;
        return;
    }
    const uint8_t *end = p + n;
    m += 3;
    uint64_t seq = 0, ts = 0, pub = 0;
    while (m < end && *m >= '0' && *m <= '9')
        seq = seq * 10 + (*m++ - '0');
    if (m < end && *m == '_')
        m++;
    while (m < end && *m >= '0' && *m <= '9')
        ts = ts * 10 + (*m++ - '0');
    if (o.publishers > 1 && m < end && *m == '_')
        for (m++; m < end && *m >= '0' && *m <= '9' && pub < (uint64_t)o.publishers; m++)
            pub = pub * 10 + (*m - '0');
    if (pub >= (uint64_t)o.publishers) {
        me->other++;
        return;
    }
    uint32_t *next = &next_seq[(size_t)(c - conns) * (size_t)o.publishers + pub];
    if (seq < *next) {
        me->dup++;
        return;
    }
    *next = (uint32_t)seq + 1;
    atomic_fetch_add_explicit(&me->unique, 1, memory_order_relaxed);
    me->t_last_recv_ns = now;
    if (seq < (uint64_t)o.warmup)
        return; /* delivered and counted, but not timed */
    int64_t lat = now - (int64_t)ts;
    if (lat < 0)
        lat = 0;
    uint64_t us = (uint64_t)lat / 1000;
    size_t b = us < HIST_FINE ? us : HIST_FINE + (us - HIST_FINE) / 1000;
    if (b >= HIST_N)
        b = HIST_N - 1;
    me->hist[b]++;
    me->lat_sum_us += (double)us;
    if ((uint64_t)lat > me->lat_max_ns)
        me->lat_max_ns = (uint64_t)lat;
}

/* One complete server frame. Returns -1 when the connection must close. */
static int on_frame(struct conn *c, int opcode, const uint8_t *p, size_t n, int64_t now)
{
    if (opcode == 8) {
        me->close_code = n >= 2 ? (p[0] << 8 | p[1]) : 1005;
        set_err("server closed the connection with code %d", me->close_code);
        return -1;
    }
    if (opcode == 9)
        return ws_send_text(c, 0xA, (const char *)p, n);
    if (opcode == 0xA)
        return 0;
    if (opcode != 1 && opcode != 2) {
        set_err("fragmented or unknown frame, opcode %d", opcode);
        return -1;
    }
    switch (c->state) {
    case ST_READY:
        if (o.proto == P_SOCKETIO && n == 1 && p[0] == '2')
            return ws_send_text(c, 1, "3", 1); /* engine.io ping -> pong */
        if (o.proto == P_ECHO && n == 1 && p[0] == '3')
            return 0; /* Engine.IO 3: the pong to our keep-alive ping */
        record_message(c, p, n, now);
        return 0;
    case ST_WAIT_OPEN:
        if (o.proto == P_PUSHER) { /* pusher:connection_established, then subscribe */
            if (!memmem(p, n, "connection_established", 22)) {
                set_err("%s", "pusher: expected pusher:connection_established");
                return -1;
            }
            char cmd[300];
            int len = snprintf(cmd, sizeof cmd,
                               "{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"%s\"}}",
                               o.sub_name);
            c->state = ST_WAIT_SUB;
            return ws_send_text(c, 1, cmd, (size_t)len);
        }
        if (n > 0 && p[0] == '0') {
            c->state = ST_WAIT_CONNECT;
            /* socket.io 2 joins the default namespace by itself ("40") */
            return o.proto == P_ECHO ? 0 : ws_send_text(c, 1, "40", 2);
        }
        set_err("%s", "socket.io: expected an engine.io open packet");
        return -1;
    case ST_WAIT_CONNECT:
        if (n >= 2 && p[0] == '4' && p[1] == '0' && o.proto == P_ECHO) {
            /* laravel-echo-server: Echo's subscribe event, which it never
             * answers; the pong to a ping sent after it is the sign it was
             * handled (one socket's packets are handled in order) */
            char cmd[300];
            int len = snprintf(cmd, sizeof cmd, "42[\"subscribe\",{\"channel\":\"%s\"}]", o.sub_name);
            c->state = ST_WAIT_SUB;
            if (ws_send_text(c, 1, cmd, (size_t)len) < 0)
                return -1;
            return ws_send_text(c, 1, "2", 1);
        }
        if (n >= 2 && p[0] == '4' && p[1] == '0') {
            conn_ready(c);
            return 0;
        }
        if (n == 1 && p[0] == '2')
            return ws_send_text(c, 1, "3", 1);
        set_err("%s", "socket.io: expected a connect packet");
        return -1;
    case ST_WAIT_SUB:
        if (o.proto == P_ECHO) {
            if (n == 1 && p[0] == '3')
                conn_ready(c);
            return 0;
        }
        if (memmem(p, n, "\"subscribed\"", 12) || memmem(p, n, "subscription_succeeded", 22)) {
            conn_ready(c);
            return 0;
        }
        if (!me->err[0])
            snprintf(me->err, sizeof me->err, "subscribe refused: %.*s",
                     (int)(n > 120 ? 120 : n), (const char *)p);
        return -1;
    default:
        return -1;
    }
}

/* Consume as many whole frames as `p` holds; keep the rest for later. */
static int on_bytes(struct conn *c, const uint8_t *p, size_t n, int64_t now)
{
    if (c->npend) {
        if (pend_append(c, p, n) < 0)
            return -1;
        p = c->pend;
        n = c->npend;
    }
    size_t off = 0;
    if (c->state == ST_HANDSHAKE) {
        const uint8_t *e = memmem(p, n, "\r\n\r\n", 4);
        if (!e) {
            if (n > 8192) {
                set_err("%s", "handshake response too long");
                return -1;
            }
            if (!c->npend && pend_append(c, p, n) < 0)
                return -1;
            return 0;
        }
        size_t hl = (size_t)(e - p) + 4;
        if (n < 12 || memcmp(p, "HTTP/1.1 101", 12) != 0) {
            if (!me->err[0])
                snprintf(me->err, sizeof me->err, "upgrade refused: %.*s",
                         (int)(hl > 60 ? 60 : hl - 4), (const char *)p);
            return -1;
        }
        if (!memmem(p, hl, WS_ACCEPT, strlen(WS_ACCEPT))) {
            set_err("%s", "upgrade answer has a wrong Sec-WebSocket-Accept");
            return -1;
        }
        off = hl;
        if (o.proto == P_SOCKETIO || o.proto == P_PUSHER || o.proto == P_ECHO) {
            c->state = ST_WAIT_OPEN;
        } else if (o.proto == P_HERALDD) {
            char cmd[300];
            int len = snprintf(cmd, sizeof cmd,
                               "{\"type\":\"subscribe\",\"req\":1,\"channel\":\"%s\"}",
                               o.sub_name);
            c->state = ST_WAIT_SUB;
            if (ws_send_text(c, 1, cmd, (size_t)len) < 0)
                return -1;
        } else {
            conn_ready(c);
        }
    }
    while (n - off >= 2) {
        const uint8_t *f = p + off;
        size_t avail = n - off, h = 2;
        uint64_t len = f[1] & 0x7f;
        if (f[1] & 0x80) {
            set_err("%s", "server sent a masked frame");
            return -1;
        }
        if (len == 126) {
            if (avail < 4)
                break;
            len = (uint64_t)f[2] << 8 | f[3];
            h = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | f[2 + i];
            h = 10;
        }
        if (len > (16u << 20)) {
            set_err("%s", "frame too large");
            return -1;
        }
        if (avail < h + len)
            break;
        if (!(f[0] & 0x80)) {
            set_err("%s", "fragmented frames are not supported");
            return -1;
        }
        if (on_frame(c, f[0] & 0x0f, f + h, (size_t)len, now) < 0)
            return -1;
        off += h + len;
    }
    size_t rest = n - off;
    if (p == c->pend) {
        memmove(c->pend, c->pend + off, rest);
        c->npend = rest;
    } else if (rest && pend_append(c, p + off, rest) < 0) {
        return -1;
    }
    return 0;
}

static void on_event(struct conn *c, uint32_t events)
{
    static uint8_t buf[1 << 16];
    if (c->state == ST_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            set_err("connect: %s", strerror(err));
            conn_close(c, ST_FAILED);
            return;
        }
        if (send(c->fd, handshake, handshake_len, MSG_NOSIGNAL) != handshake_len) {
            set_err("%s", "sending the upgrade request failed");
            conn_close(c, ST_FAILED);
            return;
        }
        c->state = ST_HANDSHAKE;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(c - conns)};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        return;
    }
    for (int rounds = 0; rounds < 4; rounds++) {
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r > 0) {
            if (on_bytes(c, buf, (size_t)r, now_ns()) < 0) {
                conn_close(c, c->state == ST_READY ? ST_CLOSED : ST_FAILED);
                return;
            }
            if ((size_t)r < sizeof buf)
                return;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (c->state < ST_READY)
            set_err("%s", r == 0 ? "server closed during set-up" : strerror(errno));
        else if (r == 0)
            set_err("%s", "server closed a ready connection");
        conn_close(c, c->state == ST_READY ? ST_CLOSED : ST_FAILED);
        return;
    }
}

static void build_handshake(void)
{
    handshake_len = snprintf(handshake, sizeof handshake,
                             "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: " WS_KEY "\r\n"
                             "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                             o.ws_path, o.host, o.port, o.origin ? "Origin: " : "",
                             o.origin ? o.origin : "", o.origin ? "\r\n" : "");
    if (handshake_len >= (int)sizeof handshake)
        die("%s", "upgrade request too long");
}

/* A child: connect its share of subscribers, tell the parent, receive until
 * every message arrived or nothing more arrives for --drain-ms. */
static int child_main(int idx, int n, int base, int ready_w, int ctl_r)
{
    me = &shm->res[idx];
    nconns = n;
    cbase = base;
    srand((unsigned)getpid());
    conns = calloc((size_t)n, sizeof *conns);
    next_seq = calloc((size_t)n * (size_t)o.publishers + 1, sizeof *next_seq);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || !next_seq || epfd < 0)
        return 2;
    for (int i = 0; i < n; i++)
        conns[i].fd = -1;
    struct epoll_event cev = {.events = EPOLLIN, .data.u32 = CTL_ID};
    epoll_ctl(epfd, EPOLL_CTL_ADD, ctl_r, &cev);

    me->t_start_ns = now_ns();
    int told_ready = 0, got_done = 0;
    int64_t t_done = 0, last_scan = 0, last_ping = now_ns();
    struct epoll_event evs[512];
    for (;;) {
        int64_t now = now_ns();
        if (now > run_deadline_ns)
            break;
        while (n_started < n && n_inflight < o.concurrency)
            conn_start(&conns[n_started], n_started);
        if (now - last_scan > 50000000) {
            last_scan = now;
            for (int i = 0; i < n_started; i++)
                if (conns[i].state < ST_READY && conns[i].state != ST_IDLE &&
                    now > conns[i].t_deadline) {
                    set_err("connect/subscribe timed out after %d ms", o.connect_timeout_ms);
                    conn_close(&conns[i], ST_FAILED);
                }
        }
        /* Engine.IO 3 servers close a socket that has not pinged for
         * pingInterval + pingTimeout (45 s): ping every ready one. */
        if (o.proto == P_ECHO && now - last_ping > 20000000000LL) {
            last_ping = now;
            for (int i = 0; i < n_started; i++)
                if (conns[i].state == ST_READY && ws_send_text(&conns[i], 1, "2", 1) < 0)
                    conn_close(&conns[i], ST_CLOSED);
        }
        if (!told_ready && n_settled == n) {
            told_ready = 1;
            me->t_ready_ns = now_ns();
            if (write(ready_w, "r", 1) != 1)
                return 2;
        }
        if (got_done) {
            uint64_t want = (uint64_t)atomic_load(&shm->published_ok) * me->ready;
            uint64_t have = atomic_load_explicit(&me->unique, memory_order_relaxed);
            int64_t quiet_since = me->t_last_recv_ns > t_done ? me->t_last_recv_ns : t_done;
            if (have >= want || n_ready_live == 0 ||
                now - quiet_since > (int64_t)o.drain_ms * 1000000)
                break;
        }
        int k = epoll_wait(epfd, evs, 512, 20);
        for (int i = 0; i < k; i++) {
            if (evs[i].data.u32 == CTL_ID) {
                char ch;
                if (read(ctl_r, &ch, 1) == 1) {
                    got_done = 1;
                    t_done = now_ns();
                    epoll_ctl(epfd, EPOLL_CTL_DEL, ctl_r, NULL);
                }
                continue;
            }
            struct conn *c = &conns[evs[i].data.u32];
            if (c->fd >= 0)
                on_event(c, evs[i].events);
        }
    }
    /* Close everything before exiting so the server sees the departures. */
    for (int i = 0; i < n; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Publisher (the parent)                                                   */

struct pubconn {
    int fd;
    int outstanding;
    char in[8192];
    size_t nin;
};

static int connect_emit(int port)
{
    int fd;
    if (o.emit_unix) {
        struct sockaddr_un su = {.sun_family = AF_UNIX};
        if (strlen(o.emit_unix) >= sizeof su.sun_path)
            return -1;
        strcpy(su.sun_path, o.emit_unix);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&su, sizeof su) < 0)
            goto fail;
    } else {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        inet_pton(AF_INET, o.emit_host, &sa.sin_addr);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd < 0)
            return -1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            goto fail;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

/* The payload names its publisher only when there are several, so that
 * one publisher's payloads stay what they always were. */
static int build_request(char *out, size_t cap, uint64_t seq, int pub, int64_t ts)
{
    char payload[4200];
    int pl = o.publishers > 1
                 ? snprintf(payload, sizeof payload, "HBx%" PRIu64 "_%" PRId64 "_%d_", seq, ts, pub)
                 : snprintf(payload, sizeof payload, "HBx%" PRIu64 "_%" PRId64 "_", seq, ts);
    while (pl < o.size && pl < (int)sizeof payload - 1)
        payload[pl++] = 'x';
    payload[pl] = 0;
    if (o.proto == P_ECHO) { /* its HTTP API: Pusher's trigger body, its client key in the path */
        char body[4400];
        int bl = snprintf(body, sizeof body, "{\"channel\":\"%s\",\"name\":\"message\",\"data\":\"%s\"}",
                          o.channel, payload);
        return snprintf(out, cap,
                        "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                        "Content-Length: %d\r\n\r\n%s",
                        o.emit_prefix, o.emit_host, bl, body);
    }
    if (o.emit_get)
        return snprintf(out, cap, "GET %s%s/%s HTTP/1.1\r\nHost: %s\r\n\r\n",
                        o.emit_prefix, o.channel, payload, o.emit_host);
    return snprintf(out, cap,
                    "POST %s%s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s",
                    o.emit_prefix, o.channel, o.emit_host, pl, payload);
}

/* Parse whole responses out of pc->in: returns how many, counting 2xx in
 * *ok, or -1 on a malformed answer. */
static int parse_responses(struct pubconn *pc, int *ok, char *errbuf, size_t errcap)
{
    int count = 0;
    for (;;) {
        char *e = memmem(pc->in, pc->nin, "\r\n\r\n", 4);
        if (!e)
            break;
        size_t hl = (size_t)(e - pc->in) + 4, total;
        int status = 0;
        if (sscanf(pc->in, "HTTP/1.%*d %d", &status) != 1)
            return -1;
        char *cl = NULL;
        int chunked = 0;
        for (char *l = pc->in; l && l < e; l = memchr(l, '\n', (size_t)(e - l))) {
            if (*l == '\n')
                l++;
            if (strncasecmp(l, "content-length:", 15) == 0)
                cl = l + 15;
            if (strncasecmp(l, "transfer-encoding:", 18) == 0)
                chunked = 1;
        }
        if (chunked) {
            /* Our peers answer a few bytes: find the last-chunk marker. */
            char *z = memmem(pc->in + hl, pc->nin - hl, "0\r\n\r\n", 5);
            if (!z)
                break;
            total = (size_t)(z - pc->in) + 5;
        } else {
            total = hl + (cl ? strtoul(cl, NULL, 10) : 0);
            if (pc->nin < total)
                break;
        }
        if (status >= 200 && status < 300)
            (*ok)++;
        else if (errbuf[0] == 0)
            snprintf(errbuf, errcap, "emit answered %.*s", (int)(hl > 80 ? 80 : hl - 4), pc->in);
        memmove(pc->in, pc->in + total, pc->nin - total);
        pc->nin -= total;
        count++;
    }
    return count;
}

/* What the publishers did. */
struct pubres {
    int64_t t0, t_end;
    uint64_t published, ok, err;
    int timed_out;
};

/* Publish o.messages over o.publishers publishers, each with at most
 * o.pipeline requests in flight: --publishers 8 --pipeline 1 is eight PHP
 * workers that each wait for their 202 before the next emit. With several
 * --emit-port (a cluster's nodes) each publisher has a connection to every
 * node and sends its emits to them in turn. Messages are numbered in the
 * order they are written, whichever connection carries them; --rate and
 * --window bound them all together. */
static void publish(uint64_t ready, struct pubres *pr, char *fatal, size_t fcap,
                    char *emit_err, size_t ecap)
{
    int np = o.publishers, ne = o.nemit_ports > 1 ? o.nemit_ports : 1, nl = np * ne;
    struct pubconn *pcs = calloc((size_t)nl, sizeof *pcs);
    struct pollfd pfd[MAX_PUBLISHERS * 16];
    int pub_out[MAX_PUBLISHERS] = {0};
    unsigned pub_next[MAX_PUBLISHERS];
    char req[8192];
    if (!pcs) {
        snprintf(fatal, fcap, "out of memory");
        return;
    }
    for (int l = 0; l < nl; l++)
        pcs[l].fd = -1;
    for (int l = 0; l < nl; l++) {
        pcs[l].fd = connect_emit(ne > 1 ? o.emit_ports[l % ne] : o.emit_port);
        if (pcs[l].fd < 0) {
            snprintf(fatal, fcap, "cannot connect to the emit endpoint");
            goto out;
        }
    }
    for (int k = 0; k < np; k++)
        pub_next[k] = (unsigned)k; /* publishers start on different nodes */
    pr->t0 = now_ns();
    uint64_t answered = 0;
    while (answered < (uint64_t)o.messages) {
        int64_t now = now_ns();
        if (now > run_deadline_ns) {
            pr->timed_out = 1;
            break;
        }
        uint64_t due = (uint64_t)o.messages;
        if (o.rate > 0) {
            due = (uint64_t)((double)(now - pr->t0) / 1e9 * o.rate) + 1;
            if (due > (uint64_t)o.messages)
                due = (uint64_t)o.messages;
        }
        uint64_t allowed = (uint64_t)o.messages;
        if (o.window > 0) {
            uint64_t got = 0;
            for (int i = 0; i < o.procs; i++)
                got += atomic_load_explicit(&shm->res[i].unique, memory_order_relaxed);
            allowed = got / ready + (uint64_t)o.window;
        }
        int wrote = 0, outstanding = 0;
        for (int k = 0; k < np; k++) {
            while (pr->published < due && pr->published < allowed && pub_out[k] < o.pipeline) {
                struct pubconn *pc = &pcs[k * ne + (int)(pub_next[k]++ % (unsigned)ne)];
                int len = build_request(req, sizeof req, pr->published, k, now_ns());
                ssize_t w = send(pc->fd, req, (size_t)len, MSG_NOSIGNAL);
                if (w != len) {
                    /* An emit request is small; a full socket buffer here
                     * means the server stopped reading: give up. */
                    snprintf(fatal, fcap, "emit request write failed");
                    goto out;
                }
                pr->published++;
                pc->outstanding++;
                pub_out[k]++;
                wrote = 1;
            }
            outstanding += pub_out[k];
        }
        for (int l = 0; l < nl; l++) {
            pfd[l].fd = pcs[l].outstanding > 0 ? pcs[l].fd : -1;
            pfd[l].events = POLLIN;
            pfd[l].revents = 0;
        }
        /* Wait for an answer; when nothing is in flight, for the next due
         * time (--rate) or for deliveries to open the window. */
        int64_t wait_ns = 0;
        if (!wrote) {
            if (outstanding > 0)
                wait_ns = pr->published < due && pr->published < allowed ? 100000000 : 1000000;
            else if (o.rate > 0 && pr->published >= due)
                wait_ns = pr->t0 + (int64_t)((double)pr->published / o.rate * 1e9) - now_ns();
            else if (o.window > 0 && pr->published >= allowed)
                wait_ns = 200000;
            if (wait_ns < 0)
                wait_ns = 0;
            if (wait_ns > 1000000000)
                wait_ns = 1000000000;
        }
        struct timespec ts = {.tv_sec = wait_ns / 1000000000, .tv_nsec = wait_ns % 1000000000};
        if (outstanding > 0 || wait_ns > 0) {
            if (ppoll(pfd, (nfds_t)nl, &ts, NULL) <= 0)
                continue;
        }
        for (int l = 0; l < nl; l++) {
            struct pubconn *pc = &pcs[l];
            if (pfd[l].fd < 0 || !pfd[l].revents)
                continue;
            ssize_t r = recv(pc->fd, pc->in + pc->nin, sizeof pc->in - pc->nin - 1, MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                snprintf(fatal, fcap, "the emit endpoint closed the connection");
                goto out;
            }
            if (r < 0)
                continue;
            pc->nin += (size_t)r;
            pc->in[pc->nin] = 0;
            int okc = 0, c = parse_responses(pc, &okc, emit_err, ecap);
            if (c < 0 || (c == 0 && pc->nin >= sizeof pc->in - 1)) {
                snprintf(fatal, fcap, "malformed emit response");
                goto out;
            }
            pc->outstanding -= c;
            pub_out[l / ne] -= c;
            answered += (uint64_t)c;
            pr->ok += (uint64_t)okc;
            pr->err += (uint64_t)(c - okc);
        }
    }
out:
    pr->t_end = now_ns();
    for (int l = 0; l < nl; l++)
        if (pcs[l].fd >= 0)
            close(pcs[l].fd);
    free(pcs);
}

static double pct(const uint64_t *hist, uint64_t total, double q)
{
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)ceil(q * (double)total), acc = 0;
    if (want == 0)
        want = 1;
    for (size_t b = 0; b < HIST_N; b++) {
        acc += hist[b];
        if (acc >= want)
            return b < HIST_FINE ? (double)b : (double)HIST_FINE + (double)(b - HIST_FINE) * 1000;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
"usage: loadgen [options]\n"
"  --proto heraldd|socketio|ws|nchan|pusher|echo   subscriber protocol (heraldd); echo is\n"
"                            laravel-echo-server (socket.io 2, Engine.IO 3), published through\n"
"                            its HTTP API (--emit-prefix: /apps/bench/events?auth_key=benchkey)\n"
"  --host H --port P[,P..]   WebSocket server (127.0.0.1:8080); several ports (a cluster's\n"
"                            nodes): subscribers round-robin over them\n"
"  --ws-path PATH            upgrade path (per protocol: /ws, /socket.io/?EIO=4..., /, /sub/CH)\n"
"  --emit-host H --emit-port P[,P..] | --emit-unix PATH   emit endpoint (127.0.0.1:26300);\n"
"                            several ports: each publisher's emits go to them in turn\n"
"  --emit-method GET|POST --emit-prefix P   (per protocol: POST /emit/, GET /emit/, GET /emit/, POST /pub/)\n"
"  --channel C               channel to publish to (bench)\n"
"  --subscribe-name S        heraldd: signed or public name to subscribe with (= channel)\n"
"  --clients N --procs P     subscribers, spread over P processes (100, 1)\n"
"  --src-ips K               bind subscribers to 127.0.0.2..127.0.0.(K+1) (auto)\n"
"  --concurrency N           connection attempts in flight per process (256)\n"
"  --messages M              messages to publish; 0 = idle run (100)\n"
"  --rate R                  messages per second; 0 = as fast as possible (0)\n"
"  --window W                at most W messages not yet delivered everywhere (0 = no limit)\n"
"  --pipeline K              emit requests in flight per emit connection (1)\n"
"  --publishers K            emit connections publishing at once (1; e.g. 8 PHP workers)\n"
"  --size B                  payload bytes (48)\n"
"  --warmup K                the first K messages are checked but not timed (0)\n"
"  --server-pid PID[,PID..]  measure CPU and RSS of these processes\n"
"  --server-children         also count their child processes (workers)\n"
"  --aux-pid PID[,PID..]     CPU of these reported apart (aux_cpu_*; a cluster's Redis)\n"
"  --connect-timeout-ms MS --drain-ms MS --deadline-s S --hold-ms MS\n"
"  --until-signal            publish nothing: once subscribed, print \"loadgen: N subscribers\n"
"                            ready\" on stderr and count what arrives (other_frames) until\n"
"                            SIGTERM/SIGINT or --deadline-s (messages sent by someone else)\n"
"  --origin O --label L\n"
"Prints one JSON line on stdout and a summary on stderr. Exit status: 0 all\n"
"connected and nothing lost, 1 completed with failures or losses, 2 error.\n");
}

static void parse_args(int argc, char **argv)
{
    static struct option lo[] = {
        {"proto", 1, 0, 'p'}, {"host", 1, 0, 'H'}, {"port", 1, 0, 'P'},
        {"ws-path", 1, 0, 'w'}, {"emit-host", 1, 0, 'e'}, {"emit-port", 1, 0, 'E'},
        {"emit-unix", 1, 0, 'u'}, {"emit-method", 1, 0, 'M'}, {"emit-prefix", 1, 0, 'x'},
        {"channel", 1, 0, 'c'}, {"subscribe-name", 1, 0, 's'}, {"clients", 1, 0, 'n'},
        {"procs", 1, 0, 'j'}, {"src-ips", 1, 0, 'S'}, {"concurrency", 1, 0, 'C'},
        {"messages", 1, 0, 'm'}, {"rate", 1, 0, 'r'}, {"window", 1, 0, 'W'},
        {"pipeline", 1, 0, 'L'}, {"publishers", 1, 0, 'b'}, {"size", 1, 0, 'z'}, {"server-pid", 1, 0, 'k'},
        {"server-children", 0, 0, 'K'}, {"aux-pid", 1, 0, 'X'}, {"connect-timeout-ms", 1, 0, 't'},
        {"drain-ms", 1, 0, 'd'}, {"deadline-s", 1, 0, 'D'}, {"hold-ms", 1, 0, 'h'}, {"until-signal", 0, 0, 'g'},
        {"warmup", 1, 0, 'U'}, {"origin", 1, 0, 'O'}, {"label", 1, 0, 'l'}, {"help", 0, 0, 'y'}, {0, 0, 0, 0}};
    int ch;
    const char *method = NULL;
    int messages_set = 0;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'p': {
            int found = 0;
            for (int i = 0; i < (int)(sizeof proto_names / sizeof proto_names[0]); i++)
                if (strcmp(optarg, proto_names[i]) == 0)
                    o.proto = (enum proto)i, found = 1;
            if (!found)
                die("unknown --proto %s", optarg);
            break;
        }
        case 'H': o.host = optarg; break;
        case 'P': {
            long v[16];
            o.nports = parse_list(optarg, "bad --port %s", v, 16);
            for (int i = 0; i < o.nports; i++)
                o.ports[i] = (int)v[i];
            o.port = o.ports[0];
            break;
        }
        case 'w': o.ws_path = optarg; break;
        case 'e': o.emit_host = optarg; break;
        case 'E': {
            long v[16];
            o.nemit_ports = parse_list(optarg, "bad --emit-port %s", v, 16);
            for (int i = 0; i < o.nemit_ports; i++)
                o.emit_ports[i] = (int)v[i];
            o.emit_port = o.emit_ports[0];
            break;
        }
        case 'X': {
            long v[8];
            o.naux_pids = parse_list(optarg, "bad --aux-pid %s", v, 8);
            for (int i = 0; i < o.naux_pids; i++)
                o.aux_pids[i] = (pid_t)v[i];
            break;
        }
        case 'u': o.emit_unix = optarg; break;
        case 'M': method = optarg; break;
        case 'x': o.emit_prefix = optarg; break;
        case 'c': o.channel = optarg; break;
        case 's': o.sub_name = optarg; break;
        case 'n': o.clients = atoi(optarg); break;
        case 'j': o.procs = atoi(optarg); break;
        case 'S': o.src_ips = atoi(optarg); break;
        case 'C': o.concurrency = atoi(optarg); break;
        case 'm': o.messages = atoi(optarg), messages_set = 1; break;
        case 'r': o.rate = atof(optarg); break;
        case 'W': o.window = atoi(optarg); break;
        case 'L': o.pipeline = atoi(optarg); break;
        case 'b': o.publishers = atoi(optarg); break;
        case 'z': o.size = atoi(optarg); break;
        case 'k': {
            char *s = optarg, *end;
            while (*s && o.nserver_pids < 32) {
                long v = strtol(s, &end, 10);
                if (end == s || v <= 0)
                    die("bad --server-pid %s", optarg);
                o.server_pids[o.nserver_pids++] = (pid_t)v;
                s = *end == ',' ? end + 1 : end;
            }
            break;
        }
        case 'K': o.server_children = 1; break;
        case 't': o.connect_timeout_ms = atoi(optarg); break;
        case 'd': o.drain_ms = atoi(optarg); break;
        case 'D': o.deadline_s = atoi(optarg); break;
        case 'h': o.hold_ms = atoi(optarg); break;
        case 'g': o.until_signal = 1; break;
        case 'U': o.warmup = atoi(optarg); break;
        case 'O': o.origin = optarg; break;
        case 'l': o.label = optarg; break;
        case 'y': usage(); exit(0);
        default: usage(); exit(2);
        }
    }
    if (optind < argc)
        die("unexpected argument %s", argv[optind]);
    static char path[512], prefix[256];
    if (!o.ws_path) {
        const char *d[] = {"/ws", "/socket.io/?EIO=4&transport=websocket", "/", NULL,
                           "/app/benchkey?protocol=7&client=loadgen",
                           "/socket.io/?EIO=3&transport=websocket"};
        if (o.proto == P_NCHAN) {
            snprintf(path, sizeof path, "/sub/%s", o.channel);
            o.ws_path = path;
        } else {
            o.ws_path = d[o.proto];
        }
    }
    if (!o.emit_prefix) {
        snprintf(prefix, sizeof prefix, "%s",
                 o.proto == P_NCHAN  ? "/pub/"
                 : o.proto == P_ECHO ? "/apps/bench/events?auth_key=benchkey"
                                     : "/emit/");
        o.emit_prefix = prefix;
    }
    if (method)
        o.emit_get = strcasecmp(method, "GET") == 0;
    else
        o.emit_get = o.proto == P_SOCKETIO || o.proto == P_WS;
    if (!o.sub_name)
        o.sub_name = o.channel;
    if (strlen(o.sub_name) > 240 || strpbrk(o.sub_name, "\"\\"))
        die("bad --subscribe-name %s", o.sub_name);
    for (const char *q = o.channel; *q; q++)
        if (!isalnum((unsigned char)*q) && !strchr("_-.:@", *q))
            die("--channel must be a plain channel name: %s", o.channel);
    if (o.until_signal) {
        if (messages_set && o.messages != 0)
            die("%s", "--until-signal publishes nothing: drop --messages");
        o.messages = 0;
    }
    if (o.warmup < 0 || o.warmup >= o.messages)
        o.warmup = 0;
    if (o.clients < 0 || o.procs < 1 || o.messages < 0 || o.pipeline < 1 ||
        o.concurrency < 1 || o.size < 0 || o.size > 4096 || o.pipeline > 64 ||
        o.publishers < 1 || o.publishers > MAX_PUBLISHERS)
        die("%s", "bad numeric option (see --help)");
    if (o.procs > o.clients && o.clients > 0)
        o.procs = o.clients;
    if (o.src_ips == 0)
        o.src_ips = 1 + o.clients / 10000;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    build_handshake();

    /* Each child needs one descriptor per subscriber; stay under the limit. */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int per = o.clients / o.procs + 1;
    if ((rlim_t)per + 64 > rl.rlim_cur) {
        fprintf(stderr, "loadgen: %d subscribers per process exceed the open-file limit %lu; "
                "use --procs %d or more\n", per, (unsigned long)rl.rlim_cur,
                (int)(o.clients / ((long)rl.rlim_cur - 64) + 1));
        return 2;
    }

    int64_t t0 = now_ns();
    run_deadline_ns = t0 + (int64_t)o.deadline_s * 1000000000LL;
    size_t shsz = sizeof(struct shared) + (size_t)o.procs * sizeof(struct child_res);
    shm = mmap(NULL, shsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED)
        die("%s", "mmap failed");

    long rss0 = server_rss_kb();
    int readyp[2], ctlp[2];
    if (pipe2(readyp, O_CLOEXEC) < 0 || pipe2(ctlp, O_CLOEXEC) < 0)
        die("%s", "pipe failed");
    pid_t kids[1024];
    int nk = 0, base = 0;
    if (o.procs > 1024)
        die("%s", "--procs at most 1024");
    for (int i = 0; i < o.procs; i++) {
        int n = o.clients / o.procs + (i < o.clients % o.procs);
        pid_t pid = fork();
        if (pid < 0)
            die("%s", "fork failed");
        if (pid == 0) {
            close(readyp[0]);
            close(ctlp[1]);
            _exit(child_main(i, n, base, readyp[1], ctlp[0]));
        }
        kids[nk++] = pid;
        base += n;
    }
    close(readyp[1]);
    close(ctlp[0]);
    if (o.until_signal) {
        struct sigaction sa = {.sa_handler = on_stop};
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    }

    /* Wait until every child has settled all its connections. */
    int timed_out = 0, nready = 0;
    char fatal[200] = "";
    while (nready < o.procs) {
        int64_t left = (run_deadline_ns - now_ns()) / 1000000;
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
        fd_set rs;
        FD_ZERO(&rs);
        FD_SET(readyp[0], &rs);
        if (select(readyp[0] + 1, &rs, NULL, NULL, &tv) <= 0)
            continue;
        char b[64];
        ssize_t r = read(readyp[0], b, sizeof b);
        if (r <= 0) {
            snprintf(fatal, sizeof fatal, "a subscriber process died");
            break;
        }
        nready += (int)r;
    }
    int64_t t_connected = now_ns();
    uint64_t ready = 0, failed = 0;
    int64_t cstart = INT64_MAX, cend = 0;
    for (int i = 0; i < o.procs; i++) {
        struct child_res *r = &shm->res[i];
        ready += r->ready;
        failed += r->failed;
        if (r->t_start_ns && r->t_start_ns < cstart)
            cstart = r->t_start_ns;
        if (r->t_ready_ns > cend)
            cend = r->t_ready_ns;
    }
    double connect_s = cend > cstart ? (double)(cend - cstart) / 1e9 : 0;

    /* Let the server finish what each new connection costs, then weigh it. */
    if (o.hold_ms > 0 && !timed_out)
        usleep((useconds_t)o.hold_ms * 1000);
    long rss1 = server_rss_kb();
    int64_t cpu0 = server_cpu_ns(), aux0 = aux_cpu_ns(), each0[32], each1[32];
    server_cpu_each(each0);
    double user0, sys0, user1, sys1;
    server_user_sys_ms(&user0, &sys0);

    /* Someone else publishes (bench/e2e.sh's PHP routes): wait for the word. */
    if (o.until_signal && !timed_out && !fatal[0]) {
        fprintf(stderr, "loadgen: %" PRIu64 " subscribers ready\n", ready);
        while (!got_stop && now_ns() < run_deadline_ns)
            usleep(20000);
    }

    /* Publish. */
    struct pubres pr = {.t0 = now_ns()};
    pr.t_end = pr.t0;
    char emit_err[200] = "";
    if (o.messages > 0 && !timed_out && !fatal[0] && ready > 0)
        publish(ready, &pr, fatal, sizeof fatal, emit_err, sizeof emit_err);
    if (pr.timed_out)
        timed_out = 1;
    int64_t t_pub0 = pr.t0, t_pub_end = pr.t_end;
    uint64_t published = pr.published, pub_ok = pr.ok, pub_err = pr.err;
    atomic_store(&shm->published_ok, (int64_t)pub_ok);
    for (int i = 0; i < o.procs; i++)
        if (write(ctlp[1], "d", 1) != 1)
            break;

    /* Collect the children, killing them at the deadline. */
    int alive = nk;
    while (alive > 0) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p > 0) {
            alive--;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                snprintf(fatal, sizeof fatal, "a subscriber process failed");
            continue;
        }
        if (now_ns() > run_deadline_ns + 2000000000LL) {
            timed_out = 1;
            for (int i = 0; i < nk; i++)
                kill(kids[i], SIGKILL);
            while (waitpid(-1, &st, 0) > 0)
                ;
            break;
        }
        usleep(2000);
    }
    int64_t cpu1 = server_cpu_ns(), aux1 = aux_cpu_ns();
    server_cpu_each(each1);
    server_user_sys_ms(&user1, &sys1);
    double user_ms = user0 >= 0 && user1 >= 0 ? user1 - user0 : -1;
    double sys_ms = sys0 >= 0 && sys1 >= 0 ? sys1 - sys0 : -1;
    /* Our own CPU (publisher + subscriber processes): on a small machine the
     * client can be the bottleneck, and the report must say so. */
    struct rusage ru_self, ru_kids;
    getrusage(RUSAGE_SELF, &ru_self);
    getrusage(RUSAGE_CHILDREN, &ru_kids);
    double own_ms = (double)(ru_self.ru_utime.tv_sec + ru_self.ru_stime.tv_sec +
                             ru_kids.ru_utime.tv_sec + ru_kids.ru_stime.tv_sec) * 1e3 +
                    (double)(ru_self.ru_utime.tv_usec + ru_self.ru_stime.tv_usec +
                             ru_kids.ru_utime.tv_usec + ru_kids.ru_stime.tv_usec) / 1e3;

    /* Merge. */
    static uint64_t hist[HIST_N];
    uint64_t uniq = 0, dup = 0, other = 0, closed = 0, lat_max = 0;
    double lat_sum = 0;
    int64_t t_last = 0;
    const char *err = fatal[0] ? fatal : emit_err;
    int close_code = 0;
    for (int i = 0; i < o.procs; i++) {
        struct child_res *r = &shm->res[i];
        uniq += atomic_load(&r->unique);
        dup += r->dup;
        other += r->other;
        closed += r->closed;
        lat_sum += r->lat_sum_us;
        if (r->lat_max_ns > lat_max)
            lat_max = r->lat_max_ns;
        if (r->t_last_recv_ns > t_last)
            t_last = r->t_last_recv_ns;
        if (r->close_code)
            close_code = r->close_code;
        for (size_t b = 0; b < HIST_N; b++)
            hist[b] += r->hist[b];
        if (!err[0] && r->err[0])
            err = r->err;
    }
    uint64_t expected = ready * pub_ok;
    uint64_t lost = expected > uniq ? expected - uniq : 0;
    double deliv_s = t_last > t_pub0 ? (double)(t_last - t_pub0) / 1e9 : 0;
    double pub_s = (double)(t_pub_end - t_pub0) / 1e9;
    uint64_t delivered = uniq + dup;
    double dps = deliv_s > 0 ? (double)delivered / deliv_s : 0;
    double cpu_ms = cpu0 >= 0 && cpu1 >= 0 ? (double)(cpu1 - cpu0) / 1e6 : -1;
    double cpu_per = cpu_ms >= 0 && delivered > 0 ? cpu_ms * 1000 / (double)delivered : -1;
    double aux_ms = aux0 >= 0 && aux1 >= 0 ? (double)(aux1 - aux0) / 1e6 : -1;
    double aux_per = aux_ms >= 0 && delivered > 0 ? aux_ms * 1000 / (double)delivered : -1;
    char each[32 * 16 + 4] = "";
    size_t el = 0;
    for (int i = 0; i < o.nserver_pids && el < sizeof each - 16; i++)
        el += (size_t)snprintf(each + el, sizeof each - el, "%s%.1f", i ? "," : "",
                               (double)(each1[i] - each0[i]) / 1e6);
    double rss_per = rss0 >= 0 && rss1 >= 0 && ready > 0 ? (double)(rss1 - rss0) * 1024 / (double)ready : -1;
    uint64_t timed = 0;
    for (size_t b = 0; b < HIST_N; b++)
        timed += hist[b];
    double p50 = pct(hist, timed, 0.50), p90 = pct(hist, timed, 0.90),
           p99 = pct(hist, timed, 0.99), p999 = pct(hist, timed, 0.999);
    (void)t_connected;

    char errj[400] = "";
    size_t ej = 0;
    for (const char *q = err; *q && ej < sizeof errj - 8; q++) {
        if (*q == '"' || *q == '\\')
            errj[ej++] = '\\';
        errj[ej++] = (unsigned char)*q < 0x20 ? ' ' : *q;
    }
    errj[ej] = 0;
    printf("{\"label\":\"%s\",\"proto\":\"%s\",\"clients\":%d,\"procs\":%d,"
           "\"connected\":%" PRIu64 ",\"connect_failed\":%" PRIu64 ",\"connect_s\":%.3f,"
           "\"connects_per_s\":%.0f,\"messages\":%d,\"rate\":%g,\"window\":%d,\"size\":%d,"
           "\"publishers\":%d,\"pipeline\":%d,"
           "\"published\":%" PRIu64 ",\"publish_errors\":%" PRIu64 ",\"publish_s\":%.3f,"
           "\"emits_per_s\":%.0f,"
           "\"expected\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"lost\":%" PRIu64
           ",\"dup\":%" PRIu64 ",\"other_frames\":%" PRIu64 ",\"closed\":%" PRIu64
           ",\"close_code\":%d,\"delivery_s\":%.3f,\"delivered_per_s\":%.0f,"
           "\"lat_us_p50\":%.0f,\"lat_us_p90\":%.0f,\"lat_us_p99\":%.0f,\"lat_us_p999\":%.0f,"
           "\"lat_us_max\":%.0f,\"lat_us_mean\":%.1f,\"server_cpu_ms\":%.1f,"
           "\"server_user_ms\":%.0f,\"server_sys_ms\":%.0f,"
           "\"cpu_us_per_frame\":%.3f,\"rss_kb_base\":%ld,\"rss_kb_loaded\":%ld,"
           "\"rss_bytes_per_conn\":%.0f,\"server_cpu_ms_each\":[%s],\"aux_cpu_ms\":%.1f,"
           "\"aux_cpu_us_per_frame\":%.3f,\"loadgen_cpu_ms\":%.1f,\"wall_s\":%.3f,\"timeout\":%s,\"error\":\"%s\"}\n",
           o.label, proto_names[o.proto], o.clients, o.procs, ready, failed, connect_s,
           connect_s > 0 ? (double)ready / connect_s : 0, o.messages, o.rate, o.window,
           o.size, o.publishers, o.pipeline, published, pub_err, pub_s,
           pub_s > 0 ? (double)(pub_ok + pub_err) / pub_s : 0, expected, delivered, lost, dup, other, closed,
           close_code, deliv_s, dps, p50, p90, p99, p999, (double)lat_max / 1000,
           timed ? lat_sum / (double)timed : 0, cpu_ms, user_ms, sys_ms, cpu_per, rss0, rss1, rss_per,
           each, aux_ms, aux_per, own_ms, (double)(now_ns() - t0) / 1e9, timed_out ? "true" : "false", errj);
    fflush(stdout);
    fprintf(stderr,
            "%s%s%s: %" PRIu64 "/%d connected in %.2fs (%.0f/s); %" PRIu64 " msgs -> %" PRIu64
            " frames, %.0f/s, lost %" PRIu64 "; latency p50 %.0fus p99 %.0fus max %.0fus; "
            "server %.3f us/frame, RSS %.0f B/conn%s%s\n",
            o.label, o.label[0] ? " " : "", proto_names[o.proto], ready, o.clients, connect_s,
            connect_s > 0 ? (double)ready / connect_s : 0, pub_ok, delivered, dps, lost, p50,
            p99, (double)lat_max / 1000, cpu_per, rss_per, err[0] ? "; " : "", err);
    if (fatal[0] && ready == 0)
        return 2;
    return (timed_out || failed || lost || pub_err || fatal[0]) ? 1 : 0;
}
