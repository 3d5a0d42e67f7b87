#include "config.h"

#include "clusterwire.h"
#include "log.h"
#include "origin.h"
#include "rediswire.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { T_STR, T_U64, T_MODE, T_LEVEL, T_EMIT, T_HOSTPORT, T_WORKERS };

/* A string value's own rules, beyond its length: 0, or -1 with why. */
typedef int (*config_check_t)(const char *v, char *why, size_t why_size);

typedef struct config_key {
    const char *name;
    int type;
    size_t off, size;      /* the field in config_t and its bytes */
    const char *def;
    uint64_t min, max;     /* for T_U64 */
    config_check_t check;  /* NULL, or a string's own validation */
    int restart;           /* 1: read at start only; a reload keeps the old value */
    const char *desc;
} config_key_t;

#define OFF(f) offsetof(config_t, f)
#define F(f) OFF(f), sizeof(((config_t *)0)->f)
#define U64MAX UINT64_C(0xFFFFFFFFFFFF)

/* An empty redis key is a single node; anything else must parse. */
static int config_redis_check(const char *v, char *why, size_t why_size) {
    rediswire_addr_t a;
    return v[0] ? rediswire_url_parse(v, strlen(v), &a, why, why_size) : 0;
}

static int config_redis_cluster_check(const char *v, char *why, size_t why_size) {
    clusterwire_seeds_t s;
    return v[0] ? clusterwire_seeds_parse(v, strlen(v), &s, why, why_size) : 0;
}

/* emit_allowed_hosts: names or addresses, as a Host header would carry them
 * (without the port): letters, digits, '-', '.', and ':' inside brackets
 * or a bare IPv6 address. */
static int config_hosts_check(const char *v, char *why, size_t ws) {
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(isalnum(c) || c == '-' || c == '.' || c == ':' || c == '[' || c == ']' ||
              c == ',' || c == ' ')) {
            snprintf(why, ws, "'%c' is not part of a host name or address (comma-separated, no ports)", c);
            return -1;
        }
    }
    return 0;
}

/* trusted_proxies name the client in one header: the one the proxy sets. */
static int config_proxy_header_check(const char *v, char *why, size_t ws) {
    if (strcasecmp(v, "x-forwarded-for") == 0 || strcasecmp(v, "forwarded") == 0) return 0;
    snprintf(why, ws, "'%s' is neither X-Forwarded-For nor Forwarded", v);
    return -1;
}

/* The one list of keys: defaults, bounds and --help text live together so
 * the documentation cannot drift from what is parsed. */
static const config_key_t config_keys[] = {
    {"listen", T_HOSTPORT, F(listen), "0.0.0.0:8080", 0, 0, NULL, 1,
     "public listener for browsers (WebSocket /ws, SSE /sse, /herald.js), HOST:PORT"},
    {"emit_listen", T_EMIT, F(emit), "unix:/run/herald/emit.sock,127.0.0.1:26300", 0, 0, NULL, 1,
     "private emit listeners, comma-separated unix:PATH or HOST:PORT, or none; flag --emit/--emit_listen repeats"},
    {"emit_socket_mode", T_MODE, F(emit_socket_mode), "0660", 0, 0777, NULL, 1,
     "octal file mode of the emit Unix socket (a write bit for others is refused)"},
    {"emit_socket_group", T_STR, F(emit_socket_group), "", 0, 0, NULL, 1,
     "group owning the emit Unix socket (empty: the daemon's group)"},
    {"emit_secret_file", T_STR, F(emit_secret_file), "", 0, 0, NULL, 0,
     "file holding a bearer token every emit must send; required for a non-loopback emit address"},
    {"emit_allowed_hosts", T_STR, F(emit_allowed_hosts), "", 0, 0, config_hosts_check, 0,
     "comma-separated host names TCP emit listeners answer besides localhost and IP addresses; another name in Host gets 403 (DNS rebinding)"},
    {"max_emit_connections", T_U64, F(max_emit_connections), "1024", 1, 19000, NULL, 0,
     "connections each emit listener holds at most (one per php-fpm worker); more are closed on accept"},
    {"secret_file", T_STR, F(secret_file), "", 0, 0, NULL, 0,
     "secrets for signed channel names, one per line (secret or kid:secret), the first signs"},
    {"public_channels", T_STR, F(public_channels), "", 0, 0, NULL, 0,
     "comma-separated channel patterns ('*' matches any run) that need no signature"},
    {"socketio_channels", T_STR, F(socketio_channels), "", 0, 0, NULL, 0,
     "comma-separated channel patterns whose messages every socket.io client receives as the event named after the channel (io.sockets.emit)"},
    {"socketio_client_js", T_STR, F(socketio_client_js), "", 0, 0, NULL, 1,
     "a socket.io-client build (e.g. node_modules/socket.io-client/dist/socket.io.min.js) served as /socket.io/socket.io.js"},
    {"pusher_apps_file", T_STR, F(pusher_apps_file), "", 0, 0, NULL, 0,
     "Pusher apps for pusher-js / Laravel Echo clients (/app/{key}) and the Pusher HTTP API, one app_id:key:secret[:webhook_url] per line"},
    {"max_presence_members", T_U64, F(max_presence_members), "100", 1, 100000, NULL, 0,
     "members (distinct users) one Pusher presence- channel may hold, as Pusher's own limit; more: subscription_error 403"},
    {"webhook_queue_size", T_U64, F(webhook_queue_size), "10000", 1, 1000000, NULL, 0,
     "Pusher webhook events held at most, queued or being sent; more are dropped (webhook_events_dropped)"},
    {"webhook_timeout_ms", T_U64, F(webhook_timeout_ms), "5000", 100, 600000, NULL, 0,
     "time one Pusher webhook POST may take before it is tried again"},
    {"allowed_origins", T_STR, F(allowed_origins), "*", 0, 0, origin_list_check, 0,
     "comma-separated browser origins (scheme://host[:port]; https://*.example.com: its subdomains) allowed on /ws and /sse, or *"},
    {"max_connections", T_U64, F(max_connections), "10000", 1, 19000, NULL, 0,
     "public connections (browsers) at most, on every loop together; more are closed on accept (emit connections: max_emit_connections)"},
    {"max_connections_per_ip", T_U64, F(max_connections_per_ip), "256", 0, 19000, NULL, 0,
     "public connections one client address may hold (0: no limit); more: 503"},
    {"trusted_proxies", T_STR, F(trusted_proxies), "", 0, 0, NULL, 0,
     "comma-separated proxy addresses or CIDR ranges whose trusted_proxy_header names the client"},
    {"trusted_proxy_header", T_STR, F(trusted_proxy_header), "X-Forwarded-For", 0, 0, config_proxy_header_check, 0,
     "the header your trusted proxies set, X-Forwarded-For or Forwarded; its right-most untrusted hop is the client, the other header is ignored"},
    {"ipv6_prefix_bits", T_U64, F(ipv6_prefix_bits), "64", 1, 128, NULL, 0,
     "IPv6 clients are counted by this prefix for max_connections_per_ip (one /64 is one subscriber's network)"},
    {"max_client_message_bytes", T_U64, F(max_client_message_bytes), "4096", 16, 1048576, NULL, 0,
     "largest WebSocket message a browser may send (larger: close 1009)"},
    {"max_subscriptions", T_U64, F(max_subscriptions), "64", 1, 65535, NULL, 0,
     "channels one connection may subscribe to"},
    {"max_channels", T_U64, F(max_channels), "1000000", 1, 100000000, NULL, 0,
     "channels held at once (subscribed or with history); a subscribe or emit that needs a new one is refused (error too_many_channels, SSE and emit 503)"},
    {"max_new_channels_per_second", T_U64, F(max_new_channels_per_second), "20", 1, 1000000, NULL, 0,
     "channels one connection may bring into being per second, after a burst of this plus max_subscriptions; more: rate_limited (SSE 429)"},
    {"max_new_channels_per_ip_per_second", T_U64, F(max_new_channels_per_ip_per_second), "200", 0, 1000000, NULL, 0,
     "channels one client address may bring into being per second, after a burst of this plus max_subscriptions (0: no limit); more: rate_limited (SSE 429)"},
    {"max_commands_per_second", T_U64, F(max_commands_per_second), "20", 1, 100000, NULL, 0,
     "commands one WebSocket client may send per second, after a burst of this plus max_subscriptions; more: rate_limited, and close 1008 past twice that"},
    {"max_queue_bytes", T_U64, F(max_queue_bytes), "8388608", 1024, U64MAX, NULL, 0,
     "bytes waiting to be written to one client behind the frame being written, before it is dropped (close 1013); an emit whose frame is larger gets 413"},
    {"ping_interval_ms", T_U64, F(ping_interval_ms), "25000", 10, 86400000, NULL, 0,
     "idle time after which the server pings a WebSocket client"},
    {"pong_timeout_ms", T_U64, F(pong_timeout_ms), "10000", 10, 86400000, NULL, 0,
     "time a pinged client has to answer before it is dropped"},
    {"handshake_timeout_ms", T_U64, F(handshake_timeout_ms), "10000", 100, 3600000, NULL, 0,
     "time a public connection has to send a complete request (WebSocket or SSE upgrade); then 408"},
    {"request_timeout_ms", T_U64, F(request_timeout_ms), "10000", 100, 3600000, NULL, 0,
     "time an emit request may take to arrive once started; then 408"},
    {"emit_idle_timeout_ms", T_U64, F(emit_idle_timeout_ms), "300000", 0, 86400000, NULL, 0,
     "time an emit connection may sit idle between requests before it is closed (0: never)"},
    {"sse_heartbeat_ms", T_U64, F(sse_heartbeat_ms), "15000", 10, 86400000, NULL, 0,
     "interval of ': hb' comments on idle SSE streams"},
    {"max_url_bytes", T_U64, F(max_url_bytes), "8192", 64, 1048576, NULL, 0,
     "longest request URL (longer: 414)"},
    {"max_header_count", T_U64, F(max_header_count), "64", 4, 1000, NULL, 0,
     "most request headers (more: 431)"},
    {"max_header_bytes", T_U64, F(max_header_bytes), "16384", 256, 65536, NULL, 0,
     "total bytes of request header names and values (more: 431)"},
    {"max_emit_body_bytes", T_U64, F(max_emit_body_bytes), "1048576", 1, 67108864, NULL, 0,
     "largest emit request body (larger: 413)"},
    {"max_batch_messages", T_U64, F(max_batch_messages), "10000", 1, 1000000, NULL, 0,
     "messages in one batch emit (more: 413, nothing published)"},
    {"idempotency_window_ms", T_U64, F(idempotency_window_ms), "300000", 0, 86400000, NULL, 0,
     "how long an emit's Idempotency-Key is remembered: a repeat within it answers the first id and publishes nothing (0: keys are ignored)"},
    {"idempotency_max_keys", T_U64, F(idempotency_max_keys), "100000", 0, 10000000, NULL, 0,
     "idempotency keys remembered at most (32 bytes each); past it the oldest are forgotten early"},
    {"history_size", T_U64, F(history_size), "100", 0, 1000000, NULL, 0,
     "messages kept per channel for resume (0: no history)"},
    {"history_ttl_ms", T_U64, F(history_ttl_ms), "300000", 0, U64MAX, NULL, 0,
     "age after which a message leaves the history (0: never)"},
    {"history_max_bytes_per_channel", T_U64, F(history_max_bytes_per_channel), "4194304", 0, U64MAX, NULL, 0,
     "bytes of history one channel may keep (oldest dropped first; a larger message is not kept)"},
    {"history_max_bytes", T_U64, F(history_max_bytes), "67108864", 0, U64MAX, NULL, 0,
     "bytes of history kept on every channel together (the oldest message of all dropped first)"},
    {"expiring_notice_ms", T_U64, F(expiring_notice_ms), "60000", 0, 86400000, NULL, 0,
     "a subscription hears 'expiring' this long before its signed name expires (at most half the name's remaining life; 0: never)"},
    {"shutdown_timeout_ms", T_U64, F(shutdown_timeout_ms), "5000", 0, 600000, NULL, 0,
     "on SIGTERM/SIGINT, time to flush clients before exiting anyway"},
    {"log_level", T_LEVEL, F(log_level), "info", 0, 0, NULL, 0,
     "debug, info, warn or error"},
    {"redis", T_STR, F(redis), "", 0, 0, config_redis_check, 1,
     "several nodes share channels through this Redis: redis://[[user]:password@]host[:port][/db] or unix:/path (empty: a single node)"},
    {"redis_cluster", T_STR, F(redis_cluster), "", 0, 0, config_redis_cluster_check, 1,
     "or a Redis Cluster (7.0+, sharded pub/sub): [redis://[[user]:password@]]host:port,host:port,... seed nodes, credentials on the first"},
    {"redis_timeout_ms", T_U64, F(redis_timeout_ms), "3000", 100, 600000, NULL, 0,
     "time Redis has to answer before the link is dropped and connected again (emits meanwhile: 503)"},
    {"presence_node_ttl_ms", T_U64, F(presence_node_ttl_ms), "10000", 300, 600000, NULL, 0,
     "with redis: a node that has not renewed its liveness for this long is dead, and the others remove its presence members (within 2x this)"},
    {"workers", T_WORKERS, F(workers), "1", 1, 64, NULL, 1,
     "event loops, one thread each, sharing the public port (SO_REUSEPORT): a number, or auto "
     "for one per CPU (1 on 2 CPUs or fewer); more than 1 pays only with cores heraldd does "
     "not share with php-fpm and the clients (README)"},
};
#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* Edit distance, for "did you mean": keys are short, so the plain
 * dynamic program over two rows is enough. */
static size_t config_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 64;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
    }
    return prev[lb];
}

/* The nearest key to a misspelt one, if it is near enough to be meant. */
static const char *config_key_nearest(const char *name) {
    const char *best = NULL;
    size_t bd = 4;
    for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
        size_t d = config_distance(name, config_keys[i].name);
        if (d < bd) {
            bd = d;
            best = config_keys[i].name;
        }
    }
    return best;
}

/* "unknown key 'x'", with the key that was probably meant. */
static void config_unknown_key(char *err, size_t es, const char *where, const char *key) {
    char norm[64];
    size_t n = strlen(key);
    if (n >= sizeof(norm)) n = sizeof(norm) - 1;
    for (size_t i = 0; i < n; i++) norm[i] = key[i] == '-' ? '_' : key[i];
    norm[n] = '\0';
    const char *near = config_key_nearest(norm);
    if (near)
        snprintf(err, es, "%sunknown key '%s' (did you mean '%s'?)", where, key, near);
    else
        snprintf(err, es, "%sunknown key '%s' (heraldd --help lists them)", where, key);
}

static const config_key_t *config_key_find(const char *name) {
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(config_keys[i].name, name) == 0) return &config_keys[i];
    return NULL;
}

/* HOST:PORT with a numeric port 1-65535; "[::1]:80" for IPv6. */
int config_hostport_split(const char *s, char *host, size_t host_size, int *port) {
    const char *colon, *h = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || end[1] != ':') return -1;
        h = s + 1;
        hlen = (size_t)(end - h);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) return -1;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= host_size) return -1;
    const char *p = colon + 1;
    if (*p == '\0' || strlen(p) > 5) return -1;
    long v = 0;
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p)) return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > 65535) return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)v;
    return 0;
}

/* Loopback means 127.0.0.0/8, ::1 or "localhost": reachable only from here. */
int config_addr_is_loopback(const char *hostport) {
    char host[CONFIG_PATH_MAX];
    int port;
    if (config_hostport_split(hostport, host, sizeof(host), &port) != 0) return 0;
    if (strcmp(host, "::1") == 0 || strcmp(host, "localhost") == 0) return 1;
    return strncmp(host, "127.", 4) == 0;
}

static int config_emit_add(config_t *cfg, const char *v, char *err, size_t es) {
    if (strcmp(v, "none") == 0) return 0;
    if (cfg->emit_count == CONFIG_EMIT_MAX) {
        snprintf(err, es, "emit_listen: at most %d listeners", CONFIG_EMIT_MAX);
        return -1;
    }
    char host[CONFIG_PATH_MAX];
    int port;
    if (strncmp(v, "unix:", 5) == 0) {
        if (v[5] != '/' || strlen(v) >= sizeof(cfg->emit[0]) || strlen(v + 5) > 107) {
            snprintf(err, es, "emit_listen: '%s' needs an absolute socket path under 108 bytes", v);
            return -1;
        }
    } else if (config_hostport_split(v, host, sizeof(host), &port) != 0) {
        snprintf(err, es, "emit_listen: '%s' is neither unix:PATH nor HOST:PORT", v);
        return -1;
    }
    strcpy(cfg->emit[cfg->emit_count++], v);
    return 0;
}

/* A comma list replaces the whole emit list (file or first flag). */
static int config_emit_set(config_t *cfg, const char *v, char *err, size_t es) {
    char tmp[CONFIG_LIST_MAX];
    if (strlen(v) >= sizeof(tmp)) {
        snprintf(err, es, "emit_listen: value too long");
        return -1;
    }
    strcpy(tmp, v);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        size_t n = strlen(t);
        while (n > 0 && t[n - 1] == ' ') t[--n] = '\0';
        if (n == 0) continue;
        if (config_emit_add(cfg, t, err, es) != 0) return -1;
    }
    return 0;
}

static int config_key_apply(config_t *cfg, const config_key_t *k, const char *v,
                            char *err, size_t es) {
    char *base = (char *)cfg;
    switch (k->type) {
    case T_STR:
    case T_HOSTPORT: {
        if (strlen(v) >= k->size) {
            snprintf(err, es, "%s: value too long (at most %zu bytes)", k->name, k->size - 1);
            return -1;
        }
        if (k->type == T_HOSTPORT) {
            char host[CONFIG_PATH_MAX];
            int port;
            if (config_hostport_split(v, host, sizeof(host), &port) != 0) {
                snprintf(err, es, "%s: '%s' is not HOST:PORT", k->name, v);
                return -1;
            }
        }
        char why[300];
        if (k->check && k->check(v, why, sizeof(why)) != 0) {
            snprintf(err, es, "%s: %s", k->name, why);
            return -1;
        }
        strcpy(base + k->off, v);
        return 0;
    }
    case T_WORKERS:
        if (strcmp(v, "auto") == 0) {
            *(uint64_t *)(void *)(base + k->off) = 0;
            return 0;
        }
        /* fall through */
    case T_U64:
    case T_MODE: {
        int octal = k->type == T_MODE;
        const char *p = v;
        if (*p == '\0') goto bad_number;
        uint64_t n = 0;
        for (; *p; p++) {
            int d = *p - '0';
            if (d < 0 || d > (octal ? 7 : 9)) goto bad_number;
            if (n > (UINT64_MAX - (uint64_t)d) / (octal ? 8 : 10)) goto bad_range;
            n = n * (octal ? 8 : 10) + (uint64_t)d;
        }
        if (n < k->min || n > k->max) goto bad_range;
        *(uint64_t *)(void *)(base + k->off) = n;
        return 0;
    bad_number:
        snprintf(err, es, "%s: '%s' is not %s", k->name, v,
                 octal ? "an octal mode like 0660" : k->type == T_WORKERS ? "a number of loops or auto"
                 : "a whole number (the unit is in the key's name)");
        return -1;
    bad_range:
        snprintf(err, es, "%s: '%s' is out of range (%llu..%llu)", k->name, v,
                 (unsigned long long)k->min, (unsigned long long)k->max);
        return -1;
    }
    case T_LEVEL: {
        int l = log_level_parse(v);
        if (l < 0) {
            snprintf(err, es, "%s: '%s' is not one of debug, info, warn, error", k->name, v);
            return -1;
        }
        cfg->log_level = l;
        return 0;
    }
    case T_EMIT:
        cfg->emit_count = 0;
        return config_emit_set(cfg, v, err, es);
    }
    return -1;
}

/* Flags accept dashes for underscores (--secret-file = --secret_file). */
static int config_set(config_t *cfg, const char *key, const char *value, char *err,
               size_t es) {
    char name[64];
    size_t n = strlen(key);
    if (n >= sizeof(name)) n = sizeof(name) - 1;
    for (size_t i = 0; i < n; i++) name[i] = key[i] == '-' ? '_' : key[i];
    name[n] = '\0';
    const config_key_t *k = config_key_find(name);
    if (k == NULL) {
        config_unknown_key(err, es, "", key);
        return -1;
    }
    return config_key_apply(cfg, k, value, err, es);
}

void config_defaults(config_t *cfg) {
    char err[256];
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NKEYS; i++)
        config_key_apply(cfg, &config_keys[i], config_keys[i].def, err, sizeof(err));
}

static char *config_trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* INI: "key = value" lines, '#' or ';' comments on their own line; a
 * [section] is refused (it would look meaningful and be ignored); a value
 * may be quoted to keep spaces or '#'. */
int config_parse_ini(config_t *cfg, const char *name, const char *text,
                     char *err, size_t es) {
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        lineno++;
        char line[CONFIG_LIST_MAX + 128];
        if (n >= sizeof(line)) {
            snprintf(err, es, "%s:%d: line too long", name, lineno);
            return -1;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        p += n + (eol ? 1 : 0);
        if (memchr(line, '\0', n) != NULL) {
            snprintf(err, es, "%s:%d: NUL byte in line", name, lineno);
            return -1;
        }
        char *s = config_trim(line);
        if (*s == '\0' || *s == '#' || *s == ';') continue;
        if (*s == '[') { /* a section would silently scope nothing: say so */
            snprintf(err, es, "%s:%d: sections like %s are not used: heraldd.conf is flat 'key = value' lines",
                     name, lineno, s);
            return -1;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, es, "%s:%d: expected 'key = value'", name, lineno);
            return -1;
        }
        *eq = '\0';
        char *key = config_trim(s), *val = config_trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        if (strchr(key, '-') != NULL || config_key_find(key) == NULL) {
            char where[300];
            snprintf(where, sizeof(where), "%s:%d: ", name, lineno);
            config_unknown_key(err, es, where, key);
            return -1;
        }
        char e2[256];
        if (config_set(cfg, key, val, e2, sizeof(e2)) != 0) {
            snprintf(err, es, "%s:%d: %s", name, lineno, e2);
            return -1;
        }
    }
    return 0;
}

static int config_file_load(config_t *cfg, const char *path, char *err, size_t es) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, es, "config %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            if (cap > (1u << 20)) { fclose(f); free(text); snprintf(err, es, "config %s: larger than 1 MiB", path); return -1; }
            char *t = realloc(text, cap);
            if (t == NULL) { fclose(f); free(text); snprintf(err, es, "out of memory"); return -1; }
            text = t;
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (text == NULL) return 0;
    text[len] = '\0';
    if (strlen(text) != len) {
        free(text);
        snprintf(err, es, "config %s: contains a NUL byte", path);
        return -1;
    }
    int rc = config_parse_ini(cfg, path, text, err, es);
    free(text);
    return rc;
}

int config_validate(const config_t *cfg, char *err, size_t es) {
    /* io.sockets.emit goes to clients that subscribe to nothing, which a
     * node's Redis subscriptions (one per channel with subscribers) do not
     * cover yet: refused rather than silently undelivered. */
    if (cfg->redis[0] && cfg->redis_cluster[0]) {
        snprintf(err, es, "redis and redis_cluster are both set: a node uses one Redis or one "
                 "Redis Cluster; keep one of the two");
        return -1;
    }
    if ((cfg->redis[0] || cfg->redis_cluster[0]) && cfg->socketio_channels[0]) {
        snprintf(err, es, "socketio_channels cannot be combined with redis yet (socket.io "
                 "clients may still subscribe to channels)");
        return -1;
    }
    /* Writing to the emit socket is the right to publish to every browser. */
    if (cfg->emit_socket_mode & 0002) {
        snprintf(err, es, "emit_socket_mode: %04llo lets every user publish; drop the "
                 "others' write bit (e.g. 0660 with emit_socket_group)",
                 (unsigned long long)cfg->emit_socket_mode);
        return -1;
    }
    for (size_t i = 0; i < cfg->emit_count; i++) {
        const char *e = cfg->emit[i];
        if (strncmp(e, "unix:", 5) == 0) continue;
        if (!config_addr_is_loopback(e) && cfg->emit_secret_file[0] == '\0') {
            snprintf(err, es, "emit_listen: %s is not a loopback address; set emit_secret_file "
                     "so emits from other machines must authenticate", e);
            return -1;
        }
    }
    return 0;
}

/* Flags win over the file, so the file is read first whatever the order. */
int config_load(config_t *cfg, int argc, char **argv, int *action, char *err,
                size_t es) {
    config_defaults(cfg);
    *action = CONFIG_RUN;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) { snprintf(err, es, "--config needs a FILE"); return -1; }
            if (config_file_load(cfg, argv[i + 1], err, es) != 0) return -1;
            i++;
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            if (config_file_load(cfg, argv[i] + 9, err, es) != 0) return -1;
        }
    }
    int emit_from_flags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { *action = CONFIG_HELP; return 0; }
        if (strcmp(a, "--version") == 0) { *action = CONFIG_VERSION; continue; }
        if (strcmp(a, "--check-config") == 0) { *action = CONFIG_CHECK; continue; }
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, es, "unexpected argument '%s'", a);
            return -1;
        }
        char key[64];
        const char *val;
        const char *eq = strchr(a, '=');
        if (eq != NULL) {
            size_t n = (size_t)(eq - a - 2);
            if (n >= sizeof(key)) n = sizeof(key) - 1;
            memcpy(key, a + 2, n);
            key[n] = '\0';
            val = eq + 1;
        } else {
            snprintf(key, sizeof(key), "%s", a + 2);
            if (i + 1 >= argc) { snprintf(err, es, "%s needs a value", a); return -1; }
            val = argv[++i];
        }
        if (strcmp(key, "config") == 0) continue;
        if (strcmp(key, "emit") == 0 || strcmp(key, "emit_listen") == 0 ||
            strcmp(key, "emit-listen") == 0) {
            /* Repeatable: the first --emit replaces the file's list. */
            if (!emit_from_flags) cfg->emit_count = 0;
            emit_from_flags = 1;
            if (config_emit_set(cfg, val, err, es) != 0) return -1;
            continue;
        }
        if (config_set(cfg, key, val, err, es) != 0) return -1;
    }
    if (*action == CONFIG_VERSION) return 0;
    return config_validate(cfg, err, es);
}

void config_help_print(void *file) {
    FILE *f = file;
    fprintf(f,
            "usage: heraldd [--config FILE] [--KEY VALUE ...]\n"
            "       heraldd sign CHANNEL [--ttl SECONDS] [--config FILE] [--secret-file PATH]\n"
            "       heraldd --check-config | --version | --help\n\n"
            "Every key may be set in the INI file as 'key = value' or as a flag\n"
            "'--key value' (dashes or underscores); flags win. --emit may repeat.\n\n"
            "keys (default) description:\n");
    for (size_t i = 0; i < NKEYS; i++)
        fprintf(f, "  --%-26s (%s)\n      %s\n", config_keys[i].name,
                config_keys[i].def[0] ? config_keys[i].def : "empty",
                config_keys[i].desc);
}

/* Does key k hold different values in a and b? */
static int config_key_differs(const config_key_t *k, const config_t *a, const config_t *b) {
    const char *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;
    switch (k->type) {
    case T_EMIT:
        if (a->emit_count != b->emit_count) return 1;
        for (size_t j = 0; j < a->emit_count; j++)
            if (strcmp(a->emit[j], b->emit[j]) != 0) return 1;
        return 0;
    case T_STR:
    case T_HOSTPORT:
        return strcmp(pa, pb) != 0;
    default:
        return memcmp(pa, pb, k->size) != 0;
    }
}

int config_diff_log(const config_t *a, const config_t *b) {
    int n = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        const config_key_t *k = &config_keys[i];
        if (!config_key_differs(k, a, b)) continue;
        n++;
        if (k->restart)
            log_warn("reload: %s changed, but it only changes on a restart", k->name);
        else
            log_info("reload: %s changed", k->name);
    }
    return n;
}

void config_keep_fixed(config_t *next, const config_t *running) {
    for (size_t i = 0; i < NKEYS; i++) {
        const config_key_t *k = &config_keys[i];
        if (!k->restart) continue;
        memcpy((char *)next + k->off, (const char *)running + k->off, k->size);
        if (k->type == T_EMIT) next->emit_count = running->emit_count;
    }
}
