/* httpload — Herald's end-to-end HTTP load client.
 *
 * N keep-alive HTTP/1.1 connections each send one GET at a time (a browser
 * waiting for its page); the first --warmup answers are not counted, the
 * next --requests are. Reports requests/s, the latency of each request in
 * microseconds (p50/p90/p99/max: ab rounds to milliseconds), and, for every
 * --cpu NAME=PID[,PID...] group (children of each PID included: php-fpm's
 * and nginx's workers), the CPU the group used per counted request, read
 * from /proc before and after the counted requests.
 *
 * One epoll loop, no dependencies (C11). Prints one JSON line on stdout and
 * a summary on stderr. Exit status: 0 every counted answer was a 2xx, 1 the
 * run completed with errors or timed out, 2 usage or setup error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"

#define MAX_CONNS 4096
#define MAX_GROUPS 8
#define MAX_PIDS 512
/* 1 us buckets below 100 ms, then 1 ms buckets up to 100 s. */
#define HIST_FINE 100000
#define HIST_N (HIST_FINE + 100000)

struct group {
    const char *name;
    pid_t roots[16];
    int nroots;
    int64_t cpu0, cpu1;
    int64_t sys0, sys1;        /* system time (stime), ns, clock-tick grain */
};

static struct {
    const char *host, *path, *label, *host_header;
    int port, conns, deadline_s, timeout_ms;
    long requests, warmup;
    struct group groups[MAX_GROUPS];
    int ngroups;
} o = {.host = "127.0.0.1", .path = "/", .label = "", .port = 80, .conns = 1,
       .deadline_s = 120, .timeout_ms = 10000, .requests = 1000, .warmup = 100};

struct conn {
    int fd;
    int64_t t_sent;     /* when the request in flight was written; 0: none */
    char in[16384];
    size_t nin;
};

static uint32_t hist[HIST_N];

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "httpload: %s%s\n", msg, arg ? arg : "");
    exit(2);
}

/* ---- CPU of a process group from /proc --------------------------------- */

static int children_of(pid_t parent, pid_t *out, int max)
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

/* System (kernel) CPU time of a process in ns: stime of /proc/PID/stat,
 * in clock ticks; the rest of procstat_cpu_ns is its own code's. */
static int64_t proc_sys_ns(pid_t pid)
{
    int64_t ut, st;
    return procstat_user_sys_ns(pid, &ut, &st) == 0 ? st : 0;
}

static int64_t group_cpu_ns(const struct group *g, int64_t *sys)
{
    pid_t pids[MAX_PIDS];
    int n = 0;
    for (int i = 0; i < g->nroots && n < MAX_PIDS; i++) {
        pids[n++] = g->roots[i];
        n += children_of(g->roots[i], pids + n, MAX_PIDS - n);
    }
    int64_t sum = 0;
    *sys = 0;
    for (int i = 0; i < n; i++) {
        sum += procstat_cpu_ns(pids[i]);
        *sys += proc_sys_ns(pids[i]);
    }
    return sum;
}

static void snapshot(int which)
{
    for (int i = 0; i < o.ngroups; i++) {
        int64_t sys, c = group_cpu_ns(&o.groups[i], &sys);
        if (which == 0)
            o.groups[i].cpu0 = c, o.groups[i].sys0 = sys;
        else
            o.groups[i].cpu1 = c, o.groups[i].sys1 = sys;
    }
}

/* ---- HTTP ------------------------------------------------------------- */

static char req[2048];
static int req_len;

static int conn_open(struct conn *c, int epfd, int idx)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(o.port)};
    if (inet_pton(AF_INET, o.host, &sa.sin_addr) != 1)
        die("--host must be an IPv4 address: ", o.host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Blocking connect on loopback: immediate, and keeps the loop simple. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)idx};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    c->fd = fd;
    c->nin = 0;
    c->t_sent = 0;
    return 0;
}

static void conn_drop(struct conn *c, int epfd)
{
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->t_sent = 0;
    c->nin = 0;
}

/* One whole response at the start of c->in? Returns its length (0: not
 * yet, -1: malformed) and its status; `close_after` when the server said
 * it closes the connection. */
static long parse_response(struct conn *c, int *status, int *close_after)
{
    char *e = memmem(c->in, c->nin, "\r\n\r\n", 4);
    if (!e)
        return c->nin >= sizeof c->in ? -1 : 0;
    size_t hl = (size_t)(e - c->in) + 4;
    if (sscanf(c->in, "HTTP/1.%*d %d", status) != 1)
        return -1;
    long cl = -1;
    int chunked = 0;
    *close_after = 0;
    for (char *l = c->in; l < e;) {
        char *eol = memchr(l, '\n', (size_t)(e + 2 - l));
        size_t ll = (size_t)(eol - l);
        if (strncasecmp(l, "content-length:", 15) == 0)
            cl = strtol(l + 15, NULL, 10);
        else if (strncasecmp(l, "transfer-encoding:", 18) == 0)
            chunked = 1;
        else if (strncasecmp(l, "connection:", 11) == 0 && memmem(l, ll, "close", 5))
            *close_after = 1;
        l = eol + 1;
    }
    if (chunked) {
        /* Walk the chunks: size line, data, CRLF; ends with a 0-size chunk. */
        size_t p = hl;
        for (;;) {
            char *nl = memmem(c->in + p, c->nin - p, "\r\n", 2);
            if (!nl)
                return c->nin >= sizeof c->in ? -1 : 0;
            long sz = strtol(c->in + p, NULL, 16);
            if (sz < 0)
                return -1;
            p = (size_t)(nl - c->in) + 2;
            if (sz == 0) {
                char *end = memmem(c->in + p, c->nin - p, "\r\n", 2);
                if (!end)
                    return c->nin >= sizeof c->in ? -1 : 0;
                return (long)((size_t)(end - c->in) + 2);
            }
            if (c->nin < p + (size_t)sz + 2)
                return c->nin >= sizeof c->in ? -1 : 0;
            p += (size_t)sz + 2;
        }
    }
    if (cl < 0)
        cl = 0;
    if (hl + (size_t)cl > sizeof c->in)
        return -1;
    if (c->nin < hl + (size_t)cl)
        return 0;
    return (long)(hl + (size_t)cl);
}

static double pct(uint64_t total, double q)
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

static void usage(FILE *f)
{
    fprintf(f,
"usage: httpload [options]\n"
"  --host H --port P        server (127.0.0.1:80)\n"
"  --path PATH              request target (/)\n"
"  --host-header H          Host: header (H:P)\n"
"  --connections N          keep-alive connections, one request in flight each (1)\n"
"  --warmup W               answers before the counted ones (100)\n"
"  --requests R             counted answers (1000)\n"
"  --cpu NAME=PID[,PID..]   CPU per counted request of these processes and their\n"
"                           children (repeatable, at most 8 groups)\n"
"  --timeout-ms MS          per request (10000) --deadline-s S for the run (120)\n"
"  --label L\n"
"Prints one JSON line on stdout and a summary on stderr. Exit status: 0 every\n"
"counted answer was a 2xx, 1 errors or a timeout, 2 usage or setup error.\n");
}

static void parse_args(int argc, char **argv)
{
    static struct option lo[] = {
        {"host", 1, 0, 'H'}, {"port", 1, 0, 'P'}, {"path", 1, 0, 'p'},
        {"host-header", 1, 0, 'h'}, {"connections", 1, 0, 'c'}, {"warmup", 1, 0, 'w'},
        {"requests", 1, 0, 'n'}, {"cpu", 1, 0, 'C'}, {"timeout-ms", 1, 0, 't'},
        {"deadline-s", 1, 0, 'D'}, {"label", 1, 0, 'l'}, {"help", 0, 0, 'y'}, {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'H': o.host = optarg; break;
        case 'P': o.port = atoi(optarg); break;
        case 'p': o.path = optarg; break;
        case 'h': o.host_header = optarg; break;
        case 'c': o.conns = atoi(optarg); break;
        case 'w': o.warmup = atol(optarg); break;
        case 'n': o.requests = atol(optarg); break;
        case 't': o.timeout_ms = atoi(optarg); break;
        case 'D': o.deadline_s = atoi(optarg); break;
        case 'l': o.label = optarg; break;
        case 'C': {
            if (o.ngroups == MAX_GROUPS)
                die("at most 8 --cpu groups", NULL);
            struct group *g = &o.groups[o.ngroups++];
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg)
                die("--cpu wants NAME=PID[,PID...], got ", optarg);
            *eq = 0;
            g->name = optarg;
            for (char *s = eq + 1, *end; *s && g->nroots < 16; s = *end == ',' ? end + 1 : end) {
                long v = strtol(s, &end, 10);
                if (end == s || v <= 0 || (*end && *end != ','))
                    die("--cpu: not a process id list: ", eq + 1);
                g->roots[g->nroots++] = (pid_t)v;
            }
            if (g->nroots == 0)
                die("--cpu: no process id for ", g->name);
            for (const char *q = g->name; *q; q++)
                if (!isalnum((unsigned char)*q) && !strchr("_-.", *q))
                    die("--cpu: NAME may hold letters, digits, _ - . only: ", g->name);
            break;
        }
        case 'y': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc)
        die("unexpected argument ", argv[optind]);
    if (o.conns < 1 || o.conns > MAX_CONNS || o.requests < 1 || o.warmup < 0 ||
        o.port < 1 || o.port > 65535 || o.timeout_ms < 1 || o.deadline_s < 1)
        die("bad numeric option (see --help)", NULL);
    if (o.path[0] != '/' || strpbrk(o.path, " \r\n"))
        die("--path must start with / and hold no space or line break: ", o.path);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    char hostbuf[300];
    if (!o.host_header) {
        snprintf(hostbuf, sizeof hostbuf, "%s:%d", o.host, o.port);
        o.host_header = hostbuf;
    }
    req_len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: httpload\r\n\r\n",
                       o.path, o.host_header);
    if (req_len >= (int)sizeof req)
        die("request too long", NULL);

    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct conn *cs = calloc((size_t)o.conns, sizeof *cs);
    if (epfd < 0 || !cs)
        die("out of memory", NULL);
    for (int i = 0; i < o.conns; i++)
        if (conn_open(&cs[i], epfd, i) < 0) {
            fprintf(stderr, "httpload: cannot connect to %s:%d: %s\n", o.host, o.port, strerror(errno));
            return 2;
        }

    long total = o.warmup + o.requests, sent = 0, answered = 0, counted = 0;
    long errors = 0, non2xx = 0, reconnects = 0;
    int first_status_err = 0, timed_out = 0;
    char err[200] = "";
    int64_t t0 = now_ns(), t_count0 = 0, t_count1 = 0, deadline = t0 + (int64_t)o.deadline_s * 1000000000LL;
    double lat_sum = 0;
    uint64_t lat_max = 0;
    if (o.warmup == 0) {
        snapshot(0);
        t_count0 = now_ns();
    }
    struct epoll_event evs[256];
    while (answered < total) {
        int64_t now = now_ns();
        if (now > deadline) {
            timed_out = 1;
            snprintf(err, sizeof err, "the run passed --deadline-s %d", o.deadline_s);
            break;
        }
        /* Every idle connection sends the next request. */
        for (int i = 0; i < o.conns && sent < total; i++) {
            struct conn *c = &cs[i];
            if (c->t_sent)
                continue;
            if (c->fd < 0) {
                if (conn_open(c, epfd, i) < 0) {
                    snprintf(err, sizeof err, "reconnect failed: %s", strerror(errno));
                    goto done;
                }
                reconnects++;
            }
            c->t_sent = now_ns();
            if (send(c->fd, req, (size_t)req_len, MSG_NOSIGNAL) != req_len) {
                errors++;
                if (!err[0])
                    snprintf(err, sizeof err, "send: %s", strerror(errno));
                conn_drop(c, epfd);
                continue;
            }
            sent++;
        }
        int k = epoll_wait(epfd, evs, 256, 50);
        now = now_ns();
        for (int j = 0; j < k; j++) {
            struct conn *c = &cs[evs[j].data.u32];
            if (c->fd < 0)
                continue;
            ssize_t r = recv(c->fd, c->in + c->nin, sizeof c->in - c->nin, MSG_DONTWAIT);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0) {
                /* The server closed: a request in flight is lost. */
                if (c->t_sent) {
                    errors++;
                    answered++;
                    if (!err[0])
                        snprintf(err, sizeof err, "the server closed a connection with a request in flight");
                }
                conn_drop(c, epfd);
                continue;
            }
            c->nin += (size_t)r;
            int status = 0, close_after = 0;
            long len = parse_response(c, &status, &close_after);
            if (len < 0) {
                errors++;
                answered++;
                if (!err[0])
                    snprintf(err, sizeof err, "malformed or oversized response");
                conn_drop(c, epfd);
                continue;
            }
            if (len == 0)
                continue;
            if (!c->t_sent) {
                errors++;
                snprintf(err, sizeof err, "an answer came without a request");
                conn_drop(c, epfd);
                continue;
            }
            int64_t lat = now - c->t_sent;
            memmove(c->in, c->in + len, c->nin - (size_t)len);
            c->nin -= (size_t)len;
            c->t_sent = 0;
            answered++;
            int ok = status >= 200 && status < 300;
            if (answered > o.warmup) {
                counted++;
                uint64_t us = (uint64_t)lat / 1000;
                size_t b = us < HIST_FINE ? us : HIST_FINE + (us - HIST_FINE) / 1000;
                if (b >= HIST_N)
                    b = HIST_N - 1;
                hist[b]++;
                lat_sum += (double)us;
                if ((uint64_t)lat > lat_max)
                    lat_max = (uint64_t)lat;
                if (!ok) {
                    non2xx++;
                    if (!first_status_err)
                        first_status_err = status;
                }
            }
            if (answered == o.warmup) {
                snapshot(0);
                t_count0 = now_ns();
            }
            if (close_after)
                conn_drop(c, epfd);
        }
        /* A request without an answer for --timeout-ms is an error. */
        for (int i = 0; i < o.conns; i++)
            if (cs[i].t_sent && now - cs[i].t_sent > (int64_t)o.timeout_ms * 1000000) {
                errors++;
                answered++;
                if (!err[0])
                    snprintf(err, sizeof err, "no answer within %d ms", o.timeout_ms);
                conn_drop(&cs[i], epfd);
            }
    }
done:
    t_count1 = now_ns();
    snapshot(1);
    for (int i = 0; i < o.conns; i++)
        conn_drop(&cs[i], epfd);
    if (!t_count0)
        t_count0 = t_count1;
    if (non2xx && !err[0])
        snprintf(err, sizeof err, "%ld answers were not 2xx (first: %d)", non2xx, first_status_err);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double own_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    double secs = (double)(t_count1 - t_count0) / 1e9;
    double rps = secs > 0 ? (double)counted / secs : 0;
    printf("{\"label\":\"%s\",\"path\":\"%s\",\"connections\":%d,\"warmup\":%ld,\"requests\":%ld,"
           "\"counted\":%ld,\"errors\":%ld,\"non_2xx\":%ld,\"reconnects\":%ld,\"seconds\":%.3f,"
           "\"req_per_s\":%.1f,\"lat_us_p50\":%.0f,\"lat_us_p90\":%.0f,\"lat_us_p99\":%.0f,"
           "\"lat_us_max\":%.0f,\"lat_us_mean\":%.1f,\"cpu_us_per_req\":{",
           o.label, o.path, o.conns, o.warmup, o.requests, counted, errors, non2xx, reconnects,
           secs, rps, pct((uint64_t)counted, 0.5), pct((uint64_t)counted, 0.9),
           pct((uint64_t)counted, 0.99), (double)lat_max / 1000,
           counted ? lat_sum / (double)counted : 0);
    for (int i = 0; i < o.ngroups; i++)
        printf("%s\"%s\":%.2f", i ? "," : "", o.groups[i].name,
               counted ? (double)(o.groups[i].cpu1 - o.groups[i].cpu0) / 1000 / (double)counted : 0);
    /* the kernel's share of each group's CPU, from stime (clock ticks) */
    printf("},\"sys_us_per_req\":{");
    for (int i = 0; i < o.ngroups; i++)
        printf("%s\"%s\":%.2f", i ? "," : "", o.groups[i].name,
               counted ? (double)(o.groups[i].sys1 - o.groups[i].sys0) / 1000 / (double)counted : 0);
    printf("},\"client_cpu_us_per_req\":%.2f,\"timeout\":%s,\"error\":\"",
           answered ? own_us / (double)answered : 0, timed_out ? "true" : "false");
    for (const char *q = err; *q; q++)
        printf(*q == '"' || *q == '\\' ? "\\%c" : "%c", (unsigned char)*q < 0x20 ? ' ' : *q);
    printf("\"}\n");
    fflush(stdout);
    fprintf(stderr, "%s%s%s c=%d: %ld requests in %.2fs, %.0f/s; latency p50 %.0fus p99 %.0fus; "
            "errors %ld%s%s\n", o.label, o.label[0] ? " " : "", o.path, o.conns, counted, secs, rps,
            pct((uint64_t)counted, 0.5), pct((uint64_t)counted, 0.99), errors,
            err[0] ? "; " : "", err);
    return (errors || non2xx || timed_out || counted < o.requests) ? 1 : 0;
}
