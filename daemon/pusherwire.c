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

/* JSON string escaping as the Herald envelope's (quote, backslash and
 * controls); the length it takes first, so a frame is allocated exactly. */
static size_t pusher_escaped_len(const unsigned char *s, size_t n) {
    size_t out = n;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"' || s[i] == '\\') out += 1;
        else if (s[i] < 0x20) out += 5;
    return out;
}

static size_t pusher_escape(unsigned char *o, const unsigned char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    unsigned char *start = o;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = c;
        } else if (c < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = (unsigned char)hex[c >> 4];
            o[5] = (unsigned char)hex[c & 15];
            o += 6;
        } else {
            *o++ = c;
        }
    }
    return (size_t)(o - start);
}

/* The inverse of the envelope's escaping (channel_message_build writes
 * only \" \\ \n \r \t \b \f and \u00XX): the message's own bytes. Its
 * length, or -1 on anything else. */
static long pusher_unescape(char *o, const char *s, size_t n) {
    char *start = o;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            *o++ = s[i];
            continue;
        }
        if (++i == n) return -1;
        switch (s[i]) {
        case '"': case '\\': case '/': *o++ = s[i]; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            unsigned v = 0;
            if (n - i < 5 || s[i + 1] != '0' || s[i + 2] != '0') return -1;
            for (int k = 3; k <= 4; k++) {
                char h = s[i + k];
                v = v << 4 | (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : 99);
            }
            if (v > 0xff) return -1;
            *o++ = (char)v;
            i += 4;
            break;
        }
        default: return -1;
        }
    }
    return (long)(o - start);
}

/* Where channel_message_build put the channel name and the data in a
 * message's envelope {"type":"message","channel":NAME,"id":N,"data":DATA}
 * (DATA escaped, or base64 with "encoding"). 0 or -1. */
#define PUSHER_ENV_HEAD "{\"type\":\"message\",\"channel\":\""
#define PUSHER_ENV_B64 "\",\"encoding\":\"base64\"}"
typedef struct pusher_env {
    const char *name, *data;
    size_t name_len, data_len;
    int text;
} pusher_env_t;

static int pusher_env_read(const message_t *m, pusher_env_t *e) {
    const char *env = (const char *)m->ws->data + WS_FRAME_HEADER_MAX;
    size_t n = m->ws->len - WS_FRAME_HEADER_MAX, hl = sizeof(PUSHER_ENV_HEAD) - 1;
    size_t bl = sizeof(PUSHER_ENV_B64) - 1;
    const char *end = env + n;
    if (n < hl || memcmp(env, PUSHER_ENV_HEAD, hl) != 0) return -1;
    e->name = env + hl;
    const char *q = memchr(e->name, '"', (size_t)(end - e->name));
    const char *d = q ? memmem(q, (size_t)(end - q), ",\"data\":\"", 9) : NULL;
    if (d == NULL) return -1;
    e->name_len = (size_t)(q - e->name);
    e->data = d + 9;
    e->text = !((size_t)(end - e->data) >= bl && memcmp(end - bl, PUSHER_ENV_B64, bl) == 0);
    const char *de = e->text ? end - 2 : end - bl;
    if (de < e->data || (e->text && memcmp(de, "\"}", 2) != 0)) return -1;
    e->data_len = (size_t)(de - e->data);
    return 0;
}

/* A frame {"event":EV,"data":DATA,"channel":NAME} from its parts, each
 * already escaped (*_esc) or to be escaped here, with the socket key it
 * skips in front (pusher_frame_except) and WebSocket header room. */
static buf_t *pusher_frame_build(const char *ev, size_t ev_len, int ev_esc, const char *data,
                                 size_t data_len, int data_esc, const pusher_env_t *e,
                                 uint64_t except, uint8_t *ws_off) {
    const unsigned char *ue = (const unsigned char *)ev, *ud = (const unsigned char *)data;
    size_t el = ev_esc ? ev_len : pusher_escaped_len(ue, ev_len);
    size_t dl = data_esc ? data_len : pusher_escaped_len(ud, data_len);
    size_t n = 10 + el + 10 + dl + 13 + e->name_len + 2; /* {"event":" ","data":" ","channel":" "} */
    size_t at = PUSHER_FRAME_EXCEPT + WS_FRAME_HEADER_MAX;
    buf_t *b = buf_new(at + n);
    if (b == NULL) return NULL;
    unsigned char *o = b->data + at;
    memcpy(o, "{\"event\":\"", 10);
    o += 10;
    if (ev_esc) memcpy(o, ev, el);
    else pusher_escape(o, ue, ev_len);
    o += el;
    memcpy(o, "\",\"data\":\"", 10);
    o += 10;
    if (data_esc) memcpy(o, data, dl);
    else pusher_escape(o, ud, data_len);
    o += dl;
    memcpy(o, "\",\"channel\":\"", 13);
    o += 13;
    memcpy(o, e->name, e->name_len);
    o += e->name_len;
    memcpy(o, "\"}", 2);
    memcpy(b->data, &except, sizeof(except));
    size_t hl = ws_frame_header_size(n);
    ws_frame_header_write(b->data + at - hl, WS_OP_TEXT, n);
    b->len = at + n;
    *ws_off = (uint8_t)(at - hl);
    return b;
}

/* A message that is a JSON object with a string "event" and a "data":
 * that event (NULL when it is not one), parsed from the message's own
 * bytes once per message per loop. */
static buf_t *pusher_named_frame(const pusher_env_t *e, uint8_t *ws_off) {
    char *msg = malloc(e->data_len + 1);
    long len = msg ? pusher_unescape(msg, e->data, e->data_len) : -1;
    json_error_t jerr;
    json_t *named = len >= 0 ? json_loadb(msg, (size_t)len, JSON_ALLOW_NUL, &jerr) : NULL;
    free(msg);
    json_t *nev = json_object_get(named, "event"), *ndata = json_object_get(named, "data");
    buf_t *b = NULL;
    if (json_is_object(named) && json_is_string(nev) && ndata) {
        uint64_t except = 0;
        json_t *sid = json_object_get(named, "socket_id");
        if (json_is_string(sid) &&
            pusher_socket_id_parse(json_string_value(sid), json_string_length(sid), &except) != 0)
            except = 0; /* not a socket id: nobody to skip */
        char *dumped = json_is_string(ndata) ? NULL
                       : json_dumps(ndata, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        const char *d = dumped ? dumped : json_is_string(ndata) ? json_string_value(ndata) : "null";
        size_t dl = dumped ? strlen(dumped) : json_is_string(ndata) ? json_string_length(ndata) : 4;
        b = pusher_frame_build(json_string_value(nev), json_string_length(nev), 0, d, dl, 0, e, except,
                               ws_off);
        free(dumped);
        if (b == NULL) b = (buf_t *)-1; /* out of memory, not "not named" */
    }
    json_decref(named);
    return b;
}

/* Most messages are not named events: their escaped bytes in the envelope
 * are the Pusher frame's data as they are, copied without parsing. Only a
 * text whose first byte may open a JSON object is parsed. */
buf_t *pusher_message_frame(const message_t *m, uint8_t *ws_off) {
    pusher_env_t e;
    if (pusher_env_read(m, &e) != 0) return NULL;
    if (e.text && e.data_len > 0 && (e.data[0] == '{' || e.data[0] == ' ' || e.data[0] == '\\')) {
        buf_t *b = pusher_named_frame(&e, ws_off);
        if (b == (buf_t *)-1) return NULL;
        if (b) return b;
    }
    return pusher_frame_build("message", 7, 1, e.data, e.data_len, 1, &e, 0, ws_off);
}
