/* Pusher webhooks (README "Laravel and Pusher clients"): loop 0 takes the
 * events the hub queued (channels occupied and vacated, presence members
 * added and removed), batches them as Pusher does and POSTs each batch,
 * signed, to the webhook URL of every app in pusher_apps_file that has
 * one. libcurl's multi interface runs on the loop (uv_poll for its
 * sockets, a uv_timer for its timeouts): nothing waits for a receiver. A
 * failed POST is tried again with backoff; what cannot be held within
 * webhook_queue_size is dropped and counted. */
#ifndef HERALD_WEBHOOK_H
#define HERALD_WEBHOOK_H

#include "loop.h"

typedef struct webhook webhook_t;

/* Start on loop (loop 0; before other threads run: it initializes
 * libcurl). NULL when out of memory (logged): no webhooks then. */
webhook_t *webhook_start(loop_t *loop);

/* The loop's apps or limits changed (start, reload): queue events while
 * some app has a webhook URL, none otherwise. */
void webhook_configure(webhook_t *w);

/* Stop: what is queued or being sent is dropped; the memory goes when the
 * loop has closed the handles. NULL is ignored. */
void webhook_stop(webhook_t *w);

#endif
