/* Pusher webhooks on the wire (README "Laravel and Pusher clients"): the
 * events (channel_occupied, channel_vacated, member_added, member_removed)
 * as queued records, the batch body Pusher sends
 * ({"time_ms":…,"events":[…]}) and its signature (X-Pusher-Signature: hex
 * HMAC-SHA256 of the body with the app's secret). */
#ifndef HERALD_WEBHOOKWIRE_H
#define HERALD_WEBHOOKWIRE_H

#include <stddef.h>
#include <stdint.h>

enum {
    WEBHOOK_CHANNEL_OCCUPIED = 1,
    WEBHOOK_CHANNEL_VACATED,
    WEBHOOK_MEMBER_ADDED,
    WEBHOOK_MEMBER_REMOVED,
};

/* One event, in a singly linked list; one allocation each. */
typedef struct webhook_event {
    struct webhook_event *next;
    int kind;                  /* WEBHOOK_* */
    const char *user_id;       /* member events; inside the allocation */
    uint16_t channel_len;
    char channel[];
} webhook_event_t;

/* A new event (user_id NULL but for member events), or NULL. free() it. */
webhook_event_t *webhook_event_new(int kind, const char *channel, size_t channel_len,
                                   const char *user_id);

/* Free a list of events; how many there were. */
size_t webhook_events_free(webhook_event_t *list);

/* The body of a batch of the first n events of list (malloc'd, *len its
 * length), or NULL when out of memory. */
char *webhook_body_format(const webhook_event_t *list, size_t n, uint64_t time_ms, size_t *len);

/* X-Pusher-Signature: hex HMAC-SHA256(secret, body) into hex (65 bytes). */
void webhook_signature(const unsigned char *secret, size_t secret_len, const char *body,
                       size_t len, char hex[65]);

#endif
