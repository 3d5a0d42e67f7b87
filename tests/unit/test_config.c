/* Unit tests for daemon/config.c: defaults, file then flags, unknown keys
 * and bad values named with their line, units and ranges, emit lists. */
#include "t.h"
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[256];

static const char *write_file(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static int load(config_t *c, char *err, int argc, char **argv) {
    int action;
    err[0] = '\0';
    return config_load(c, argc, argv, &action, err, 512);
}

static int has(const char *s, const char *sub) {
    if (strstr(s, sub)) return 1;
    fprintf(stderr, "  '%s' lacks '%s'\n", s, sub);
    return 0;
}

static void defaults_are_documented_values(void) {
    config_t c;
    config_defaults(&c);
    CHECK_STR(c.listen, "0.0.0.0:8080");
    CHECK_EQ_INT(c.emit_count, 2);
    CHECK_STR(c.emit[0], "unix:/run/herald/emit.sock");
    CHECK_STR(c.emit[1], "127.0.0.1:26300");
    CHECK_EQ_INT(c.emit_socket_mode, 0660);
    CHECK_EQ_INT(c.max_queue_bytes, 8388608);
    CHECK_EQ_INT(c.max_emit_connections, 1024);
    CHECK_EQ_INT(c.ipv6_prefix_bits, 64);
    CHECK_STR(c.trusted_proxy_header, "X-Forwarded-For");
    CHECK_STR(c.emit_allowed_hosts, "");
    CHECK_EQ_INT(c.ping_interval_ms, 25000);
    CHECK_EQ_INT(c.max_client_message_bytes, 4096);
    CHECK_EQ_INT(c.max_subscriptions, 64);
    CHECK_EQ_INT(c.history_size, 100);
    CHECK_EQ_INT(c.history_ttl_ms, 300000);
    CHECK_EQ_INT(c.max_connections, 10000);
    CHECK_EQ_INT(c.max_emit_body_bytes, 1048576);
    CHECK_EQ_INT(c.shutdown_timeout_ms, 5000);
    CHECK_STR(c.allowed_origins, "*");
    CHECK_STR(c.public_channels, "");
    CHECK_EQ_INT(c.max_channels, 1000000);
    CHECK_EQ_INT(c.max_new_channels_per_second, 20);
    CHECK_EQ_INT(c.max_new_channels_per_ip_per_second, 200);
    CHECK_EQ_INT(c.history_max_bytes_per_channel, 4194304);
    CHECK_EQ_INT(c.history_max_bytes, 67108864);
}

/* Issue 11: the memory keys parse, and a cap of no channels is refused. */
static void memory_keys_parse_and_refuse_nonsense(void) {
    config_t c;
    char err[256];
    config_defaults(&c);
    CHECK_EQ_INT(config_parse_ini(&c, "m", "max_channels = 50\nhistory_max_bytes = 0\n"
                                  "max_new_channels_per_ip_per_second = 0\n", err, sizeof(err)), 0);
    CHECK_EQ_INT(c.max_channels, 50);
    CHECK_EQ_INT(c.history_max_bytes, 0);
    CHECK_EQ_INT(c.max_new_channels_per_ip_per_second, 0);
    CHECK_EQ_INT(config_parse_ini(&c, "m", "max_channels = 0\n", err, sizeof(err)), -1);
    CHECK(strstr(err, "max_channels") != NULL);
    CHECK_EQ_INT(config_parse_ini(&c, "m", "max_new_channels_per_second = 0\n", err, sizeof(err)), -1);
    CHECK(strstr(err, "max_new_channels_per_second") != NULL);
}

static void flags_win_over_the_file_in_any_order(void) {
    const char *p = write_file("a.conf", "# comment\n; other\nlisten = 127.0.0.1:9000\n"
                                         "history_size = 7\nmax_queue_bytes=2048\r\n");
    config_t c;
    char err[512];
    char *argv[] = {"heraldd", "--history-size", "9", "--config", (char *)p, "--ping_interval_ms=50"};
    CHECK_EQ_INT(load(&c, err, 6, argv), 0);
    CHECK_STR(c.listen, "127.0.0.1:9000");
    CHECK_EQ_INT(c.history_size, 9);
    CHECK_EQ_INT(c.max_queue_bytes, 2048);
    CHECK_EQ_INT(c.ping_interval_ms, 50);
}

static void unknown_key_in_file_names_file_and_line(void) {
    const char *p = write_file("b.conf", "listen = 127.0.0.1:1\n\nmax_queue = 5\n");
    config_t c;
    char err[512];
    char *argv[] = {"heraldd", "--config", (char *)p};
    CHECK_EQ_INT(load(&c, err, 3, argv), -1);
    CHECK(has(err, "b.conf:3: unknown key 'max_queue'"));
}

static void bad_values_name_the_key(void) {
    config_t c;
    char err[512];
    char *a1[] = {"heraldd", "--max_queue_bytes", "lots"};
    CHECK_EQ_INT(load(&c, err, 3, a1), -1);
    CHECK(has(err, "max_queue_bytes: 'lots' is not a whole number"));
    char *a2[] = {"heraldd", "--ping_interval_ms", "25s"};
    CHECK_EQ_INT(load(&c, err, 3, a2), -1);
    CHECK(has(err, "ping_interval_ms"));
    char *a3[] = {"heraldd", "--max_connections", "50000"};
    CHECK_EQ_INT(load(&c, err, 3, a3), -1);
    CHECK(has(err, "out of range"));
    char *a4[] = {"heraldd", "--max_queue_bytes", "99999999999999999999999"};
    CHECK_EQ_INT(load(&c, err, 3, a4), -1);
    CHECK(has(err, "out of range"));
    char *a5[] = {"heraldd", "--listen", "nowhere"};
    CHECK_EQ_INT(load(&c, err, 3, a5), -1);
    CHECK(has(err, "listen: 'nowhere' is not HOST:PORT"));
    char *a6[] = {"heraldd", "--listen", "1.2.3.4:70000"};
    CHECK_EQ_INT(load(&c, err, 3, a6), -1);
    char *a7[] = {"heraldd", "--log_level", "loud"};
    CHECK_EQ_INT(load(&c, err, 3, a7), -1);
    CHECK(has(err, "log_level"));
    char *a8[] = {"heraldd", "--emit_socket_mode", "0680"};
    CHECK_EQ_INT(load(&c, err, 3, a8), -1);
    CHECK(has(err, "octal"));
    char *a9[] = {"heraldd", "--nope", "1"};
    CHECK_EQ_INT(load(&c, err, 3, a9), -1);
    CHECK(has(err, "unknown key 'nope'"));
    char *a10[] = {"heraldd", "--history_size"};
    CHECK_EQ_INT(load(&c, err, 2, a10), -1);
    CHECK(has(err, "needs a value"));
    char *a11[] = {"heraldd", "stray"};
    CHECK_EQ_INT(load(&c, err, 2, a11), -1);
}

static void bad_file_lines_are_refused(void) {
    config_t c;
    char err[512];
    config_defaults(&c);
    CHECK_EQ_INT(config_parse_ini(&c, "x", "listen 127.0.0.1:1\n", err, sizeof(err)), -1);
    CHECK(has(err, "x:1: expected 'key = value'"));
    CHECK_EQ_INT(config_parse_ini(&c, "x", "\n\nhistory_size = -1\n", err, sizeof(err)), -1);
    CHECK(has(err, "x:3: history_size"));
    CHECK_EQ_INT(config_parse_ini(&c, "x", "public_channels = \"news.*, a\"\n", err, sizeof(err)), 0);
    CHECK_STR(c.public_channels, "news.*, a");
    char *argv[] = {"heraldd", "--config", "/nonexistent/heraldd.conf"};
    CHECK_EQ_INT(load(&c, err, 3, argv), -1);
    CHECK(has(err, "/nonexistent/heraldd.conf"));
}

static void emit_flag_repeats_and_replaces_the_file_list(void) {
    const char *p = write_file("c.conf", "emit_listen = unix:/x/e.sock, 127.0.0.1:1\n");
    config_t c;
    char err[512];
    char *a1[] = {"heraldd", "--config", (char *)p};
    CHECK_EQ_INT(load(&c, err, 3, a1), 0);
    CHECK_EQ_INT(c.emit_count, 2);
    char *a2[] = {"heraldd", "--config", (char *)p, "--emit", "127.0.0.1:2", "--emit", "unix:/y.sock"};
    CHECK_EQ_INT(load(&c, err, 7, a2), 0);
    CHECK_EQ_INT(c.emit_count, 2);
    CHECK_STR(c.emit[0], "127.0.0.1:2");
    CHECK_STR(c.emit[1], "unix:/y.sock");
    char *a3[] = {"heraldd", "--emit", "none"};
    CHECK_EQ_INT(load(&c, err, 3, a3), 0);
    CHECK_EQ_INT(c.emit_count, 0);
    char *a4[] = {"heraldd", "--emit", "unix:relative.sock"};
    CHECK_EQ_INT(load(&c, err, 3, a4), -1);
    CHECK(has(err, "absolute"));
}

static void non_loopback_emit_needs_a_secret(void) {
    config_t c;
    char err[512];
    char *a1[] = {"heraldd", "--emit", "0.0.0.0:26300"};
    CHECK_EQ_INT(load(&c, err, 3, a1), -1);
    CHECK(has(err, "emit_secret_file"));
    char *a2[] = {"heraldd", "--emit", "0.0.0.0:26300", "--emit_secret_file", "/etc/herald/emit"};
    CHECK_EQ_INT(load(&c, err, 5, a2), 0);
    char *a3[] = {"heraldd", "--emit", "[::1]:26300", "--emit", "localhost:5", "--emit", "127.9.9.9:1"};
    CHECK_EQ_INT(load(&c, err, 7, a3), 0);
    CHECK(config_addr_is_loopback("127.0.0.1:1"));
    CHECK(!config_addr_is_loopback("128.0.0.1:1"));
    CHECK(!config_addr_is_loopback("[::]:1"));
}

static void help_version_and_check_are_actions(void) {
    config_t c;
    char err[512];
    int action;
    char *a1[] = {"heraldd", "--help"};
    CHECK_EQ_INT(config_load(&c, 2, a1, &action, err, sizeof(err)), 0);
    CHECK_EQ_INT(action, CONFIG_HELP);
    char *a2[] = {"heraldd", "--check-config", "--history_size", "3"};
    CHECK_EQ_INT(config_load(&c, 4, a2, &action, err, sizeof(err)), 0);
    CHECK_EQ_INT(action, CONFIG_CHECK);
    CHECK_EQ_INT(c.history_size, 3);
}

/* A field's own size bounds its value, not its position in the table:
 * trusted_proxies holds a 1 KiB list, a socket group only a path's worth. */
static void string_keys_are_bounded_by_their_own_field(void) {
    config_t c;
    char err[512];
    char list[1100];
    size_t n = 0;
    while (n + 16 < 600) n += (size_t)snprintf(list + n, sizeof(list) - n, "%s10.0.%zu.0/24", n ? "," : "", n % 250);
    char *argv[] = {"heraldd", "--trusted_proxies", list};
    CHECK_EQ_INT(load(&c, err, 3, argv), 0);
    CHECK_STR(c.trusted_proxies, list);
    memset(list, 'a', 1100);
    list[1099] = '\0';
    char *argv2[] = {"heraldd", "--trusted_proxies", list};
    CHECK_EQ_INT(load(&c, err, 3, argv2), -1);
    CHECK(has(err, "at most 1023 bytes"));
    memset(list, 'g', 300);
    list[300] = '\0';
    char *argv3[] = {"heraldd", "--emit_socket_group", list};
    CHECK_EQ_INT(load(&c, err, 3, argv3), -1);
    CHECK(has(err, "at most 255 bytes"));
}

/* A reload keeps what only a restart changes and takes the rest. */
static void reload_keeps_restart_only_keys(void) {
    config_t run, next;
    char err[512];
    char *a[] = {"heraldd", "--listen", "127.0.0.1:1111", "--workers", "2", "--max_subscriptions", "5"};
    char *b[] = {"heraldd", "--listen", "127.0.0.1:2222", "--workers", "3", "--max_subscriptions", "9",
                 "--emit", "none"};
    CHECK_EQ_INT(load(&run, err, 7, a), 0);
    CHECK_EQ_INT(load(&next, err, 9, b), 0);
    CHECK_EQ_INT(config_diff_log(&run, &next), 4);
    config_keep_fixed(&next, &run);
    CHECK_STR(next.listen, "127.0.0.1:1111");
    CHECK_EQ_INT(next.workers, 2);
    CHECK_EQ_INT(next.emit_count, 2);
    CHECK_EQ_INT(next.max_subscriptions, 9);
    CHECK_EQ_INT(config_diff_log(&run, &next), 1);
}

/* redis_cluster: seeds checked at load, refused together with redis (one
 * kind of Redis per node), and fixed until a restart like redis. */
static void redis_cluster_is_checked_exclusive_and_restart_only(void) {
    config_t c, next;
    char err[512];
    char *ok[] = {"heraldd", "--redis-cluster", "127.0.0.1:7000,127.0.0.1:7001"};
    CHECK_EQ_INT(load(&c, err, 3, ok), 0);
    CHECK_STR(c.redis_cluster, "127.0.0.1:7000,127.0.0.1:7001");
    char *both[] = {"heraldd", "--redis", "redis://127.0.0.1:6379", "--redis_cluster", "127.0.0.1:7000"};
    CHECK_EQ_INT(load(&next, err, 5, both), -1);
    CHECK(has(err, "redis and redis_cluster are both set"));
    char *bad[] = {"heraldd", "--redis_cluster", "127.0.0.1:7000,redis://:hunter2-secret@h:1"};
    CHECK_EQ_INT(load(&next, err, 3, bad), -1);
    CHECK(has(err, "redis_cluster"));
    CHECK(has(err, "first address"));
    CHECK(strstr(err, "hunter2-secret") == NULL);
    char *db[] = {"heraldd", "--redis_cluster", "redis://h:7000/1"};
    CHECK_EQ_INT(load(&next, err, 3, db), -1);
    char *sio[] = {"heraldd", "--redis_cluster", "h:7000", "--socketio_channels", "news*"};
    CHECK_EQ_INT(load(&next, err, 5, sio), -1);
    CHECK(has(err, "socketio_channels cannot be combined with redis"));
    const char *f = write_file("cluster.conf", "redis_cluster = redis://:pw@10.0.0.1:7000, 10.0.0.2:7000\n");
    char *file[] = {"heraldd", "--config", (char *)f};
    CHECK_EQ_INT(load(&next, err, 3, file), 0);
    CHECK_EQ_INT(config_diff_log(&c, &next), 1);
    config_keep_fixed(&next, &c);
    CHECK_STR(next.redis_cluster, "127.0.0.1:7000,127.0.0.1:7001");
}

/* A typo names the key that was meant; a section is refused, not ignored. */
static void typos_suggest_the_key_and_sections_are_refused(void) {
    config_t c;
    char err[512];
    char *argv[] = {"heraldd", "--secert-file", "x"};
    CHECK_EQ_INT(load(&c, err, 3, argv), -1);
    CHECK(has(err, "unknown key 'secert-file' (did you mean 'secret_file'?)"));
    char *argv2[] = {"heraldd", "--bananas", "1"};
    CHECK_EQ_INT(load(&c, err, 3, argv2), -1);
    CHECK(has(err, "(heraldd --help lists them)"));
    config_defaults(&c);
    CHECK_EQ_INT(config_parse_ini(&c, "t.conf", "max_queue_byte = 5\n", err, 512), -1);
    CHECK(has(err, "t.conf:1: unknown key 'max_queue_byte' (did you mean 'max_queue_bytes'?)"));
    CHECK_EQ_INT(config_parse_ini(&c, "t.conf", "# ok\n[heraldd]\nlisten = 127.0.0.1:9\n", err, 512), -1);
    CHECK(has(err, "t.conf:2: sections like [heraldd] are not used"));
}

/* issue 11's keys: a proxy header other than the two, a Host list with a
 * port or a path, an IPv6 prefix outside 1..128 are refused by name. */
static void new_boundary_keys_are_checked(void) {
    config_t c;
    char err[300];
    config_defaults(&c);
    CHECK_EQ_INT(config_parse_ini(&c, "t", "trusted_proxy_header = forwarded\n", err, sizeof(err)), 0);
    CHECK_STR(c.trusted_proxy_header, "forwarded");
    CHECK_EQ_INT(config_parse_ini(&c, "t", "trusted_proxy_header = X-Real-IP\n", err, sizeof(err)), -1);
    CHECK(strstr(err, "trusted_proxy_header") != NULL);
    CHECK_EQ_INT(config_parse_ini(&c, "t", "emit_allowed_hosts = emit.internal, [fd00::1], 10.0.0.5\n", err, sizeof(err)), 0);
    CHECK_EQ_INT(config_parse_ini(&c, "t", "emit_allowed_hosts = evil/path\n", err, sizeof(err)), -1);
    CHECK(strstr(err, "emit_allowed_hosts") != NULL);
    CHECK_EQ_INT(config_parse_ini(&c, "t", "ipv6_prefix_bits = 0\n", err, sizeof(err)), -1);
    CHECK_EQ_INT(config_parse_ini(&c, "t", "ipv6_prefix_bits = 129\n", err, sizeof(err)), -1);
    CHECK_EQ_INT(config_parse_ini(&c, "t", "ipv6_prefix_bits = 48\nmax_emit_connections = 5\n", err, sizeof(err)), 0);
    CHECK_EQ_INT(c.ipv6_prefix_bits, 48);
    CHECK_EQ_INT(c.max_emit_connections, 5);
    CHECK_EQ_INT(config_parse_ini(&c, "t", "max_emit_connections = 0\n", err, sizeof(err)), -1);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/herald-config-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    if (mkdtemp(dir) == NULL) return 1;
    RUN(defaults_are_documented_values);
    RUN(flags_win_over_the_file_in_any_order);
    RUN(memory_keys_parse_and_refuse_nonsense);
    RUN(unknown_key_in_file_names_file_and_line);
    RUN(bad_values_name_the_key);
    RUN(bad_file_lines_are_refused);
    RUN(emit_flag_repeats_and_replaces_the_file_list);
    RUN(non_loopback_emit_needs_a_secret);
    RUN(help_version_and_check_are_actions);
    RUN(string_keys_are_bounded_by_their_own_field);
    RUN(reload_keeps_restart_only_keys);
    RUN(typos_suggest_the_key_and_sections_are_refused);
    RUN(new_boundary_keys_are_checked);
    RUN(redis_cluster_is_checked_exclusive_and_restart_only);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return T_DONE();
}
