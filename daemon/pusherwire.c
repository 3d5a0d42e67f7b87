#include "pusherwire.h"

#include "ws.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pusher_copy(char *out, size_t size, json_t *v) {
    if (!json_is_string(v) || json_string_length(v) >= size) return -1;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return (int)json_string_length(v);
}

int pusher_cmd_parse(const char *json, size_t len, pusher_cmd_t *out, const char **why) {
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *ev = root ? json_object_get(root, "event") : NULL;
    int rc = -1;
    *why = "not a JSON object with an event";
    if (!json_is_object(root) || !json_is_string(ev)) goto out;
    const char *e = json_string_value(ev);
    json_t *data = json_object_get(root, "data");
    if (strncmp(e, "client-", 7) == 0) {
        out->type = PUSHER_CLIENT_EVENT;
    } else if (strcmp(e, "pusher:ping") == 0) {
        out->type = PUSHER_PING;
    } else if (strcmp(e, "pusher:pong") == 0) {
        out->type = PUSHER_PONG;
    } else if (strcmp(e, "pusher:subscribe") == 0 || strcmp(e, "pusher:unsubscribe") == 0) {
        out->type = e[7] == 's' ? PUSHER_SUBSCRIBE : PUSHER_UNSUBSCRIBE;
        int n = json_is_object(data) ? pusher_copy(out->channel, sizeof(out->channel),
                                                   json_object_get(data, "channel")) : -1;
        *why = "a channel name of 1-164 bytes is needed";
        if (n <= 0) goto out;
        out->channel_len = (size_t)n;
        json_t *auth = json_object_get(data, "auth");
        *why = "auth is not a string of at most 200 bytes";
        if (auth && pusher_copy(out->auth, sizeof(out->auth), auth) < 0) goto out;
        json_t *cd = json_object_get(data, "channel_data");
        *why = "channel_data is not a string of at most 1024 bytes";
        if (cd && pusher_copy(out->channel_data, sizeof(out->channel_data), cd) < 0) goto out;
        out->has_channel_data = cd != NULL;
    } else {
        out->type = PUSHER_OTHER;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int pusher_auth_ok(const char *key, const unsigned char *secret, size_t secret_len,
                   const char *socket_id, const char *channel, size_t channel_len,
                   const char *channel_data, const char *auth) {
    size_t kl = strlen(key);
    if (strncmp(auth, key, kl) != 0 || auth[kl] != ':' || strlen(auth + kl + 1) != 64) return 0;
    char msg[64 + PUSHER_CHANNEL_MAX + PUSHER_CHANNEL_DATA_MAX + 4];
    int n = snprintf(msg, sizeof(msg), "%s:%.*s%s%s", socket_id, (int)channel_len, channel,
                     channel_data ? ":" : "", channel_data ? channel_data : "");
    if (n < 0 || (size_t)n >= sizeof(msg)) return 0;
    unsigned char mac[32];
    unsigned int ml = sizeof(mac);
    if (HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)msg, (size_t)n, mac,
             &ml) == NULL)
        return 0;
    char hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    return CRYPTO_memcmp(hex, auth + kl + 1, 64) == 0;
}

int pusher_presence_parse(const char *channel_data, char *user_id, size_t size, char **user_info) {
    json_error_t jerr;
    json_t *root = json_loads(channel_data, 0, &jerr);
    json_t *id = root ? json_object_get(root, "user_id") : NULL;
    int rc = -1;
    *user_info = NULL;
    if (json_is_string(id) && json_string_length(id) > 0 && json_string_length(id) < size) {
        memcpy(user_id, json_string_value(id), json_string_length(id) + 1);
    } else if (json_is_integer(id)) {
        snprintf(user_id, size, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    } else {
        goto out;
    }
    json_t *info = json_object_get(root, "user_info");
    *user_info = info ? json_dumps(info, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("null");
    rc = *user_info ? 0 : -1;
out:
    json_decref(root);
    return rc;
}

char *pusher_event_dumps(const char *event, const char *channel, size_t channel_len,
                         const char *data_json) {
    json_t *o = json_object();
    json_object_set_new(o, "event", json_string(event));
    if (channel) json_object_set_new(o, "channel", json_stringn(channel, channel_len));
    json_object_set_new(o, "data", json_string(data_json));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

int pusher_event_format(char *out, size_t size, const char *event, const char *channel,
                        size_t channel_len, const char *data_json) {
    char *s = pusher_event_dumps(event, channel, channel_len, data_json);
    int n = -1;
    if (s && strlen(s) < size) {
        n = (int)strlen(s);
        memcpy(out, s, (size_t)n + 1);
    }
    free(s);
    return n;
}

buf_t *pusher_event_frame(const char *event, const char *channel, size_t channel_len,
                          const char *data_json, size_t *off) {
    char *s = pusher_event_dumps(event, channel, channel_len, data_json);
    size_t n = s ? strlen(s) : 0;
    buf_t *b = s ? buf_new(WS_FRAME_HEADER_MAX + n) : NULL;
    if (b) {
        memcpy(b->data + WS_FRAME_HEADER_MAX, s, n);
        size_t hl = ws_frame_header_size(n);
        ws_frame_header_write(b->data + WS_FRAME_HEADER_MAX - hl, WS_OP_TEXT, n);
        b->len = WS_FRAME_HEADER_MAX + n;
        *off = WS_FRAME_HEADER_MAX - hl;
    }
    free(s);
    return b;
}

int pusher_socket_id_parse(const char *s, size_t n, uint64_t *key) {
    uint64_t part[2] = {0, 0};
    int over = 0;
    size_t i = 0;
    for (int k = 0; k < 2; k++) {
        size_t start = i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            part[k] = part[k] * 10 + (uint64_t)(s[i] - '0');
            if (part[k] > UINT32_MAX) over = 1;
            if (i - start == 20) return -1;
        }
        if (i == start) return -1;
        if (k == 0 && (i == n || s[i++] != '.')) return -1;
    }
    if (i != n) return -1;
    *key = over ? PUSHER_SOCKET_NOBODY : part[0] << 32 | part[1];
    if (*key == 0) *key = PUSHER_SOCKET_NOBODY; /* "0.0": 0 means nobody is skipped */
    return 0;
}

/* The event and data of a Herald message for Pusher clients, read back
 * from the envelope heraldd built for WebSocket (once per message), and
 * the socket it skips (*except, 0 for none). */
static json_t *pusher_event_of(const message_t *m, uint64_t *except) {
    const char *env = (const char *)m->ws->data + WS_FRAME_HEADER_MAX;
    json_error_t jerr;
    json_t *root = json_loadb(env, m->ws->len - WS_FRAME_HEADER_MAX, 0, &jerr);
    json_t *data = root ? json_object_get(root, "data") : NULL;
    json_t *ch = root ? json_object_get(root, "channel") : NULL;
    *except = 0;
    if (!json_is_string(data) || !json_is_string(ch)) {
        json_decref(root);
        return NULL;
    }
    json_t *o = json_object();
    json_t *named = json_loadb(json_string_value(data), json_string_length(data), 0, &jerr);
    json_t *nev = named ? json_object_get(named, "event") : NULL;
    json_t *ndata = named ? json_object_get(named, "data") : NULL;
    if (json_is_object(named) && json_is_string(nev) && ndata) {
        json_object_set(o, "event", nev);
        if (json_is_string(ndata)) {
            json_object_set(o, "data", ndata);
        } else {
            char *s = json_dumps(ndata, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
            json_object_set_new(o, "data", json_string(s ? s : "null"));
            free(s);
        }
        json_t *sid = json_object_get(named, "socket_id");
        if (json_is_string(sid) &&
            pusher_socket_id_parse(json_string_value(sid), json_string_length(sid), except) != 0)
            *except = 0; /* not a socket id: nobody to skip */
    } else {
        json_object_set_new(o, "event", json_string("message"));
        json_object_set(o, "data", data);
    }
    json_object_set(o, "channel", ch);
    json_decref(named);
    json_decref(root);
    return o;
}

buf_t *pusher_message_frame(const message_t *m, uint8_t *ws_off) {
    uint64_t except;
    json_t *o = pusher_event_of(m, &except);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s == NULL) return NULL;
    size_t n = strlen(s), at = PUSHER_FRAME_EXCEPT + WS_FRAME_HEADER_MAX;
    buf_t *b = buf_new(at + n);
    if (b) {
        memcpy(b->data, &except, sizeof(except));
        memcpy(b->data + at, s, n);
        size_t hl = ws_frame_header_size(n);
        ws_frame_header_write(b->data + at - hl, WS_OP_TEXT, n);
        b->len = at + n;
        *ws_off = (uint8_t)(at - hl);
    }
    free(s);
    return b;
}
