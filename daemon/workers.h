/* The process: N event loops (workers), one per thread, sharing the public
 * port; loop 0 runs on the main thread and owns the emit listeners and the
 * process signals, which it passes on to the others (reload, shutdown). */
#ifndef HERALD_WORKERS_H
#define HERALD_WORKERS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "hub.h"
#include "loop.h"
#include "webhook.h"

typedef struct workers {
    hub_t hub;
    size_t nloops;
    loop_t *loops;
    uv_loop_t *uvloops;
    uv_thread_t *threads;
    uv_signal_t sigterm, sigint, sighup; /* on loop 0 */
    webhook_t *webhook;        /* on loop 0; NULL when it could not start */
} workers_t;

/* Create the loops from cfg (argv kept for reloads), loading secrets.
 * 0 or -1 (logged); workers_free either way. */
int workers_init(workers_t *w, const config_t *cfg, int argc, char **argv);

/* Open every loop's listeners, run loops 1.. in threads and loop 0 on the
 * calling thread until shutdown; joins the others. 0, or 1 on failure. */
int workers_run(workers_t *w);

void workers_free(workers_t *w);

#endif
