/* heraldd: flags, the `sign` subcommand, signals and start-up. */
#include "config.h"
#include "hub.h"
#include "log.h"
#include "secrets.h"
#include "workers.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#ifndef HERALD_VERSION
#define HERALD_VERSION "0.0.0"
#endif

/* A name valid for more than a century is a name that never expires: say
 * 0 then. The bound also keeps now + ttl far from wrapping round 2^64
 * (which would give a never-expiring or an already-expired name). */
#define MAIN_TTL_MAX UINT64_C(3155760000)

/* heraldd sign CHANNEL [--ttl SECONDS] [config flags]: the same bytes
 * PHP's Herald\channel() returns, for scripts and tests. */
static int main_sign(int argc, char **argv) {
    if (argc < 3 || strncmp(argv[2], "--", 2) == 0) {
        fprintf(stderr, "usage: heraldd sign CHANNEL [--ttl SECONDS] [--config FILE] [--secret-file PATH]\n");
        return 2;
    }
    const char *channel = argv[2];
    uint64_t ttl = 0;
    char **rest = calloc((size_t)argc, sizeof(char *));
    int n = 0;
    rest[n++] = argv[0];
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            ttl = strtoull(argv[++i], &end, 10);
            if (*end || argv[i][0] == '-' || argv[i][0] == '\0' || errno == ERANGE ||
                ttl > MAIN_TTL_MAX) {
                fprintf(stderr, "heraldd sign: --ttl needs whole seconds from 0 (never expires) "
                        "to %llu (100 years)\n", (unsigned long long)MAIN_TTL_MAX);
                free(rest);
                return 2;
            }
        } else {
            rest[n++] = argv[i];
        }
    }
    config_t cfg;
    char err[512];
    int action;
    int rc = config_load(&cfg, n, rest, &action, err, sizeof(err));
    free(rest);
    if (rc != 0) {
        fprintf(stderr, "heraldd: %s\n", err);
        return 2;
    }
    if (cfg.secret_file[0] == '\0') {
        fprintf(stderr, "heraldd sign: no secret_file configured\n");
        return 2;
    }
    herald_secret_t *secrets;
    size_t count;
    if (secrets_keys_load(cfg.secret_file, &secrets, &count, err, sizeof(err)) != 0) {
        fprintf(stderr, "heraldd sign: %s\n", err);
        return 2;
    }
    char out[HERALD_SIGNED_MAX];
    uint64_t expiry = ttl ? hub_wall_ms() / 1000 + ttl : 0;
    rc = herald_sign(&secrets[0], channel, strlen(channel), expiry, out, sizeof(out));
    memset(secrets, 0, count * sizeof(*secrets));
    free(secrets);
    if (rc < 0) {
        fprintf(stderr, "heraldd sign: %s\n", herald_signed_strerror(rc));
        return 2;
    }
    printf("%s\n", out);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "sign") == 0) return main_sign(argc, argv);
    static config_t cfg;
    char err[512];
    int action;
    if (config_load(&cfg, argc, argv, &action, err, sizeof(err)) != 0) {
        fprintf(stderr, "heraldd: %s\n", err);
        return 2;
    }
    switch (action) {
    case CONFIG_HELP: config_help_print(stdout); return 0;
    case CONFIG_VERSION: printf("heraldd %s\n", HERALD_VERSION); return 0;
    default: break;
    }
    log_level_set(cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    static workers_t w;
    if (action == CONFIG_CHECK) cfg.workers = 1; /* one loop is enough to check */
    if (workers_init(&w, &cfg, argc, argv) != 0) {
        workers_free(&w);
        return 2;
    }
    if (action == CONFIG_CHECK) {
        printf("configuration ok\n");
        workers_free(&w);
        return 0;
    }
    log_info("heraldd %s starting with %zu event loop(s)", HERALD_VERSION, w.nloops);
    int rc = workers_run(&w);
    if (rc == 0) log_info("stopped");
    workers_free(&w);
    return rc;
}
