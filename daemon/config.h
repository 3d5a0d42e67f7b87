/* heraldd's configuration: every key lives in one table in config.c, read
 * from an INI file and overridden by --key value flags. */
#ifndef HERALD_CONFIG_H
#define HERALD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_PATH_MAX 256
#define CONFIG_LIST_MAX 1024
#define CONFIG_EMIT_MAX 8

typedef struct config {
    char listen[CONFIG_PATH_MAX];
    char emit[CONFIG_EMIT_MAX][CONFIG_PATH_MAX]; /* "unix:PATH" or HOST:PORT */
    size_t emit_count;
    uint64_t emit_socket_mode;
    char emit_socket_group[CONFIG_PATH_MAX];
    char emit_secret_file[CONFIG_PATH_MAX];
    char emit_allowed_hosts[CONFIG_LIST_MAX];
    uint64_t max_emit_connections;
    char secret_file[CONFIG_PATH_MAX];
    char public_channels[CONFIG_LIST_MAX];
    char socketio_channels[CONFIG_LIST_MAX];
    char socketio_client_js[CONFIG_PATH_MAX];
    char pusher_apps_file[CONFIG_PATH_MAX];
    uint64_t max_presence_members;
    uint64_t webhook_queue_size;
    uint64_t webhook_timeout_ms;
    char allowed_origins[CONFIG_LIST_MAX];
    uint64_t max_connections;
    uint64_t max_connections_per_ip;
    char trusted_proxies[CONFIG_LIST_MAX];
    char trusted_proxy_header[32];
    uint64_t ipv6_prefix_bits;
    uint64_t max_client_message_bytes;
    uint64_t max_subscriptions;
    uint64_t max_channels;
    uint64_t max_new_channels_per_second;
    uint64_t max_new_channels_per_ip_per_second;
    uint64_t max_commands_per_second;
    uint64_t max_queue_bytes;
    uint64_t ping_interval_ms;
    uint64_t pong_timeout_ms;
    uint64_t sse_heartbeat_ms;
    uint64_t handshake_timeout_ms;
    uint64_t request_timeout_ms;
    uint64_t emit_idle_timeout_ms;
    uint64_t max_url_bytes;
    uint64_t max_header_count;
    uint64_t max_header_bytes;
    uint64_t max_emit_body_bytes;
    uint64_t max_batch_messages;
    uint64_t idempotency_window_ms;
    uint64_t idempotency_max_keys;
    uint64_t history_size;
    uint64_t history_ttl_ms;
    uint64_t history_max_bytes_per_channel;
    uint64_t history_max_bytes;
    uint64_t expiring_notice_ms;
    uint64_t shutdown_timeout_ms;
    int log_level;
    char redis[CONFIG_LIST_MAX]; /* cluster: the Redis address (rediswire.h), "" = none */
    char redis_cluster[CONFIG_LIST_MAX]; /* or a Redis Cluster's seeds (clusterwire.h) */
    uint64_t redis_timeout_ms;
    uint64_t presence_node_ttl_ms;
    uint64_t workers;        /* event loops (threads); 0 = one per CPU ("auto") */
} config_t;

/* What the command line asked for besides running. */
enum { CONFIG_RUN = 0, CONFIG_HELP, CONFIG_VERSION, CONFIG_CHECK };

/* Defaults, then --config FILE, then the other flags. Returns 0 or -1 with a
 * sentence naming the key (and file:line) in err. *action gets CONFIG_*. */
int config_load(config_t *cfg, int argc, char **argv, int *action,
                char *err, size_t err_size);

/* Set defaults only (tests and `sign` start from here). */
void config_defaults(config_t *cfg);

/* Parse an INI text (as in a file), e.g. for tests; `name` labels errors. */
int config_parse_ini(config_t *cfg, const char *name, const char *text,
                     char *err, size_t err_size);

/* Cross-key checks run after loading (emit listeners, etc.). */
int config_validate(const config_t *cfg, char *err, size_t err_size);

/* 1 if a HOST:PORT emit address is on the loopback interface. */
int config_addr_is_loopback(const char *hostport);

/* Split "HOST:PORT" ("[v6]:port" too) into host and port. 0 or -1. */
int config_hostport_split(const char *s, char *host, size_t host_size,
                          int *port);

/* Write --help: every key with its default and description. */
void config_help_print(void *file);

/* Log, one line each, the keys whose value differs between a and b (for a
 * reload); returns how many differ. Keys that change only on a restart
 * (listeners, workers) are logged as such. Secrets are files: only their
 * paths are compared, never their contents. */
int config_diff_log(const config_t *a, const config_t *b);

/* A reload keeps what changes only on a restart: copy those keys from
 * running into next. */
void config_keep_fixed(config_t *next, const config_t *running);

#endif
