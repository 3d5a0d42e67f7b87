#include "webhookwire.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

webhook_event_t *webhook_event_new(int kind, const char *channel, size_t channel_len,
                                   const char *user_id) {
    size_t ul = user_id ? strlen(user_id) + 1 : 0;
    if (channel_len > UINT16_MAX) return NULL;
    webhook_event_t *e = malloc(sizeof(*e) + channel_len + 1 + ul);
    if (e == NULL) return NULL;
    e->next = NULL;
    e->kind = kind;
    e->channel_len = (uint16_t)channel_len;
    memcpy(e->channel, channel, channel_len);
    e->channel[channel_len] = '\0';
    e->user_id = NULL;
    if (user_id) {
        char *u = e->channel + channel_len + 1;
        memcpy(u, user_id, ul);
        e->user_id = u;
    }
    return e;
}

size_t webhook_events_free(webhook_event_t *list) {
    size_t n = 0;
    while (list) {
        webhook_event_t *next = list->next;
        free(list);
        list = next;
        n++;
    }
    return n;
}

static const char *webhook_event_name(int kind) {
    switch (kind) {
    case WEBHOOK_CHANNEL_OCCUPIED: return "channel_occupied";
    case WEBHOOK_CHANNEL_VACATED: return "channel_vacated";
    case WEBHOOK_MEMBER_ADDED: return "member_added";
    case WEBHOOK_MEMBER_REMOVED: return "member_removed";
    default: return NULL;
    }
}

/* Pusher's batch: the time it was sent, and each event with its channel
 * (and user_id for member events). jansson escapes the strings. */
char *webhook_body_format(const webhook_event_t *list, size_t n, uint64_t time_ms, size_t *len) {
    json_t *events = json_array();
    json_t *o = json_object();
    int bad = events == NULL || o == NULL;
    for (const webhook_event_t *e = list; e && n && !bad; e = e->next, n--) {
        const char *name = webhook_event_name(e->kind);
        json_t *ev = name ? json_object() : NULL;
        bad = ev == NULL;
        if (bad) break;
        json_object_set_new(ev, "name", json_string(name));
        json_object_set_new(ev, "channel", json_stringn(e->channel, e->channel_len));
        if (e->user_id) json_object_set_new(ev, "user_id", json_string(e->user_id));
        bad = json_array_append_new(events, ev) != 0;
    }
    char *s = NULL;
    if (!bad) {
        json_object_set_new(o, "time_ms", json_integer((json_int_t)time_ms));
        json_object_set(o, "events", events);
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    }
    json_decref(events);
    json_decref(o);
    if (s) *len = strlen(s);
    return s;
}

void webhook_signature(const unsigned char *secret, size_t secret_len, const char *body,
                       size_t len, char hex[65]) {
    unsigned char mac[32];
    unsigned int ml = sizeof(mac);
    if (HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)body, len, mac, &ml) == NULL)
        memset(mac, 0, sizeof(mac));
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}
