#include "sio.h"

#include "ws.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sio_strerror(int err) {
    switch (err) {
    case SIO_EEMPTY: return "empty packet";
    case SIO_ETYPE: return "unknown packet type";
    case SIO_EBINARY: return "binary packets are not accepted";
    case SIO_ENSP: return "only the default namespace \"/\" exists";
    case SIO_EACK: return "bad ack id";
    case SIO_EJSON: return "an event must be a JSON array starting with its name";
    default: return "ok";
    }
}

/* An event's name and first argument (when a short string): what a
 * subscribe needs; anything else about an event is ignored. */
static int sio_event_parse(sio_packet_t *out) {
    json_error_t jerr;
    json_t *a = json_loadb(out->data, out->data_len, 0, &jerr);
    if (a == NULL || !json_is_array(a) || json_array_size(a) == 0 ||
        !json_is_string(json_array_get(a, 0))) {
        json_decref(a);
        return SIO_EJSON;
    }
    const char *ev = json_string_value(json_array_get(a, 0));
    snprintf(out->event, sizeof(out->event), "%s", ev);
    json_t *arg = json_array_get(a, 1);
    if (arg && json_is_string(arg) && json_string_length(arg) <= SIO_ARG_MAX) {
        memcpy(out->arg, json_string_value(arg), json_string_length(arg));
        out->arg[json_string_length(arg)] = '\0';
        out->has_arg = 1;
    }
    json_decref(a);
    return 0;
}

int sio_packet_parse(const char *p, size_t n, sio_packet_t *out) {
    memset(out, 0, sizeof(*out));
    out->sio = SIO_NONE;
    if (n == 0) return SIO_EEMPTY;
    if (p[0] == 'b') return SIO_EBINARY;
    if (p[0] < '0' || p[0] > '6') return SIO_ETYPE;
    out->eio = p[0] - '0';
    out->data = p + 1;
    out->data_len = n - 1;
    if (out->eio != EIO_MESSAGE) return 0;
    if (n < 2) return SIO_EEMPTY;
    if (p[1] < '0' || p[1] > '6') return SIO_ETYPE;
    out->sio = p[1] - '0';
    if (out->sio == SIO_BINARY_EVENT || out->sio == SIO_BINARY_ACK) return SIO_EBINARY;
    size_t i = 2;
    if (i < n && p[i] == '/') { /* a namespace: only "/" itself, written "/," */
        size_t j = i;
        while (j < n && p[j] != ',') j++;
        if (j - i != 1) return SIO_ENSP;
        i = j < n ? j + 1 : j;
    }
    size_t digits = 0;
    uint64_t ack = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
        if (++digits > 15) return SIO_EACK;
        ack = ack * 10 + (uint64_t)(p[i++] - '0');
    }
    out->has_ack = digits > 0;
    out->ack = ack;
    out->data = p + i;
    out->data_len = n - i;
    if (out->sio == SIO_EVENT) return sio_event_parse(out);
    return 0;
}

int sio_payload_next(const char *body, size_t len, size_t *pos, const char **pkt,
                     size_t *pkt_len) {
    if (*pos > len || (*pos == len && len > 0)) return 0;
    if (len == 0) {
        *pos = 1;
        return 0;
    }
    const char *start = body + *pos;
    const char *rs = memchr(start, SIO_RS, len - *pos);
    size_t n = rs ? (size_t)(rs - start) : len - *pos;
    *pkt = start;
    *pkt_len = n;
    *pos += n + (rs ? 1 : 0);
    if (rs && *pos == len) *pos = len + 1; /* a trailing separator ends it too */
    return 1;
}

/* The message's data as JSON: the envelope heraldd built for WebSocket
 * holds it (escaped, or base64 with "encoding"), so it is read back from
 * there once per message rather than kept twice. */
static char *sio_data_json(const message_t *m, size_t *len) {
    const char *env = (const char *)m->ws->data + WS_FRAME_HEADER_MAX;
    size_t n = m->ws->len - WS_FRAME_HEADER_MAX;
    json_error_t jerr;
    json_t *root = json_loadb(env, n, JSON_ALLOW_NUL, &jerr);
    json_t *data = root ? json_object_get(root, "data") : NULL;
    char *out = NULL;
    if (data && json_is_string(data) && json_object_get(root, "encoding") == NULL) {
        json_t *v = json_loadb(json_string_value(data), json_string_length(data), JSON_ALLOW_NUL, &jerr);
        if (v && (json_is_object(v) || json_is_array(v)))
            out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        json_decref(v);
    }
    if (out == NULL && data) out = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(root);
    if (out) *len = strlen(out);
    return out;
}

buf_t *sio_message_packet(const message_t *m, uint8_t *ws_off) {
    const char *env = (const char *)m->ws->data + WS_FRAME_HEADER_MAX;
    size_t envlen = m->ws->len - WS_FRAME_HEADER_MAX; /* not NUL-terminated */
    const char *name = memmem(env, envlen, "\"channel\":\"", 11);
    if (name == NULL) return NULL;
    name += 11;
    const char *end = memchr(name, '"', envlen - (size_t)(name - env));
    size_t dl;
    char *data = sio_data_json(m, &dl);
    if (end == NULL || data == NULL) {
        free(data);
        return NULL;
    }
    size_t nl = (size_t)(end - name);
    size_t plen = 4 + nl + 2 + dl + 1; /* 42[" name ", data ] */
    buf_t *b = buf_new(WS_FRAME_HEADER_MAX + plen);
    if (b == NULL) {
        free(data);
        return NULL;
    }
    unsigned char *o = b->data + WS_FRAME_HEADER_MAX;
    memcpy(o, "42[\"", 4);
    memcpy(o + 4, name, nl);
    memcpy(o + 4 + nl, "\",", 2);
    memcpy(o + 6 + nl, data, dl);
    o[6 + nl + dl] = ']';
    free(data);
    size_t hl = ws_frame_header_size(plen);
    ws_frame_header_write(b->data + WS_FRAME_HEADER_MAX - hl, WS_OP_TEXT, plen);
    b->len = WS_FRAME_HEADER_MAX + plen;
    *ws_off = (uint8_t)(WS_FRAME_HEADER_MAX - hl);
    return b;
}
