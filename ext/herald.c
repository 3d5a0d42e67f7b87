/* ext/herald: publish to heraldd from PHP. Herald\emit() sends one HTTP/1.1
 * request over a libcurl handle kept open per process (per thread in ZTS),
 * so a php-fpm worker pays the connect once. Behaviour and guarantees:
 * ext/README.md; wire format: README.md, "Emit API". */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"
#include "php_ini.h"
#include "SAPI.h"
#include "zend_attributes.h"
#include "ext/json/php_json.h"
#include "ext/spl/spl_exceptions.h"
#include "ext/spl/spl_iterators.h"
#include "ext/standard/basic_functions.h"
#include "ext/standard/info.h"
#if PHP_VERSION_ID >= 80200
#include "ext/random/php_random.h"
#else
#include "ext/standard/php_random.h"
#endif
#include "zend_exceptions.h"
#include "zend_interfaces.h"
#include "zend_smart_str.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "php_herald.h"
#include "herald_arginfo.h"

ZEND_DECLARE_MODULE_GLOBALS(herald)

#define HERALD_URL_MAX 1280          /* endpoint base + "/emit/" + channel */
#define HERALD_ENDPOINT_MAX 1000
#define HERALD_RESP_MAX (64 << 20)   /* a batch answer is ~40 bytes per id */
#define HERALD_TOKEN_MAX 1024
#define HERALD_JSON_FLAGS (PHP_JSON_UNESCAPED_SLASHES | PHP_JSON_UNESCAPED_UNICODE)

zend_class_entry *herald_ce_exception, *herald_ce_invalid;
static zend_class_entry *herald_ce_connection, *herald_ce_rejected, *herald_ce_client;
static zend_object_handlers herald_client_handlers;

#define HERALD_KEY_MAX 64
#define HERALD_CTYPE_SINGLE "application/octet-stream"
#define HERALD_CTYPE_BATCH "application/x-herald-batch"

/* unix: endpoints are spoken to directly on a kept-alive socket, http://
 * ones through libcurl (ext/README.md, "Transport", says why). */
struct herald_conn {
    CURL *curl;                 /* http://: NULL until first use and after an error */
    int fd;                     /* unix:: the socket, when fd_open */
    bool fd_open;
    long fd_timeo_ms;           /* SO_SNDTIMEO/SO_RCVTIMEO now set on fd */
    char *endpoint;             /* as configured, for messages */
    char *unix_path;            /* NULL for http:// */
    char *head_fixed;           /* unix: Host, User-Agent, Authorization lines */
    size_t head_fixed_len;
    char url[HERALD_URL_MAX];   /* base, then the path of each request */
    size_t base_len;
    struct curl_slist *hdr_single, *hdr_batch;
    long connect_timeout_ms, timeout_ms;
    char *resp;                 /* the answer's body, reused */
    size_t resp_len, resp_cap;
    char errbuf[CURL_ERROR_SIZE];
};

/* What went wrong, kept apart from throwing: at request shutdown there is no
 * stack frame to throw from, so the same error must be loggable too. */
enum { HERALD_ERR_NONE, HERALD_ERR_CONNECTION, HERALD_ERR_REJECTED,
       HERALD_ERR_INVALID, HERALD_ERR_OTHER };
typedef struct herald_err {
    int kind;
    long status;
    char reason[256];           /* heraldd's own line, for RejectedException */
    char msg[768];
} herald_err_t;

/* ---- errors ------------------------------------------------------------ */

static void herald_err_set(herald_err_t *e, int kind, const char *fmt, ...)
    ZEND_ATTRIBUTE_FORMAT(printf, 3, 4);

/* printf into the error; the first error wins so the root cause survives. */
static void herald_err_set(herald_err_t *e, int kind, const char *fmt, ...) {
    if (e->kind != HERALD_ERR_NONE) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->kind = kind;
}

/* Turn an error into the exception class that tells the caller what to do. */
static void herald_err_throw(const herald_err_t *e) {
    zend_class_entry *ce = herald_ce_exception;
    switch (e->kind) {
    case HERALD_ERR_CONNECTION: ce = herald_ce_connection; break;
    case HERALD_ERR_INVALID: ce = herald_ce_invalid; break;
    case HERALD_ERR_REJECTED: ce = herald_ce_rejected; break;
    default: break;
    }
    zend_object *ex = zend_throw_exception(ce, e->msg, e->kind == HERALD_ERR_REJECTED ? e->status : 0);
    if (ex != NULL && e->kind == HERALD_ERR_REJECTED) {
        zend_update_property_long(herald_ce_rejected, ex, "status", sizeof("status") - 1, e->status);
        zend_update_property_string(herald_ce_rejected, ex, "reason", sizeof("reason") - 1, e->reason);
    }
}

/* Deferred sends have nobody to throw to: a WARNING (messages were lost)
 * goes to the error log, with the reason. */
static void herald_err_log(const herald_err_t *e, size_t dropped) {
    zend_error(E_WARNING, "Herald: %zu deferred message(s) not sent: %s", dropped, e->msg);
}

/* The user this process runs as, for messages about file permissions. */
static const char *herald_user_name(char *buf, size_t size) {
    struct passwd *pw = getpwuid(geteuid());
    if (pw != NULL) snprintf(buf, size, "%s", pw->pw_name);
    else snprintf(buf, size, "uid %ld", (long)geteuid());
    return buf;
}

/* A connect to heraldd's Unix socket failed with err: say which of the
 * usual causes it is and what to do, instead of libcurl's "Failed to connect
 * to localhost port 80". */
static void herald_err_unix(herald_err_t *e, const char *endpoint, const char *path, int err) {
    char user[64];
    struct stat st;
    switch (err) {
    case ENOENT:
        herald_err_set(e, HERALD_ERR_CONNECTION,
                       "Herald: cannot reach heraldd at %s: no such file %s; heraldd is not running or listens elsewhere: start heraldd, or set herald.endpoint to the unix: path of its emit_listen",
                       endpoint, path);
        break;
    case EACCES:
    case EPERM:
        herald_err_set(e, HERALD_ERR_CONNECTION,
                       "Herald: cannot reach heraldd at %s: permission denied for user %s; let it open the socket: put %s in the socket's group (heraldd's emit_socket_group, with emit_socket_mode 0660) and let it search every directory on the path, then restart php-fpm",
                       endpoint, herald_user_name(user, sizeof user), user);
        break;
    case ECONNREFUSED:
        if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
            herald_err_set(e, HERALD_ERR_CONNECTION,
                           "Herald: cannot reach heraldd at %s: %s is not a socket; set herald.endpoint to the unix: path of heraldd's emit_listen",
                           endpoint, path);
        else
            herald_err_set(e, HERALD_ERR_CONNECTION,
                           "Herald: cannot reach heraldd at %s: connection refused; the socket file is there but no heraldd listens on it (heraldd stopped and left it behind): start heraldd, and check its log for why it stopped",
                           endpoint);
        break;
    case EAGAIN:
        herald_err_set(e, HERALD_ERR_CONNECTION,
                       "Herald: cannot reach heraldd at %s: it accepts no more connections (its listen queue is full); check that heraldd runs and is not overloaded",
                       endpoint);
        break;
    case ENOTDIR:
        herald_err_set(e, HERALD_ERR_CONNECTION,
                       "Herald: cannot reach heraldd at %s: a part of the path is not a directory; set herald.endpoint to the unix: path of heraldd's emit_listen",
                       endpoint);
        break;
    default:
        herald_err_set(e, HERALD_ERR_CONNECTION,
                       "Herald: cannot reach heraldd at %s: %s; check that heraldd runs and that herald.endpoint matches its emit_listen",
                       endpoint, strerror(err));
    }
}

static void herald_err_channel(herald_err_t *e, const zend_string *channel) {
    herald_err_set(e, HERALD_ERR_INVALID, "Herald: invalid channel name of %zu bytes: a channel is %s",
                   ZSTR_LEN(channel),
                   "1-200 bytes of A-Z a-z 0-9 _ - . : @ (sign it with Herald\\channel() for browsers, emit to the plain name)");
}

/* ---- the connection ---------------------------------------------------- */

/* libcurl hands the answer in pieces; keep them in one reusable buffer. */
static int herald_resp_reserve(herald_conn_t *c, size_t more) {
    if (c->resp_len + more + 1 <= c->resp_cap) return 0;
    size_t cap = c->resp_cap ? c->resp_cap : 4096;
    while (cap < c->resp_len + more + 1) cap *= 2;
    if (cap > HERALD_RESP_MAX) return -1;
    char *p = realloc(c->resp, cap);
    if (p == NULL) return -1;
    c->resp = p;
    c->resp_cap = cap;
    return 0;
}

static size_t herald_conn_on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
    herald_conn_t *c = ud;
    size_t n = size * nmemb;
    if (herald_resp_reserve(c, n) != 0) return 0; /* aborts the transfer */
    memcpy(c->resp + c->resp_len, ptr, n);
    c->resp_len += n;
    c->resp[c->resp_len] = '\0';
    return n;
}

static void herald_conn_close(herald_conn_t *c) {
    if (c->curl != NULL) {
        curl_easy_cleanup(c->curl);
        c->curl = NULL;
    }
    if (c->fd_open) {
        close(c->fd);
        c->fd_open = 0;
    }
}

static void herald_conn_clear(herald_conn_t *c) {
    herald_conn_close(c);
    free(c->endpoint);
    free(c->unix_path);
    curl_slist_free_all(c->hdr_single);
    curl_slist_free_all(c->hdr_batch);
    if (c->head_fixed != NULL) {
        ZEND_SECURE_ZERO(c->head_fixed, c->head_fixed_len);
        free(c->head_fixed);
    }
    free(c->resp);
    memset(c, 0, sizeof *c);
}

/* Parse the endpoint and build the header lists once, so an emit only sets
 * the URL and the body. Closes the connection (the peer may have changed). */
static int herald_conn_configure(herald_conn_t *c, const char *endpoint, const char *token,
                                 size_t token_len, zend_long connect_timeout_ms,
                                 zend_long timeout_ms, herald_err_t *e) {
    herald_conn_clear(c);
    size_t elen = strlen(endpoint);
    if (elen == 0 || elen > HERALD_ENDPOINT_MAX) {
        herald_err_set(e, HERALD_ERR_INVALID, "Herald: the endpoint must be unix:///path/to/emit.sock or http://127.0.0.1:26300 (got %zu bytes)", elen);
        return -1;
    }
    const char *path = NULL;
    if (strncmp(endpoint, "unix://", 7) == 0) path = endpoint + 7;
    else if (strncmp(endpoint, "unix:", 5) == 0) path = endpoint + 5;
    if (path != NULL) {
        if (path[0] != '/') {
            herald_err_set(e, HERALD_ERR_INVALID, "Herald: endpoint %s: a unix endpoint needs an absolute socket path (unix:///run/herald/emit.sock)", endpoint);
            return -1;
        }
        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            herald_err_set(e, HERALD_ERR_INVALID, "Herald: endpoint %s: a Unix socket path is at most %zu bytes", endpoint,
                           sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
            return -1;
        }
        c->unix_path = strdup(path);
        memcpy(c->url, "http://localhost", 16);
        c->base_len = 16;
    } else if (strncmp(endpoint, "https://", 8) == 0) {
        herald_err_set(e, HERALD_ERR_INVALID, "Herald: endpoint %s: heraldd's emit listener speaks plain HTTP on a Unix socket or loopback, never TLS; use unix:///run/herald/emit.sock or http://127.0.0.1:26300 (TLS belongs in front of the public listener, for browsers)", endpoint);
        return -1;
    } else if (strncmp(endpoint, "http://", 7) == 0) {
        size_t n = elen;
        while (n > 0 && endpoint[n - 1] == '/') n--;
        const char *host = strstr(endpoint, "://") + 3;
        if (n <= (size_t)(host - endpoint) || memchr(host, '/', n - (size_t)(host - endpoint)) != NULL) {
            herald_err_set(e, HERALD_ERR_INVALID, "Herald: endpoint %s: expected http://HOST:PORT with no path", endpoint);
            return -1;
        }
        memcpy(c->url, endpoint, n);
        c->base_len = n;
    } else {
        herald_err_set(e, HERALD_ERR_INVALID, "Herald: endpoint %s: must start with unix:// or http://", endpoint);
        return -1;
    }
    c->endpoint = strdup(endpoint);
    if (connect_timeout_ms < 1 || timeout_ms < 1) {
        herald_err_set(e, HERALD_ERR_INVALID, "Herald: timeouts must be at least 1 ms");
        return -1;
    }
    c->connect_timeout_ms = (long)connect_timeout_ms;
    c->timeout_ms = (long)timeout_ms;

    char auth[HERALD_TOKEN_MAX + 32];
    size_t auth_len = 0;
    if (token_len > HERALD_TOKEN_MAX) {
        herald_err_set(e, HERALD_ERR_INVALID, "Herald: the emit secret is longer than %d bytes", HERALD_TOKEN_MAX);
        return -1;
    }
    if (token_len > 0) {
        memcpy(auth, "Authorization: Bearer ", 22);
        memcpy(auth + 22, token, token_len);
        auth_len = 22 + token_len;
        auth[auth_len] = '\0';
    }
    if (path != NULL) {
        /* the direct transport writes these header lines as they are */
        static const char fixed[] = "Host: localhost\r\nUser-Agent: herald-php/" PHP_HERALD_VERSION "\r\n";
        c->head_fixed_len = sizeof fixed - 1 + (auth_len ? auth_len + 2 : 0);
        c->head_fixed = malloc(c->head_fixed_len + 1);
        if (c->head_fixed != NULL) {
            memcpy(c->head_fixed, fixed, sizeof fixed - 1);
            if (auth_len) {
                memcpy(c->head_fixed + sizeof fixed - 1, auth, auth_len);
                memcpy(c->head_fixed + sizeof fixed - 1 + auth_len, "\r\n", 2);
            }
            c->head_fixed[c->head_fixed_len] = '\0';
        }
    } else {
        struct curl_slist *h[2] = {NULL, NULL};
        const char *ctype[2] = {"Content-Type: " HERALD_CTYPE_SINGLE, "Content-Type: " HERALD_CTYPE_BATCH};
        for (int i = 0; i < 2; i++) {
            h[i] = curl_slist_append(h[i], ctype[i]);
            if (h[i] != NULL) h[i] = curl_slist_append(h[i], "Expect:");
            if (h[i] != NULL && token_len > 0) h[i] = curl_slist_append(h[i], auth);
        }
        c->hdr_single = h[0];
        c->hdr_batch = h[1];
    }
    ZEND_SECURE_ZERO(auth, sizeof auth);
    if (c->endpoint == NULL || (path != NULL && (c->unix_path == NULL || c->head_fixed == NULL)) ||
        (path == NULL && (c->hdr_single == NULL || c->hdr_batch == NULL))) {
        herald_err_set(e, HERALD_ERR_OTHER, "Herald: out of memory");
        return -1;
    }
    return 0;
}

/* Created on first use, never in MINIT: php-fpm forks its workers after
 * MINIT and each must have its own socket. Options that never change are
 * set here once. */
static int herald_conn_open(herald_conn_t *c, herald_err_t *e) {
    CURL *h = curl_easy_init();
    if (h == NULL) {
        herald_err_set(e, HERALD_ERR_OTHER, "Herald: curl_easy_init failed");
        return -1;
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");      /* never via http_proxy */
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "herald-php/" PHP_HERALD_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, herald_conn_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L);
    c->curl = h;
    return 0;
}

/* The connection broke before heraldd could have read the request: it was
 * a kept-alive connection that heraldd closed (restart, idle close). Only
 * then is a second try safe: nothing of an answer arrived and the failure
 * is one of a dead socket, never a timeout. */
static int herald_conn_stale(CURL *h, CURLcode rc) {
    long nconn = -1, hdr = -1;
    if (rc != CURLE_SEND_ERROR && rc != CURLE_RECV_ERROR && rc != CURLE_GOT_NOTHING) return 0;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn);
    curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &hdr);
    return nconn == 0 && hdr == 0;
}

static void herald_err_timeout(herald_err_t *e, const herald_conn_t *c, const char *detail) {
    herald_err_set(e, HERALD_ERR_CONNECTION,
                   "Herald: heraldd at %s did not answer in time (%s); check that heraldd runs and is not overloaded, or raise herald.timeout_ms / herald.connect_timeout_ms",
                   c->endpoint, detail);
}

/* http:// endpoints: one POST through libcurl. The key header is one node
 * on the stack in front of the prepared list (libcurl only reads the list
 * during the transfer), so nothing is allocated per emit. */
static int herald_curl_post(herald_conn_t *c, const char *body, size_t len, int batch,
                            const char *key, size_t key_len, long *status, herald_err_t *e) {
    char key_hdr[32 + HERALD_KEY_MAX];
    memcpy(key_hdr, "Idempotency-Key: ", 17);
    memcpy(key_hdr + 17, key, key_len);
    key_hdr[17 + key_len] = '\0';
    struct curl_slist key_node = {key_hdr, batch ? c->hdr_batch : c->hdr_single};
    for (int attempt = 0;; attempt++) {
        if (c->curl == NULL && herald_conn_open(c, e) != 0) return -1;
        CURL *h = c->curl;
        curl_easy_setopt(h, CURLOPT_URL, c->url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, &key_node);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        c->resp_len = 0;
        if (c->resp != NULL) c->resp[0] = '\0';
        c->errbuf[0] = '\0';
        CURLcode rc = curl_easy_perform(h);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL); /* the node lives on this stack */
        if (rc == CURLE_OK) break;
        int stale = attempt == 0 && herald_conn_stale(h, rc);
        herald_conn_close(c);
        if (stale) continue; /* same key: once heraldd honours it, never twice */
        const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
        if (rc == CURLE_OPERATION_TIMEDOUT) herald_err_timeout(e, c, detail);
        else
            herald_err_set(e, HERALD_ERR_CONNECTION,
                           "Herald: cannot reach heraldd at %s (%s); check that heraldd runs, that herald.endpoint matches its emit_listen, and that this PHP user may open that address",
                           c->endpoint, detail);
        return -1;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

/* ---- the direct transport (unix: endpoints) ----------------------------- */

static uint64_t herald_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int herald_sock_timeout(int fd, int opt, long ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

/* A blocking socket whose SO_SNDTIMEO bounds connect (AF_UNIX honours it
 * when heraldd's listen queue is full), then both timeouts bound each
 * send and recv; herald_unix_post keeps the whole request under
 * timeout_ms. */
static int herald_unix_connect(herald_conn_t *c, herald_err_t *e) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        herald_err_set(e, HERALD_ERR_CONNECTION, "Herald: cannot create a socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, c->unix_path, strlen(c->unix_path) + 1);
    herald_sock_timeout(fd, SO_SNDTIMEO, c->connect_timeout_ms);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int err = errno;
        close(fd);
        if (err == EAGAIN || err == EINPROGRESS || err == EINTR) {
            char why[64];
            snprintf(why, sizeof why, "no connection within %ld ms", c->connect_timeout_ms);
            herald_err_timeout(e, c, why);
        } else {
            herald_err_unix(e, c->endpoint, c->unix_path, err);
        }
        return -1;
    }
    herald_sock_timeout(fd, SO_SNDTIMEO, c->timeout_ms);
    herald_sock_timeout(fd, SO_RCVTIMEO, c->timeout_ms);
    c->fd = fd;
    c->fd_open = 1;
    c->fd_timeo_ms = c->timeout_ms;
    return 0;
}

/* Before a second blocking call of one request: its timeout is what is left
 * of timeout_ms, so the request as a whole never waits longer. 0, or -1
 * when the time is up. */
static int herald_unix_budget(herald_conn_t *c, uint64_t deadline) {
    uint64_t now = herald_now_ms();
    if (now >= deadline) return -1;
    long left = (long)(deadline - now);
    if (left != c->fd_timeo_ms) {
        herald_sock_timeout(c->fd, SO_SNDTIMEO, left);
        herald_sock_timeout(c->fd, SO_RCVTIMEO, left);
        c->fd_timeo_ms = left;
    }
    return 0;
}

/* The answer's head is complete in c->resp[0..head_len): status and the
 * two headers that matter. -1 if it is not HTTP/1.1 as heraldd writes it. */
static int herald_unix_head(const char *p, size_t head_len, long *status, size_t *body_len, int *close_after) {
    if (head_len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') return -1;
    if (p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9') return -1;
    *status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    *close_after = p[7] == '0';
    int have_len = 0;
    const char *end = p + head_len, *l = memchr(p, '\n', head_len);
    while (l != NULL && l + 1 < end) {
        l++;
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        size_t n = nl ? (size_t)(nl - l) : (size_t)(end - l);
        if (n > 15 && strncasecmp(l, "content-length:", 15) == 0) {
            const char *d = l + 15;
            size_t v = 0;
            while (*d == ' ' || *d == '\t') d++;
            if (*d < '0' || *d > '9') return -1;
            for (; *d >= '0' && *d <= '9'; d++) {
                if (v > HERALD_RESP_MAX) return -1;
                v = v * 10 + (size_t)(*d - '0');
            }
            *body_len = v;
            have_len = 1;
        } else if (n > 11 && strncasecmp(l, "connection:", 11) == 0) {
            for (const char *q = l + 11; q + 5 <= l + n; q++)
                if (strncasecmp(q, "close", 5) == 0) *close_after = 1;
        } else if (n > 18 && strncasecmp(l, "transfer-encoding:", 18) == 0) {
            return -1; /* heraldd always sends Content-Length */
        }
        l = nl;
    }
    if (!have_len) {
        if (*status != 204 && *status != 304) return -1;
        *body_len = 0;
    }
    return 0;
}

/* unix: endpoints: one POST written with one sendmsg (head and body, no
 * copy) and its answer read with, as a rule, one recv, on a blocking socket
 * kept open between requests. libcurl needs five system calls per emit on
 * a kept-alive connection (three polls besides send and recv) and ~15 us of
 * its own CPU; this is two calls. Same retry rule as libcurl's path. */
static int herald_unix_post(herald_conn_t *c, const char *path, size_t path_len, const char *body, size_t len,
                            int batch, const char *key, size_t key_len, long *status, herald_err_t *e) {
    char head[64 + HERALD_URL_MAX + 160 + HERALD_KEY_MAX];
    size_t h = 0;
    const char *ctype = batch ? "Content-Type: " HERALD_CTYPE_BATCH "\r\n" : "Content-Type: " HERALD_CTYPE_SINGLE "\r\n";
    memcpy(head, "POST ", 5); h = 5;
    memcpy(head + h, path, path_len); h += path_len;
    memcpy(head + h, " HTTP/1.1\r\n", 11); h += 11;
    memcpy(head + h, ctype, strlen(ctype)); h += strlen(ctype);
    h += (size_t)snprintf(head + h, sizeof head - h, "Content-Length: %zu\r\nIdempotency-Key: ", len);
    memcpy(head + h, key, key_len); h += key_len;
    memcpy(head + h, "\r\n", 2); h += 2;
    for (int attempt = 0;; attempt++) {
        int reused = c->fd_open;
        if (!c->fd_open && herald_unix_connect(c, e) != 0) return -1;
        uint64_t deadline = herald_now_ms() + (uint64_t)c->timeout_ms;
        if (c->fd_timeo_ms != c->timeout_ms) herald_unix_budget(c, deadline);
        struct iovec iov[4] = {{head, h}, {c->head_fixed, c->head_fixed_len}, {(void *)"\r\n", 2},
                               {(void *)body, len}};
        struct msghdr mh;
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = iov;
        mh.msg_iovlen = 4;
        size_t left = h + c->head_fixed_len + 2 + len;
        int err = 0, stale = 0, timed_out = 0;
        while (left > 0) {
            ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR && herald_unix_budget(c, deadline) == 0) continue;
                err = errno;
                break;
            }
            left -= (size_t)n;
            while (n > 0 && mh.msg_iovlen > 0) {
                size_t take = (size_t)n < mh.msg_iov->iov_len ? (size_t)n : mh.msg_iov->iov_len;
                mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + take;
                mh.msg_iov->iov_len -= take;
                n -= (ssize_t)take;
                if (mh.msg_iov->iov_len == 0) { mh.msg_iov++; mh.msg_iovlen--; }
            }
            if (left > 0 && herald_unix_budget(c, deadline) != 0) { err = EAGAIN; break; }
        }
        if (err != 0) {
            timed_out = err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
            /* heraldd closed the connection: it may have answered first (a
             * 413 before the whole body), or closed a kept-alive connection
             * it was not reading (stale): the read below tells which */
            if (err == EPIPE || err == ECONNRESET) err = 0;
        }
        size_t head_len = 0, body_len = 0;
        int close_after = 0;
        c->resp_len = 0;
        while (err == 0) {
            if (herald_resp_reserve(c, 4096) != 0) { err = ENOMEM; break; }
            /* Wait in poll(), not in recv(): heraldd's read of the request
             * frees its bytes, charged to this socket, and the kernel then
             * wakes whoever sleeps on it for write space. A recv() sleeper
             * wakes for nothing (heraldd pays the wake-up, we two context
             * switches); a poll(POLLIN) sleeper is skipped. */
            struct pollfd pfd = {c->fd, POLLIN, 0};
            int ready = poll(&pfd, 1, (int)c->fd_timeo_ms);
            if (ready == 0) { err = EAGAIN; timed_out = 1; break; }
            if (ready < 0) {
                if (errno == EINTR && herald_unix_budget(c, deadline) == 0) continue;
                err = errno;
                timed_out = errno == EINTR;
                break;
            }
            ssize_t n = recv(c->fd, c->resp + c->resp_len, c->resp_cap - c->resp_len - 1, 0);
            if (n < 0) {
                if (errno == EINTR && herald_unix_budget(c, deadline) == 0) continue;
                err = errno;
                stale = reused && c->resp_len == 0 && errno == ECONNRESET;
                timed_out = errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
                break;
            }
            if (n == 0) {
                err = ECONNRESET;
                stale = reused && c->resp_len == 0;
                break;
            }
            c->resp_len += (size_t)n;
            c->resp[c->resp_len] = '\0';
            if (head_len == 0) {
                const char *end = c->resp_len >= 4 ? memmem(c->resp, c->resp_len, "\r\n\r\n", 4) : NULL;
                if (end != NULL) {
                    head_len = (size_t)(end - c->resp) + 4;
                    if (herald_unix_head(c->resp, head_len, status, &body_len, &close_after) != 0) {
                        herald_conn_close(c);
                        herald_err_set(e, HERALD_ERR_OTHER, "Herald: unexpected answer from heraldd at %s (not an HTTP/1.1 answer with Content-Length); is that endpoint heraldd's emit listener?", c->endpoint);
                        return -1;
                    }
                } else if (c->resp_len > 65536) {
                    err = EPROTO;
                    break;
                }
            }
            if (head_len != 0 && c->resp_len >= head_len + body_len) break;
            if (herald_unix_budget(c, deadline) != 0) { err = EAGAIN; timed_out = 1; break; }
        }
        if (err == 0) {
            memmove(c->resp, c->resp + head_len, body_len);
            c->resp_len = body_len;
            c->resp[body_len] = '\0';
            if (close_after) herald_conn_close(c);
            return 0;
        }
        herald_conn_close(c);
        if (stale && attempt == 0) continue; /* same key: once heraldd honours it, never twice */
        if (timed_out) {
            char why[64];
            snprintf(why, sizeof why, "no answer within %ld ms", c->timeout_ms);
            herald_err_timeout(e, c, why);
        } else {
            herald_err_set(e, HERALD_ERR_CONNECTION,
                           "Herald: lost the connection to heraldd at %s (%s); check that heraldd runs (it may have restarted or stopped)",
                           c->endpoint, err == ECONNRESET ? "closed before a full answer" : strerror(err));
        }
        return -1;
    }
}

/* One POST to heraldd, with an Idempotency-Key. 0 on a 2xx answer (body in
 * c->resp), else -1 with the error described. A transport error drops the
 * connection so the next call connects afresh. */
static int herald_conn_post(herald_conn_t *c, const char *path, size_t path_len, const char *body, size_t len,
                            int batch, const char *key, size_t key_len, herald_err_t *e) {
    if (c->endpoint == NULL) {
        herald_err_set(e, HERALD_ERR_OTHER, "Herald: the client has no endpoint (was the constructor called?)");
        return -1;
    }
    if (c->base_len + path_len + 1 > sizeof c->url || key_len > HERALD_KEY_MAX) {
        herald_err_set(e, HERALD_ERR_INVALID, "Herald: URL too long");
        return -1;
    }
    long status = 0;
    int rc;
    if (c->unix_path != NULL) {
        rc = herald_unix_post(c, path, path_len, body, len, batch, key, key_len, &status, e);
    } else {
        memcpy(c->url + c->base_len, path, path_len);
        c->url[c->base_len + path_len] = '\0';
        rc = herald_curl_post(c, body, len, batch, key, key_len, &status, e);
    }
    if (rc != 0) return -1;
    if (status >= 200 && status < 300) return 0;
    /* heraldd answers a 4xx with one plain-text line: surface it as is */
    size_t n = 0;
    while (n < c->resp_len && n + 1 < sizeof e->reason && c->resp[n] != '\n' && c->resp[n] != '\r') n++;
    if (e->kind == HERALD_ERR_NONE) {
        memcpy(e->reason, c->resp ? c->resp : "", n);
        e->reason[n] = '\0';
        e->status = status;
    }
    herald_err_set(e, HERALD_ERR_REJECTED, "Herald: heraldd refused the emit (%ld): %s", status,
                   n ? e->reason : "(no reason given)");
    return -1;
}

/* Find `"key":` in heraldd's small JSON answer and return where its value
 * starts; the answer's shape is fixed by README "Emit API". */
static const char *herald_json_value(const char *s, size_t len, const char *key) {
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 3 <= len; i++)
        if (s[i] == '"' && memcmp(s + i + 1, key, kl) == 0 && s[i + 1 + kl] == '"' && s[i + 2 + kl] == ':')
            return s + i + kl + 3;
    return NULL;
}

static int herald_parse_long(const char **p, const char *end, zend_long *out) {
    const char *q = *p;
    zend_ulong v = 0;
    if (q >= end || *q < '0' || *q > '9') return -1;
    while (q < end && *q >= '0' && *q <= '9') {
        if (v > (ZEND_LONG_MAX - 9) / 10) return -1;
        v = v * 10 + (zend_ulong)(*q++ - '0');
    }
    *p = q;
    *out = (zend_long)v;
    return 0;
}

/* ---- secrets ----------------------------------------------------------- */

/* The first line that is not blank, read with heraldd's own reader and
 * line rule (common/secretfile.c): a FIFO, a device, a directory or a file
 * other users can read is refused as heraldd refuses it. `ini` names the
 * setting for the message. Read once per process. */
static int herald_file_first_line(const char *ini, const char *path, char *out, size_t size, size_t *len,
                                  herald_err_t *e) {
    char why[512];
    char *text = malloc(HERALD_SECRET_FILE_MAX);
    size_t tlen = 0, pos = 0, n = 0;
    const char *line;
    int lineno = 0;
    if (text == NULL) {
        herald_err_set(e, HERALD_ERR_OTHER, "Herald: out of memory");
        return -1;
    }
    if (herald_secret_file_read(path, text, HERALD_SECRET_FILE_MAX, &tlen, why, sizeof why) != 0) {
        free(text);
        herald_err_set(e, HERALD_ERR_OTHER, "Herald: %s: %s", ini, why);
        return -1;
    }
    int rc = -1;
    if (!herald_secret_line_next(text, tlen, &pos, &line, &n, &lineno))
        herald_err_set(e, HERALD_ERR_OTHER, "Herald: %s: %s holds no secret (the first non-blank line is the secret)", ini, path);
    else if (n >= size)
        herald_err_set(e, HERALD_ERR_OTHER, "Herald: %s: line %d of %s is longer than %zu bytes", ini, lineno, path, size - 1);
    else {
        memcpy(out, line, n);
        *len = n;
        rc = 0;
    }
    ZEND_SECURE_ZERO(text, tlen);
    free(text);
    return rc;
}

/* herald.secret wins over herald.secret_file; the file is parsed once per
 * process and path (php-fpm workers live long; the file rarely changes). */
static const herald_secret_t *herald_signing_secret(herald_err_t *e) {
    const char *s = HERALD_G(secret);
    if (s != NULL && *s) {
        if (herald_secret_parse(&HERALD_G(secret_buf), s, strlen(s)) != 0) {
            herald_err_set(e, HERALD_ERR_OTHER, "Herald: herald.secret is not a valid secret line (%s)", herald_signed_strerror(HERALD_SIGNED_ESECRET));
            return NULL;
        }
        return &HERALD_G(secret_buf);
    }
    const char *path = HERALD_G(secret_file);
    if (path == NULL || !*path) {
        herald_err_set(e, HERALD_ERR_OTHER, "Herald: no secret to sign channel names: set herald.secret_file to heraldd's secret_file (or herald.secret)");
        return NULL;
    }
    herald_secret_cache_t *cache = &HERALD_G(signing_file);
    if (cache->path != NULL && strcmp(cache->path, path) == 0) return &cache->secret;
    char line[HERALD_SECRET_MAX + HERALD_KID_MAX + 2];
    size_t n = 0;
    if (herald_file_first_line("herald.secret_file", path, line, sizeof line, &n, e) != 0) return NULL;
    int rc = herald_secret_parse(&cache->secret, line, n);
    memset(line, 0, sizeof line);
    free(cache->path);
    cache->path = NULL;
    if (rc != 0) {
        herald_err_set(e, HERALD_ERR_OTHER, "Herald: herald.secret_file: the first line of %s is not a valid secret (%s)", path, herald_signed_strerror(rc));
        return NULL;
    }
    cache->path = strdup(path);
    return &cache->secret;
}

/* The Bearer token for heraldd's emit endpoint, if any. */
static int herald_emit_token(const char **tok, size_t *len, herald_err_t *e) {
    const char *s = HERALD_G(emit_secret);
    *tok = NULL;
    *len = 0;
    if (s != NULL && *s) {
        *tok = s;
        *len = strlen(s);
        return 0;
    }
    const char *path = HERALD_G(emit_secret_file);
    if (path == NULL || !*path) return 0;
    herald_secret_cache_t *cache = &HERALD_G(emit_file);
    if (cache->path == NULL || strcmp(cache->path, path) != 0) {
        char line[HERALD_TOKEN_MAX + 1];
        size_t n = 0;
        if (herald_file_first_line("herald.emit_secret_file", path, line, sizeof line, &n, e) != 0) return -1;
        if (cache->token) {
            memset(cache->token, 0, cache->token_len);
            free(cache->token);
        }
        free(cache->path);
        cache->token = malloc(n + 1);
        cache->path = strdup(path);
        if (cache->token == NULL || cache->path == NULL) {
            herald_err_set(e, HERALD_ERR_OTHER, "Herald: out of memory");
            return -1;
        }
        memcpy(cache->token, line, n);
        cache->token[n] = '\0';
        cache->token_len = n;
        memset(line, 0, sizeof line);
    }
    *tok = cache->token;
    *len = cache->token_len;
    return 0;
}

/* The per-process connection, reconfigured only when an INI value it
 * depends on changed (ini_set, or the per-request restore). */
static herald_conn_t *herald_default_conn(herald_err_t *e) {
    herald_conn_t *c = HERALD_G(conn);
    if (c != NULL && HERALD_G(conn_gen) == HERALD_G(config_gen)) return c;
    if (c == NULL) {
        c = calloc(1, sizeof *c);
        if (c == NULL) {
            herald_err_set(e, HERALD_ERR_OTHER, "Herald: out of memory");
            return NULL;
        }
        HERALD_G(conn) = c;
    }
    const char *tok;
    size_t tlen;
    if (herald_emit_token(&tok, &tlen, e) != 0) return NULL;
    if (herald_conn_configure(c, HERALD_G(endpoint) ? HERALD_G(endpoint) : "", tok, tlen,
                              HERALD_G(connect_timeout_ms), HERALD_G(timeout_ms), e) != 0) {
        herald_conn_clear(c);
        return NULL;
    }
    HERALD_G(conn_gen) = HERALD_G(config_gen);
    return c;
}

/* ---- messages and batches --------------------------------------------- */

/* Strings go as they are; arrays and JsonSerializable objects as JSON; the
 * rest is refused so an int or a stray object never goes out by accident.
 * On success *out holds a reference the caller releases. */
static int herald_message_bytes(zval *message, zend_string **out, herald_err_t *e) {
    ZVAL_DEREF(message);
    if (Z_TYPE_P(message) == IS_STRING) {
        *out = zend_string_copy(Z_STR_P(message));
        return 0;
    }
    if (Z_TYPE_P(message) == IS_ARRAY ||
        (Z_TYPE_P(message) == IS_OBJECT && instanceof_function(Z_OBJCE_P(message), php_json_serializable_ce))) {
        smart_str buf = {0};
        zend_result rc = php_json_encode(&buf, message, HERALD_JSON_FLAGS);
        if (EG(exception)) { /* thrown by jsonSerialize(): let it through */
            smart_str_free(&buf);
            return -1;
        }
        /* NAN/INF only set the error code (the output holds a 0) */
        if (rc == FAILURE || buf.s == NULL || JSON_G(error_code) != PHP_JSON_ERROR_NONE) {
            smart_str_free(&buf);
            herald_err_set(e, HERALD_ERR_INVALID, "Herald: the message cannot be encoded as JSON (invalid UTF-8, recursion, NAN/INF or too deep)");
            return -1;
        }
        *out = smart_str_extract(&buf);
        return 0;
    }
    herald_err_set(e, HERALD_ERR_INVALID, "Herald: a message must be a string, an array or a JsonSerializable object, %s given",
                   zend_zval_type_name(message));
    return -1;
}

/* ---- idempotency keys --------------------------------------------------- */

/* Bumped in a forked child (pthread_atfork), so a child never continues its
 * parent's key sequence: two processes sending the same key would make
 * heraldd answer one's emit with the other's id. */
static volatile unsigned herald_fork_epoch = 1;
static void herald_atfork_child(void) { herald_fork_epoch++; }

static const char herald_b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The key the extension sends when the caller gives none: 16 characters of
 * a random 96-bit prefix drawn once per process, then a 36-bit counter in 6
 * (22 base64url characters). Unique like 22 random characters, without a
 * getrandom() system call per emit. */
static int herald_key_auto(char out[HERALD_KEY_AUTO_LEN]) {
    if (HERALD_G(key_epoch) != herald_fork_epoch || HERALD_G(key_counter) >> 36) {
        unsigned char r[12];
        if (php_random_bytes_silent(r, sizeof r) != SUCCESS) return -1;
        for (int i = 0; i < 4; i++) {
            uint32_t v = (uint32_t)r[3 * i] << 16 | (uint32_t)r[3 * i + 1] << 8 | r[3 * i + 2];
            for (int j = 0; j < 4; j++) HERALD_G(key_prefix)[4 * i + j] = herald_b64url[(v >> (18 - 6 * j)) & 63];
        }
        HERALD_G(key_counter) = 0;
        HERALD_G(key_epoch) = herald_fork_epoch;
    }
    uint64_t n = HERALD_G(key_counter)++;
    memcpy(out, HERALD_G(key_prefix), 16);
    for (int i = 0; i < 6; i++) out[16 + i] = herald_b64url[(n >> (30 - 6 * i)) & 63];
    return 0;
}

/* heraldd's rule for Idempotency-Key: 1-64 bytes of printable ASCII, no
 * space (it is an HTTP header value and a batch header field). */
static int herald_key_check(const zend_string *key, const char *where, herald_err_t *e) {
    size_t n = ZSTR_LEN(key);
    if (n == 0 || n > HERALD_KEY_MAX) {
        herald_err_set(e, HERALD_ERR_INVALID, "Herald: %sthe idempotency key is %zu bytes: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)", where, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)ZSTR_VAL(key)[i];
        if (b < 0x21 || b > 0x7e) {
            herald_err_set(e, HERALD_ERR_INVALID, "Herald: %sthe idempotency key has byte 0x%02x at offset %zu: use 1-64 bytes of printable ASCII without spaces (e.g. your job or event id)", where, b, i);
            return -1;
        }
    }
    return 0;
}

static int herald_key_fail(herald_err_t *e) {
    herald_err_set(e, HERALD_ERR_OTHER, "Herald: no random bytes for an idempotency key (getrandom failed)");
    return -1;
}

/* Append one record "<channel> SP <len> [SP <key>] LF <bytes> LF" (README
 * "Emit API"); the key field only when the caller gave one. */
static void herald_batch_append(smart_str *b, const char *ch, size_t chlen, const zend_string *msg,
                                const zend_string *key) {
    smart_str_appendl(b, ch, chlen);
    smart_str_appendc(b, ' ');
    smart_str_append_unsigned(b, ZSTR_LEN(msg));
    if (key != NULL) {
        smart_str_appendc(b, ' ');
        smart_str_append(b, key);
    }
    smart_str_appendc(b, '\n');
    smart_str_append(b, msg);
    smart_str_appendc(b, '\n');
}

/* Channel and message are checked and encoded before any connection is
 * made, so bad input fails the same way whether heraldd is up or not. */
static int herald_emit_one(herald_conn_t *(*get)(void *, herald_err_t *), void *ud, zend_string *channel,
                           zval *message, zend_string *key, zend_long *id, herald_err_t *e) {
    if (herald_channel_check(ZSTR_VAL(channel), ZSTR_LEN(channel)) != 0) {
        herald_err_channel(e, channel);
        return -1;
    }
    char auto_key[HERALD_KEY_AUTO_LEN];
    if (key != NULL && herald_key_check(key, "", e) != 0) return -1;
    if (key == NULL && herald_key_auto(auto_key) != 0) return herald_key_fail(e);
    zend_string *bytes;
    if (herald_message_bytes(message, &bytes, e) != 0) return -1;
    herald_conn_t *c = get(ud, e);
    if (c == NULL) {
        zend_string_release(bytes);
        return -1;
    }
    char path[6 + HERALD_CHANNEL_MAX];
    memcpy(path, "/emit/", 6);
    memcpy(path + 6, ZSTR_VAL(channel), ZSTR_LEN(channel));
    int rc = herald_conn_post(c, path, 6 + ZSTR_LEN(channel), ZSTR_VAL(bytes), ZSTR_LEN(bytes), 0,
                              key ? ZSTR_VAL(key) : auto_key, key ? ZSTR_LEN(key) : sizeof auto_key, e);
    zend_string_release(bytes);
    if (rc != 0) return -1;
    const char *end = c->resp + c->resp_len;
    const char *v = herald_json_value(c->resp, c->resp_len, "id");
    if (v == NULL || herald_parse_long(&v, end, id) != 0) {
        herald_err_set(e, HERALD_ERR_OTHER, "Herald: unexpected answer from heraldd at %s (no id); is that endpoint heraldd's emit listener?", c->endpoint);
        return -1;
    }
    return 0;
}

/* Turn one element of emit_many()'s iterable into a record. */
typedef struct herald_many {
    smart_str body;
    size_t count;
    herald_err_t *e;
    int failed;
} herald_many_t;

static int herald_many_add(herald_many_t *m, zval *key, zval *val) {
    zval *ch, *msg, *ikey = NULL;
    ZVAL_DEREF(val);
    uint32_t n = Z_TYPE_P(val) == IS_ARRAY ? zend_hash_num_elements(Z_ARRVAL_P(val)) : 0;
    if (key != NULL && Z_TYPE_P(key) == IS_STRING) {
        ch = key;
        msg = val;
    } else if ((n == 2 || n == 3) && (ch = zend_hash_index_find(Z_ARRVAL_P(val), 0)) != NULL &&
               (msg = zend_hash_index_find(Z_ARRVAL_P(val), 1)) != NULL &&
               (n == 2 || (ikey = zend_hash_index_find(Z_ARRVAL_P(val), 2)) != NULL)) {
        ZVAL_DEREF(ch);
        if (ikey != NULL) {
            ZVAL_DEREF(ikey);
            if (Z_TYPE_P(ikey) == IS_NULL) ikey = NULL;
            else if (Z_TYPE_P(ikey) != IS_STRING) {
                herald_err_set(m->e, HERALD_ERR_INVALID, "Herald: element %zu: the idempotency key must be a string or null, %s given", m->count, zend_zval_type_name(ikey));
                return -1;
            }
        }
    } else {
        herald_err_set(m->e, HERALD_ERR_INVALID, "Herald: element %zu of the messages must be channel => message, [channel, message] or [channel, message, idempotencyKey]", m->count);
        return -1;
    }
    if (ikey != NULL) {
        char where[48];
        snprintf(where, sizeof where, "element %zu: ", m->count);
        if (herald_key_check(Z_STR_P(ikey), where, m->e) != 0) return -1;
    }
    if (Z_TYPE_P(ch) != IS_STRING) {
        herald_err_set(m->e, HERALD_ERR_INVALID, "Herald: element %zu: the channel must be a string, %s given", m->count, zend_zval_type_name(ch));
        return -1;
    }
    if (herald_channel_check(Z_STRVAL_P(ch), Z_STRLEN_P(ch)) != 0) {
        herald_err_set(m->e, HERALD_ERR_INVALID, "Herald: element %zu: invalid channel name (1-200 bytes of A-Z a-z 0-9 _ - . : @)", m->count);
        return -1;
    }
    zend_string *bytes;
    if (herald_message_bytes(msg, &bytes, m->e) != 0) return -1;
    herald_batch_append(&m->body, Z_STRVAL_P(ch), Z_STRLEN_P(ch), bytes, ikey ? Z_STR_P(ikey) : NULL);
    zend_string_release(bytes);
    m->count++;
    return 0;
}

static int herald_many_apply(zend_object_iterator *it, void *ud) {
    herald_many_t *m = ud;
    zval *val = it->funcs->get_current_data(it), key;
    if (val == NULL || EG(exception)) return ZEND_HASH_APPLY_STOP;
    ZVAL_NULL(&key);
    if (it->funcs->get_current_key) it->funcs->get_current_key(it, &key);
    if (EG(exception)) return ZEND_HASH_APPLY_STOP;
    int rc = herald_many_add(m, &key, val);
    zval_ptr_dtor(&key);
    if (rc != 0) {
        m->failed = 1;
        return ZEND_HASH_APPLY_STOP;
    }
    return ZEND_HASH_APPLY_KEEP;
}

/* All records are checked locally before any I/O; heraldd then publishes
 * all or none. Fills return_value with the ids in order. */
static int herald_emit_many(herald_conn_t *(*get)(void *, herald_err_t *), void *ud, zval *messages,
                            zval *return_value, herald_err_t *e) {
    herald_many_t m = {.e = e};
    if (Z_TYPE_P(messages) == IS_ARRAY) {
        zend_string *k;
        zend_ulong idx;
        zval *v;
        ZEND_HASH_FOREACH_KEY_VAL(Z_ARRVAL_P(messages), idx, k, v) {
            zval key;
            if (k) ZVAL_STR(&key, k); else ZVAL_LONG(&key, (zend_long)idx);
            if (herald_many_add(&m, &key, v) != 0) { m.failed = 1; break; }
        } ZEND_HASH_FOREACH_END();
    } else {
        spl_iterator_apply(messages, herald_many_apply, &m);
    }
    if (m.failed || EG(exception)) {
        smart_str_free(&m.body);
        return -1;
    }
    array_init_size(return_value, (uint32_t)m.count);
    if (m.count == 0) return 0;
    herald_conn_t *c = get(ud, e);
    if (c == NULL) {
        smart_str_free(&m.body);
        return -1;
    }
    smart_str_0(&m.body);
    char auto_key[HERALD_KEY_AUTO_LEN];
    if (herald_key_auto(auto_key) != 0) {
        smart_str_free(&m.body);
        return herald_key_fail(e);
    }
    int rc = herald_conn_post(c, "/emit", 5, ZSTR_VAL(m.body.s), ZSTR_LEN(m.body.s), 1, auto_key, sizeof auto_key, e);
    smart_str_free(&m.body);
    if (rc != 0) return -1;
    const char *end = c->resp + c->resp_len;
    const char *p = herald_json_value(c->resp, c->resp_len, "ids");
    if (p == NULL || p >= end || *p++ != '[') goto bad;
    for (size_t i = 0; i < m.count; i++) {
        zend_long id;
        if (i > 0 && (p >= end || *p++ != ',')) goto bad;
        if (herald_parse_long(&p, end, &id) != 0) goto bad;
        add_next_index_long(return_value, id);
    }
    if (p >= end || *p != ']') goto bad;
    return 0;
bad:
    herald_err_set(e, HERALD_ERR_OTHER, "Herald: unexpected answer from heraldd at %s to a batch of %zu", c->endpoint, m.count);
    return -1;
}

/* ---- the deferred queue ------------------------------------------------ */

static void herald_queue_free(herald_queue_t *q) {
    smart_str_free(&q->buf);
    if (q->cuts) efree(q->cuts);
    memset(q, 0, sizeof *q);
}

/* Validate and encode now, so a bad message fails in the route that made
 * it; only the sending waits. */
static int herald_queue_add(herald_queue_t *q, zend_string *channel, zval *message, zend_long max_bytes,
                            zend_long max_msgs, herald_err_t *e) {
    if (herald_channel_check(ZSTR_VAL(channel), ZSTR_LEN(channel)) != 0) {
        herald_err_channel(e, channel);
        return -1;
    }
    zend_string *bytes;
    if (herald_message_bytes(message, &bytes, e) != 0) return -1;
    size_t len = q->buf.s ? ZSTR_LEN(q->buf.s) : 0;
    size_t start = q->ncuts ? q->cuts[q->ncuts - 1] : 0;
    size_t rec = ZSTR_LEN(channel) + 24 + ZSTR_LEN(bytes);
    if (len > start && (len - start + rec > (size_t)max_bytes || q->since_cut >= (size_t)max_msgs)) {
        if (q->ncuts == q->cap_cuts) {
            q->cap_cuts = q->cap_cuts ? q->cap_cuts * 2 : 8;
            q->cuts = erealloc(q->cuts, q->cap_cuts * sizeof *q->cuts);
        }
        q->cuts[q->ncuts++] = len;
        q->since_cut = 0;
    }
    herald_batch_append(&q->buf, ZSTR_VAL(channel), ZSTR_LEN(channel), bytes, NULL);
    zend_string_release(bytes);
    q->count++;
    q->since_cut++;
    return 0;
}

/* Send the queue as one batch (or a few, past max_batch_bytes) and empty it
 * whatever happens: a failed batch is reported, never sent twice. Returns
 * how many were sent, or -1. */
static zend_long herald_queue_flush(herald_queue_t *q, herald_conn_t *c, herald_err_t *e, size_t *dropped) {
    zend_long sent = 0;
    *dropped = 0;
    if (q->count == 0) {
        herald_queue_free(q);
        return 0;
    }
    size_t total = ZSTR_LEN(q->buf.s), left = q->count;
    int rc = 0;
    for (size_t i = 0; i <= q->ncuts && rc == 0; i++) {
        size_t a = i ? q->cuts[i - 1] : 0, b = i < q->ncuts ? q->cuts[i] : total;
        if (c == NULL) { rc = -1; break; }
        char auto_key[HERALD_KEY_AUTO_LEN];
        if (herald_key_auto(auto_key) != 0) { rc = herald_key_fail(e); break; }
        rc = herald_conn_post(c, "/emit", 5, ZSTR_VAL(q->buf.s) + a, b - a, 1, auto_key, sizeof auto_key, e);
        if (rc == 0) {
            /* the answer lists one id per record */
            const char *p = herald_json_value(c->resp, c->resp_len, "ids");
            size_t n = 0;
            if (p != NULL && *p == '[' && p[1] != ']') {
                n = 1;
                for (const char *s = p; s < c->resp + c->resp_len && *s != ']'; s++) n += *s == ',';
            }
            sent += (zend_long)n;
            left -= n <= left ? n : left;
        }
    }
    *dropped = rc != 0 ? left : 0;
    herald_queue_free(q);
    return rc == 0 ? sent : -1;
}

static herald_conn_t *herald_get_default(void *ud, herald_err_t *e) {
    (void)ud;
    return herald_default_conn(e);
}

/* ---- Herald\ functions -------------------------------------------------- */

PHP_FUNCTION(Herald_emit) {
    zend_string *channel, *key = NULL;
    zval *message;
    ZEND_PARSE_PARAMETERS_START(2, 3)
        Z_PARAM_STR(channel)
        Z_PARAM_ZVAL(message)
        Z_PARAM_OPTIONAL
        Z_PARAM_STR_OR_NULL(key)
    ZEND_PARSE_PARAMETERS_END();
    herald_err_t e = {0};
    zend_long id;
    if (herald_emit_one(herald_get_default, NULL, channel, message, key, &id, &e) != 0) {
        if (!EG(exception)) herald_err_throw(&e);
        RETURN_THROWS();
    }
    RETURN_LONG(id);
}

PHP_FUNCTION(Herald_emit_many) {
    zval *messages;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ITERABLE(messages)
    ZEND_PARSE_PARAMETERS_END();
    herald_err_t e = {0};
    if (herald_emit_many(herald_get_default, NULL, messages, return_value, &e) != 0) {
        if (!EG(exception)) herald_err_throw(&e);
        RETURN_THROWS();
    }
}

/* Sign with a given secret; expiry = now + ttl, 0 = never expires. */
static void herald_channel_sign(const herald_secret_t *s, zend_string *name, zend_long ttl, zval *return_value) {
    herald_err_t e = {0};
    if (herald_channel_check(ZSTR_VAL(name), ZSTR_LEN(name)) != 0) {
        herald_err_channel(&e, name);
        herald_err_throw(&e);
        return;
    }
    if (ttl < 0) {
        zend_throw_exception(herald_ce_invalid, "Herald: ttl must be 0 (never expires) or a number of seconds", 0);
        return;
    }
    uint64_t expiry = ttl ? (uint64_t)time(NULL) + (uint64_t)ttl : 0;
    char out[HERALD_SIGNED_MAX];
    int n = herald_sign(s, ZSTR_VAL(name), ZSTR_LEN(name), expiry, out, sizeof out);
    if (n < 0) {
        zend_throw_exception_ex(herald_ce_exception, 0, "Herald: cannot sign: %s", herald_signed_strerror(n));
        return;
    }
    RETURN_STRINGL(out, (size_t)n);
}

PHP_FUNCTION(Herald_channel) {
    zend_string *name;
    zend_long ttl = 0;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_STR(name)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(ttl)
    ZEND_PARSE_PARAMETERS_END();
    herald_err_t e = {0};
    const herald_secret_t *s = herald_signing_secret(&e);
    if (s == NULL) {
        herald_err_throw(&e);
        RETURN_THROWS();
    }
    herald_channel_sign(s, name, ttl, return_value);
}

/* Under php-fpm, deferred messages go out after the response: RSHUTDOWN
 * runs after the shutdown functions, the destructors and the flush of the
 * output buffers, so the page is complete; it ends the FastCGI request as
 * the script's own fastcgi_finish_request() would, and only then sends.
 * Set in MINIT from the SAPI's name. */
static bool herald_is_fpm;

/* Elsewhere (CLI, other SAPIs): a shutdown function sends the queue after
 * the script, and after fastcgi_finish_request() if the script called it. */
static void herald_shutdown_register(void) {
    if (HERALD_G(shutdown_registered) || herald_is_fpm) return; /* php-fpm: RSHUTDOWN sends */
    php_shutdown_function_entry entry;
    zval callable;
    ZVAL_STRING(&callable, "Herald\\flush");
    memset(&entry, 0, sizeof entry);
    if (zend_fcall_info_init(&callable, 0, &entry.fci, &entry.fci_cache, NULL, NULL) != SUCCESS ||
        !register_user_shutdown_function("herald\\flush", sizeof("herald\\flush") - 1, &entry)) {
        zval_ptr_dtor(&callable);
        return; /* RSHUTDOWN still sends the queue */
    }
    HERALD_G(shutdown_registered) = 1;
}

PHP_FUNCTION(Herald_defer) {
    zend_string *channel;
    zval *message;
    ZEND_PARSE_PARAMETERS_START(2, 2)
        Z_PARAM_STR(channel)
        Z_PARAM_ZVAL(message)
    ZEND_PARSE_PARAMETERS_END();
    herald_err_t e = {0};
    if (herald_queue_add(&HERALD_G(deferred), channel, message, HERALD_G(max_batch_bytes),
                         HERALD_G(max_batch_messages), &e) != 0) {
        if (!EG(exception)) herald_err_throw(&e);
        RETURN_THROWS();
    }
    herald_shutdown_register();
}

/* After the response has gone, nothing may be written to it (php-fpm would
 * abort the request on output): a failure is logged only, as PHP logs a
 * warning. */
static void herald_err_log_quiet(const herald_err_t *e, size_t dropped) {
    char line[1024];
    snprintf(line, sizeof line, "PHP Warning:  Herald: %zu deferred message(s) not sent: %s", dropped, e->msg);
    php_log_err_with_severity(line, LOG_WARNING);
}

/* Explicit flush throws; the one at shutdown (our registered function, or
 * any flush during shutdown) logs instead, since nobody could catch it. */
static zend_long herald_flush_default(int at_shutdown) {
    herald_queue_t *q = &HERALD_G(deferred);
    if (q->count == 0) return 0;
    herald_err_t e = {0};
    size_t dropped = 0;
    herald_conn_t *c = herald_default_conn(&e);
    zend_long sent = herald_queue_flush(q, c, &e, &dropped);
    if (sent < 0) {
        if (c == NULL) dropped = dropped ? dropped : 1;
        if (at_shutdown == 2) herald_err_log_quiet(&e, dropped);
        else if (at_shutdown) herald_err_log(&e, dropped);
        else herald_err_throw(&e);
        return -1;
    }
    return sent;
}

PHP_FUNCTION(Herald_flush) {
    ZEND_PARSE_PARAMETERS_NONE();
    int at_shutdown = (EG(flags) & EG_FLAGS_IN_SHUTDOWN) != 0;
    zend_long sent = herald_flush_default(at_shutdown);
    if (sent < 0) {
        if (at_shutdown) RETURN_LONG(0);
        RETURN_THROWS();
    }
    RETURN_LONG(sent);
}

/* ---- Herald\RejectedException ------------------------------------------ */

PHP_METHOD(Herald_RejectedException, getStatus) {
    ZEND_PARSE_PARAMETERS_NONE();
    zval rv, *v = zend_read_property(herald_ce_rejected, Z_OBJ_P(ZEND_THIS), "status", sizeof("status") - 1, 1, &rv);
    RETURN_LONG(Z_TYPE_P(v) == IS_LONG ? Z_LVAL_P(v) : 0);
}

PHP_METHOD(Herald_RejectedException, getReason) {
    ZEND_PARSE_PARAMETERS_NONE();
    zval rv, *v = zend_read_property(herald_ce_rejected, Z_OBJ_P(ZEND_THIS), "reason", sizeof("reason") - 1, 1, &rv);
    if (Z_TYPE_P(v) == IS_STRING) RETURN_STR_COPY(Z_STR_P(v));
    RETURN_EMPTY_STRING();
}

/* ---- Herald\Client ------------------------------------------------------ */

typedef struct herald_client {
    herald_conn_t conn;
    herald_secret_t secret;
    bool has_secret;
    herald_queue_t queue;
    zend_object std;
} herald_client_t;

static inline herald_client_t *herald_client_from(zend_object *o) {
    return (herald_client_t *)((char *)o - XtOffsetOf(herald_client_t, std));
}

static zend_object *herald_client_new(zend_class_entry *ce) {
    herald_client_t *cl = zend_object_alloc(sizeof(herald_client_t), ce);
    zend_object_std_init(&cl->std, ce);
    object_properties_init(&cl->std, ce);
    cl->std.handlers = &herald_client_handlers;
    return &cl->std;
}

/* A client going away sends what it deferred; failures are logged. */
static void herald_client_dtor(zend_object *o) {
    herald_client_t *cl = herald_client_from(o);
    if (cl->queue.count > 0) {
        herald_err_t e = {0};
        size_t dropped = 0;
        if (herald_queue_flush(&cl->queue, &cl->conn, &e, &dropped) < 0) herald_err_log(&e, dropped);
    }
    zend_objects_destroy_object(o);
}

static void herald_client_free(zend_object *o) {
    herald_client_t *cl = herald_client_from(o);
    herald_queue_free(&cl->queue);
    herald_conn_clear(&cl->conn);
    ZEND_SECURE_ZERO(&cl->secret, sizeof cl->secret);
    zend_object_std_dtor(o);
}

static herald_conn_t *herald_client_conn(void *ud, herald_err_t *e) {
    herald_client_t *cl = ud;
    if (cl->conn.endpoint == NULL) {
        herald_err_set(e, HERALD_ERR_OTHER, "Herald: the client has no endpoint (was the constructor called?)");
        return NULL;
    }
    return &cl->conn;
}

#define HERALD_CLIENT() herald_client_from(Z_OBJ_P(ZEND_THIS))

PHP_METHOD(Herald_Client, __construct) {
    zend_string *endpoint, *secret = NULL, *emit_secret = NULL;
    zend_long cto = 200, to = 1000;
    ZEND_PARSE_PARAMETERS_START(1, 5)
        Z_PARAM_STR(endpoint)
        Z_PARAM_OPTIONAL
        Z_PARAM_STR_OR_NULL(secret)
        Z_PARAM_STR_OR_NULL(emit_secret)
        Z_PARAM_LONG(cto)
        Z_PARAM_LONG(to)
    ZEND_PARSE_PARAMETERS_END();
    herald_client_t *cl = HERALD_CLIENT();
    herald_err_t e = {0};
    if (secret != NULL) {
        if (herald_secret_parse(&cl->secret, ZSTR_VAL(secret), ZSTR_LEN(secret)) != 0) {
            zend_throw_exception(herald_ce_invalid, "Herald: $secret is not a valid secret line (16-512 bytes, optionally kid: in front)", 0);
            RETURN_THROWS();
        }
        cl->has_secret = 1;
    }
    if (herald_conn_configure(&cl->conn, ZSTR_VAL(endpoint), emit_secret ? ZSTR_VAL(emit_secret) : NULL,
                              emit_secret ? ZSTR_LEN(emit_secret) : 0, cto, to, &e) != 0) {
        herald_conn_clear(&cl->conn);
        herald_err_throw(&e);
        RETURN_THROWS();
    }
}

PHP_METHOD(Herald_Client, emit) {
    zend_string *channel, *key = NULL;
    zval *message;
    ZEND_PARSE_PARAMETERS_START(2, 3)
        Z_PARAM_STR(channel)
        Z_PARAM_ZVAL(message)
        Z_PARAM_OPTIONAL
        Z_PARAM_STR_OR_NULL(key)
    ZEND_PARSE_PARAMETERS_END();
    herald_err_t e = {0};
    zend_long id;
    if (herald_emit_one(herald_client_conn, HERALD_CLIENT(), channel, message, key, &id, &e) != 0) {
        if (!EG(exception)) herald_err_throw(&e);
        RETURN_THROWS();
    }
    RETURN_LONG(id);
}

PHP_METHOD(Herald_Client, emitMany) {
    zval *messages;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ITERABLE(messages)
    ZEND_PARSE_PARAMETERS_END();
    herald_err_t e = {0};
    if (herald_emit_many(herald_client_conn, HERALD_CLIENT(), messages, return_value, &e) != 0) {
        if (!EG(exception)) herald_err_throw(&e);
        RETURN_THROWS();
    }
}

PHP_METHOD(Herald_Client, channel) {
    zend_string *name;
    zend_long ttl = 0;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_STR(name)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(ttl)
    ZEND_PARSE_PARAMETERS_END();
    herald_client_t *cl = HERALD_CLIENT();
    if (!cl->has_secret) {
        zend_throw_exception(herald_ce_exception, "Herald: this client has no secret to sign channel names (pass $secret to the constructor)", 0);
        RETURN_THROWS();
    }
    herald_channel_sign(&cl->secret, name, ttl, return_value);
}

PHP_METHOD(Herald_Client, defer) {
    zend_string *channel;
    zval *message;
    ZEND_PARSE_PARAMETERS_START(2, 2)
        Z_PARAM_STR(channel)
        Z_PARAM_ZVAL(message)
    ZEND_PARSE_PARAMETERS_END();
    herald_err_t e = {0};
    if (herald_queue_add(&HERALD_CLIENT()->queue, channel, message, HERALD_G(max_batch_bytes),
                         HERALD_G(max_batch_messages), &e) != 0) {
        if (!EG(exception)) herald_err_throw(&e);
        RETURN_THROWS();
    }
}

PHP_METHOD(Herald_Client, flush) {
    ZEND_PARSE_PARAMETERS_NONE();
    herald_client_t *cl = HERALD_CLIENT();
    herald_err_t e = {0};
    size_t dropped = 0;
    herald_conn_t *c = herald_client_conn(cl, &e);
    if (c == NULL) {
        herald_err_throw(&e);
        RETURN_THROWS();
    }
    zend_long sent = herald_queue_flush(&cl->queue, c, &e, &dropped);
    if (sent < 0) {
        herald_err_throw(&e);
        RETURN_THROWS();
    }
    RETURN_LONG(sent);
}

PHP_METHOD(Herald_Client, getEndpoint) {
    ZEND_PARSE_PARAMETERS_NONE();
    herald_client_t *cl = HERALD_CLIENT();
    RETURN_STRING(cl->conn.endpoint ? cl->conn.endpoint : "");
}

/* ---- INI ---------------------------------------------------------------- */

/* Every setting the connection is built from bumps the generation, so the
 * next emit reconfigures (cheaply) instead of comparing strings each time. */
static ZEND_INI_MH(OnUpdateHeraldString) {
    if (OnUpdateString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage) == FAILURE) return FAILURE;
    HERALD_G(config_gen)++;
    return SUCCESS;
}

/* A bad value in php.ini, a pool's php_value or -d would otherwise be
 * dropped for the default without a word: say so where the admin looks (the
 * startup log). ini_set() reports the same refusal by returning false. */
static void herald_ini_refuse(zend_ini_entry *entry, zend_string *value, int stage, const char *rule,
                              const char *def) {
    if (stage == ZEND_INI_STAGE_RUNTIME) return;
    php_error_docref(NULL, E_WARNING, "%s = \"%s\" is not valid: %s; using %s%s", ZSTR_VAL(entry->name),
                     ZSTR_VAL(value), rule, entry->value ? ZSTR_VAL(entry->value) : def,
                     entry->value ? " (unchanged)" : " (the default)");
}

/* A whole decimal number in [min, max], spaces around allowed; no units. */
static int herald_ini_long(const zend_string *value, zend_long min, zend_long max) {
    const char *p = ZSTR_VAL(value), *end = p + ZSTR_LEN(value);
    zend_long v = 0;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (p == end) return 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9' || v > (ZEND_LONG_MAX - 9) / 10) return 0;
        v = v * 10 + (*p - '0');
    }
    return v >= min && v <= max;
}

/* Timeouts of 0 would mean "wait forever": a page must never hang. */
static ZEND_INI_MH(OnUpdateHeraldTimeout) {
    if (!herald_ini_long(new_value, 1, 600000)) {
        int connect = strcmp(ZSTR_VAL(entry->name), "herald.connect_timeout_ms") == 0;
        herald_ini_refuse(entry, new_value, stage,
                          "a whole number of milliseconds from 1 to 600000 (0 would let a page wait forever)",
                          connect ? "200" : "1000");
        return FAILURE;
    }
    if (OnUpdateLong(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage) == FAILURE) return FAILURE;
    HERALD_G(config_gen)++;
    return SUCCESS;
}

static ZEND_INI_MH(OnUpdateHeraldBatchBytes) {
    if (!herald_ini_long(new_value, 1024, ZEND_LONG_MAX)) {
        herald_ini_refuse(entry, new_value, stage, "a whole number of bytes, at least 1024", "1048576");
        return FAILURE;
    }
    return OnUpdateLong(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage);
}

/* heraldd refuses a batch of more than its max_batch_messages (413). */
static ZEND_INI_MH(OnUpdateHeraldBatchMessages) {
    if (!herald_ini_long(new_value, 1, ZEND_LONG_MAX)) {
        herald_ini_refuse(entry, new_value, stage, "a whole number of messages, at least 1", "10000");
        return FAILURE;
    }
    return OnUpdateLong(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage);
}

/* The endpoint's form is checked when it is set, so a typo or an https://
 * shows at startup; the emit itself names the same problem if it gets past. */
static ZEND_INI_MH(OnUpdateHeraldEndpoint) {
    const char *v = ZSTR_VAL(new_value);
    const char *why = NULL;
    if (strncmp(v, "https://", 8) == 0)
        why = "heraldd's emit listener speaks plain HTTP on a Unix socket or loopback, never TLS";
    else if (strncmp(v, "unix://", 7) == 0 ? v[7] != '/' : strncmp(v, "unix:", 5) == 0 ? v[5] != '/'
             : strncmp(v, "http://", 7) != 0 || v[7] == '\0')
        why = "use unix:///path/to/emit.sock (absolute) or http://HOST:PORT";
    else if (ZSTR_LEN(new_value) > HERALD_ENDPOINT_MAX)
        why = "longer than 1000 bytes";
    if (why != NULL) {
        herald_ini_refuse(entry, new_value, stage, why, "unix:///run/herald/emit.sock");
        return FAILURE;
    }
    return OnUpdateHeraldString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage);
}

/* phpinfo() and ini_get_all() tables never show a secret, only whether one is set. */
static ZEND_INI_DISP(herald_display_secret) {
    zend_string *v = type == ZEND_INI_DISPLAY_ORIG && ini_entry->modified ? ini_entry->orig_value : ini_entry->value;
    const char *s = v && ZSTR_LEN(v) ? "(set, hidden)" : "no value";
    if (!sapi_module.phpinfo_as_text) php_printf("<i>%s</i>", s);
    else php_printf("%s", s);
}

PHP_INI_BEGIN()
    STD_PHP_INI_ENTRY("herald.endpoint", "unix:///run/herald/emit.sock", PHP_INI_ALL, OnUpdateHeraldEndpoint, endpoint, zend_herald_globals, herald_globals)
    STD_PHP_INI_ENTRY_EX("herald.secret", "", PHP_INI_ALL, OnUpdateHeraldString, secret, zend_herald_globals, herald_globals, herald_display_secret)
    STD_PHP_INI_ENTRY("herald.secret_file", "", PHP_INI_ALL, OnUpdateHeraldString, secret_file, zend_herald_globals, herald_globals)
    STD_PHP_INI_ENTRY_EX("herald.emit_secret", "", PHP_INI_ALL, OnUpdateHeraldString, emit_secret, zend_herald_globals, herald_globals, herald_display_secret)
    STD_PHP_INI_ENTRY("herald.emit_secret_file", "", PHP_INI_ALL, OnUpdateHeraldString, emit_secret_file, zend_herald_globals, herald_globals)
    STD_PHP_INI_ENTRY("herald.connect_timeout_ms", "200", PHP_INI_ALL, OnUpdateHeraldTimeout, connect_timeout_ms, zend_herald_globals, herald_globals)
    STD_PHP_INI_ENTRY("herald.timeout_ms", "1000", PHP_INI_ALL, OnUpdateHeraldTimeout, timeout_ms, zend_herald_globals, herald_globals)
    STD_PHP_INI_ENTRY("herald.max_batch_bytes", "1048576", PHP_INI_ALL, OnUpdateHeraldBatchBytes, max_batch_bytes, zend_herald_globals, herald_globals)
    STD_PHP_INI_ENTRY("herald.max_batch_messages", "10000", PHP_INI_ALL, OnUpdateHeraldBatchMessages, max_batch_messages, zend_herald_globals, herald_globals)
    STD_PHP_INI_ENTRY("herald.pusher_apps_file", "", PHP_INI_ALL, OnUpdateString, pusher_apps_file, zend_herald_globals, herald_globals)
    STD_PHP_INI_ENTRY("herald.pusher_app_key", "", PHP_INI_ALL, OnUpdateString, pusher_app_key, zend_herald_globals, herald_globals)
PHP_INI_END()

/* ---- module lifecycle ------------------------------------------------- */

static PHP_GINIT_FUNCTION(herald) {
#if defined(COMPILE_DL_HERALD) && defined(ZTS)
    ZEND_TSRMLS_CACHE_UPDATE();
#endif
    memset(herald_globals, 0, sizeof *herald_globals);
}

static void herald_cache_clear(herald_secret_cache_t *c) {
    free(c->path);
    if (c->token) {
        ZEND_SECURE_ZERO(c->token, c->token_len);
        free(c->token);
    }
    ZEND_SECURE_ZERO(c, sizeof *c);
}

/* Per process (per thread): the curl handle and the cached secrets. Called
 * from MSHUTDOWN before curl_global_cleanup, and from GSHUTDOWN for threads. */
static void herald_globals_release(zend_herald_globals *g) {
    if (g->conn) {
        herald_conn_clear(g->conn);
        free(g->conn);
        g->conn = NULL;
    }
    herald_cache_clear(&g->signing_file);
    herald_cache_clear(&g->emit_file);
    herald_pusher_app_clear(&g->pusher_app);
    ZEND_SECURE_ZERO(&g->secret_buf, sizeof g->secret_buf);
}

static PHP_GSHUTDOWN_FUNCTION(herald) {
    herald_globals_release(herald_globals);
}

PHP_MINIT_FUNCTION(herald) {
    REGISTER_INI_ENTRIES();
    /* Once in the php-fpm master, before the fork; the handles come later. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return FAILURE;
    pthread_atfork(NULL, NULL, herald_atfork_child);
    herald_is_fpm = strcmp(sapi_module.name, "fpm-fcgi") == 0;
    herald_ce_exception = register_class_Herald_Exception(spl_ce_RuntimeException);
    herald_ce_connection = register_class_Herald_ConnectionException(herald_ce_exception);
    herald_ce_rejected = register_class_Herald_RejectedException(herald_ce_exception);
    herald_ce_invalid = register_class_Herald_InvalidArgumentException(herald_ce_exception);
    herald_ce_client = register_class_Herald_Client();
    herald_ce_client->create_object = herald_client_new;
    memcpy(&herald_client_handlers, zend_get_std_object_handlers(), sizeof herald_client_handlers);
    herald_client_handlers.offset = XtOffsetOf(herald_client_t, std);
    herald_client_handlers.dtor_obj = herald_client_dtor;
    herald_client_handlers.free_obj = herald_client_free;
    herald_client_handlers.clone_obj = NULL;
#if PHP_VERSION_ID >= 80200
    /* keep secrets out of stack traces (SensitiveParameter is PHP 8.2+) */
    zend_function *ctor = zend_hash_str_find_ptr(&herald_ce_client->function_table, "__construct", sizeof("__construct") - 1);
    if (ctor) {
        zend_add_parameter_attribute(ctor, 1, ZSTR_KNOWN(ZEND_STR_SENSITIVEPARAMETER), 0);
        zend_add_parameter_attribute(ctor, 2, ZSTR_KNOWN(ZEND_STR_SENSITIVEPARAMETER), 0);
    }
#endif
    return SUCCESS;
}

PHP_MSHUTDOWN_FUNCTION(herald) {
    UNREGISTER_INI_ENTRIES();
#ifndef ZTS
    herald_globals_release(&herald_globals);
#endif
    curl_global_cleanup();
    return SUCCESS;
}

PHP_RINIT_FUNCTION(herald) {
#if defined(COMPILE_DL_HERALD) && defined(ZTS)
    ZEND_TSRMLS_CACHE_UPDATE();
#endif
    memset(&HERALD_G(deferred), 0, sizeof(herald_queue_t));
    HERALD_G(shutdown_registered) = 0;
    return SUCCESS;
}

/* The safety net: anything deferred after our shutdown function ran (from
 * a later shutdown function or a destructor) still goes out, or is logged. */
PHP_RSHUTDOWN_FUNCTION(herald) {
    /* php-fpm registers fastcgi_finish_request() after the modules' MINIT */
    zend_function *finish = herald_is_fpm && HERALD_G(deferred).count > 0
        ? zend_hash_str_find_ptr(CG(function_table), "fastcgi_finish_request", sizeof("fastcgi_finish_request") - 1)
        : NULL;
    if (finish != NULL) {
        zval rv;
        ZVAL_UNDEF(&rv);
        zend_call_known_function(finish, NULL, NULL, &rv, 0, NULL, NULL);
        zval_ptr_dtor(&rv);
        if (EG(exception)) zend_clear_exception();
        herald_flush_default(2);
    }
    if (HERALD_G(deferred).count > 0) herald_flush_default(1);
    herald_queue_free(&HERALD_G(deferred));
    return SUCCESS;
}

/* What phpinfo() says about a secret: whether it is usable as this process
 * sees it (the file is opened with the same checks an emit would make),
 * never the secret itself. php --ri runs as the CLI user, php-fpm's
 * phpinfo() as the pool's user: the line names the user it checked as. */
static const char *herald_secret_status(char *buf, size_t size, int signing) {
    const char *direct = signing ? HERALD_G(secret) : HERALD_G(emit_secret);
    const char *path = signing ? HERALD_G(secret_file) : HERALD_G(emit_secret_file);
    const char *ini = signing ? "herald.secret" : "herald.emit_secret";
    herald_secret_t sec;
    if (direct != NULL && *direct) {
        if (signing && herald_secret_parse(&sec, direct, strlen(direct)) != 0)
            snprintf(buf, size, "NOT USABLE: herald.secret is not a valid secret line (%s)",
                     herald_signed_strerror(HERALD_SIGNED_ESECRET));
        else
            snprintf(buf, size, "set (%s)", ini);
        ZEND_SECURE_ZERO(&sec, sizeof sec);
        return buf;
    }
    if (path == NULL || !*path) {
        snprintf(buf, size, "not set");
        return buf;
    }
    char line[HERALD_TOKEN_MAX + HERALD_SECRET_MAX + HERALD_KID_MAX + 2], user[64];
    size_t n = 0;
    herald_err_t e = {0};
    if (herald_file_first_line(signing ? "herald.secret_file" : "herald.emit_secret_file", path, line,
                               sizeof line, &n, &e) != 0) {
        snprintf(buf, size, "NOT USABLE as user %s: %s", herald_user_name(user, sizeof user),
                 e.msg + sizeof("Herald: ") - 1);
        return buf;
    }
    int bad = signing && herald_secret_parse(&sec, line, n) != 0;
    ZEND_SECURE_ZERO(line, sizeof line);
    if (bad)
        snprintf(buf, size, "NOT USABLE: herald.secret_file: the first line of %s is not a valid secret (%s)", path,
                 herald_signed_strerror(HERALD_SIGNED_ESECRET));
    else if (signing)
        snprintf(buf, size, "set (herald.secret_file %s, key id %s; readable by user %s)", path, sec.kid,
                 herald_user_name(user, sizeof user));
    else
        snprintf(buf, size, "set (herald.emit_secret_file %s; readable by user %s)", path,
                 herald_user_name(user, sizeof user));
    ZEND_SECURE_ZERO(&sec, sizeof sec);
    return buf;
}

PHP_MINFO_FUNCTION(herald) {
    char sbuf[1024], ebuf[1024];
    const char *sec = herald_secret_status(sbuf, sizeof sbuf, 1);
    const char *emit = herald_secret_status(ebuf, sizeof ebuf, 0);
    php_info_print_table_start();
    php_info_print_table_header(2, "Herald support", "enabled");
    php_info_print_table_row(2, "Version", PHP_HERALD_VERSION);
    php_info_print_table_row(2, "Endpoint", HERALD_G(endpoint) ? HERALD_G(endpoint) : "");
    php_info_print_table_row(2, "Signing secret", sec);
    php_info_print_table_row(2, "Emit secret", emit);
    php_info_print_table_row(2, "libcurl", curl_version_info(CURLVERSION_NOW)->version);
    php_info_print_table_end();
    DISPLAY_INI_ENTRIES();
}

static const zend_module_dep herald_deps[] = {
    ZEND_MOD_REQUIRED("json")
    ZEND_MOD_REQUIRED("spl")
    ZEND_MOD_REQUIRED("standard")
    ZEND_MOD_END
};

zend_module_entry herald_module_entry = {
    STANDARD_MODULE_HEADER_EX, NULL,
    herald_deps,
    "herald",
    ext_functions,
    PHP_MINIT(herald),
    PHP_MSHUTDOWN(herald),
    PHP_RINIT(herald),
    PHP_RSHUTDOWN(herald),
    PHP_MINFO(herald),
    PHP_HERALD_VERSION,
    PHP_MODULE_GLOBALS(herald),
    PHP_GINIT(herald),
    PHP_GSHUTDOWN(herald),
    NULL,
    STANDARD_MODULE_PROPERTIES_EX
};

#ifdef COMPILE_DL_HERALD
#ifdef ZTS
ZEND_TSRMLS_CACHE_DEFINE()
#endif
ZEND_GET_MODULE(herald)
#endif
