/* libFuzzer target for the socket.io packet a published message becomes
 * (daemon/sio.c sio_message_packet): any message bytes, as an emit
 * publishes them, give one text frame holding `42` and a JSON array of
 * the channel and one value; the value is the message's own JSON when it
 * is an object or array, else the message as a string (its base64 when
 * it is not UTF-8). A NUL in the message is a character like any other. */
#include "channel.h"
#include "sio.h"
#include "utf8.h"
#include "ws.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static channel_table_t t;
    static channel_t *ch;
    if (ch == NULL) {
        channel_table_init(&t);
        ch = channel_get(&t, "news", 4, 1000);
    }
    message_t m;
    if (channel_message_build(&m, ch, 5, 1000, (const char *)data, size) != 0) return 0;
    uint8_t off;
    buf_t *b = sio_message_packet(&m, &off);
    if (b == NULL) abort(); /* only out of memory may fail */
    size_t n = b->len - WS_FRAME_HEADER_MAX;
    const char *p = (const char *)b->data + WS_FRAME_HEADER_MAX;
    if (off + ws_frame_header_size(n) != WS_FRAME_HEADER_MAX || b->data[off] != (0x80 | WS_OP_TEXT))
        abort();
    if (n < 2 || memcmp(p, "42", 2) != 0 || !utf8_valid((const uint8_t *)p, n)) abort();
    json_error_t jerr;
    json_t *a = json_loadb(p + 2, n - 2, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    json_t *name = json_array_get(a, 0), *v = json_array_get(a, 1);
    if (!json_is_array(a) || json_array_size(a) != 2 || !json_is_string(name) ||
        strcmp(json_string_value(name), "news") != 0)
        abort();
    json_t *msg = json_loadb((const char *)data, size, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    if (json_is_object(msg) || json_is_array(msg)) {
        if (!json_equal(msg, v)) abort();
    } else if (!json_is_string(v)) {
        abort();
    } else if (utf8_valid(data, size) &&
               (json_string_length(v) != size || memcmp(json_string_value(v), data, size) != 0)) {
        abort();
    }
    json_decref(msg);
    json_decref(a);
    buf_unref(b);
    buf_unref(m.ws);
    return 0;
}
