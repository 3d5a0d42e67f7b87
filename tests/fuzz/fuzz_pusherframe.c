/* libFuzzer target for the Pusher event frame a published message becomes
 * (daemon/pusherwire.c pusher_message_frame): any message bytes, as an
 * emit publishes them, give a frame that is one JSON object of exactly
 * "event", "data" (a string) and "channel" with a correct WebSocket
 * header; a message that is not a named event is carried byte for byte
 * as the "message" event; the socket key skipped is 0 unless the message
 * names one. */
#include "channel.h"
#include "pusherwire.h"
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
        ch = channel_get(&t, "private-a", 9, 1000);
    }
    message_t m;
    if (channel_message_build(&m, ch, 5, 1000, (const char *)data, size) != 0) return 0;
    uint8_t off;
    buf_t *b = pusher_message_frame(&m, &off);
    if (b == NULL) abort(); /* only out of memory may fail */
    size_t at = PUSHER_FRAME_EXCEPT + WS_FRAME_HEADER_MAX, n = b->len - at;
    if (off + ws_frame_header_size(n) != at || b->data[off] != (0x80 | WS_OP_TEXT)) abort();
    json_error_t jerr;
    json_t *o = json_loadb((const char *)b->data + at, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    json_t *ev = json_object_get(o, "event"), *d = json_object_get(o, "data");
    if (!json_is_object(o) || json_object_size(o) != 3 || !json_is_string(ev) || !json_is_string(d) ||
        strcmp(json_string_value(json_object_get(o, "channel")), "private-a") != 0)
        abort();
    /* a named event keeps its name; anything else is the "message" event
     * carrying the message as it is (its base64 when it is not UTF-8) */
    json_t *msg = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &jerr);
    json_t *mev = json_object_get(msg, "event");
    if (json_is_object(msg) && json_is_string(mev) && json_object_get(msg, "data")) {
        if (strcmp(json_string_value(ev), json_string_value(mev)) != 0) abort();
    } else {
        if (strcmp(json_string_value(ev), "message") != 0 || pusher_frame_except(b) != 0) abort();
        if (utf8_valid(data, size) &&
            (json_string_length(d) != size || memcmp(json_string_value(d), data, size) != 0))
            abort();
    }
    json_decref(msg);
    json_decref(o);
    buf_unref(b);
    buf_unref(m.ws);
    return 0;
}
