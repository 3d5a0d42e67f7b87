/* Unit tests for daemon/sio.c: Engine.IO/Socket.IO packets a client sends,
 * polling payloads, and the event packet built once per message. */
#include "t.h"
#include "channel.h"
#include "sio.h"
#include "ws.h"

#include <stdlib.h>

static int parse(const char *s, sio_packet_t *p) { return sio_packet_parse(s, strlen(s), p); }

static void engine_io_types_parse_with_their_payload(void) {
    sio_packet_t p;
    CHECK_EQ_INT(parse("2probe", &p), 0);
    CHECK_EQ_INT(p.eio, EIO_PING);
    CHECK_MEM(p.data, p.data_len, "probe", 5);
    CHECK_EQ_INT(p.sio, SIO_NONE);
    CHECK_EQ_INT(parse("3", &p), 0);
    CHECK_EQ_INT(p.eio, EIO_PONG);
    CHECK_EQ_INT(parse("5", &p), 0);
    CHECK_EQ_INT(p.eio, EIO_UPGRADE);
    CHECK_EQ_INT(parse("", &p), SIO_EEMPTY);
    CHECK_EQ_INT(parse("7", &p), SIO_ETYPE);
    CHECK_EQ_INT(parse("bAAEC", &p), SIO_EBINARY);
}

static void connect_and_namespace(void) {
    sio_packet_t p;
    CHECK_EQ_INT(parse("40", &p), 0);
    CHECK_EQ_INT(p.sio, SIO_CONNECT);
    CHECK_EQ_INT(parse("40{\"token\":\"abc\"}", &p), 0);
    CHECK_EQ_INT(p.sio, SIO_CONNECT);
    CHECK_EQ_INT(parse("40/,", &p), 0);
    CHECK_EQ_INT(parse("40/admin,", &p), SIO_ENSP);
    CHECK_EQ_INT(parse("4", &p), SIO_EEMPTY);
    CHECK_EQ_INT(parse("4x", &p), SIO_ETYPE);
    CHECK_EQ_INT(parse("451-[\"x\",{\"_placeholder\":true,\"num\":0}]", &p), SIO_EBINARY);
}

static void events_carry_name_ack_and_first_string_argument(void) {
    sio_packet_t p;
    CHECK_EQ_INT(parse("42[\"subscribe\",\"news~v1.0.0.abc\"]", &p), 0);
    CHECK_EQ_INT(p.sio, SIO_EVENT);
    CHECK_STR(p.event, "subscribe");
    CHECK_EQ_INT(p.has_arg, 1);
    CHECK_STR(p.arg, "news~v1.0.0.abc");
    CHECK_EQ_INT(p.has_ack, 0);
    CHECK_EQ_INT(parse("4217[\"subscribe\",\"a\"]", &p), 0);
    CHECK_EQ_INT(p.has_ack, 1);
    CHECK_EQ_INT(p.ack, 17);
    CHECK_EQ_INT(parse("42[\"chat\",{\"a\":1}]", &p), 0);
    CHECK_STR(p.event, "chat");
    CHECK_EQ_INT(p.has_arg, 0);
    CHECK_EQ_INT(parse("42[1,2]", &p), SIO_EJSON);
    CHECK_EQ_INT(parse("42{\"a\":1}", &p), SIO_EJSON);
    CHECK_EQ_INT(parse("42[\"", &p), SIO_EJSON);
    CHECK_EQ_INT(parse("421234567890123456[\"x\"]", &p), SIO_EACK);
}

static void long_event_names_are_cut_and_long_arguments_dropped(void) {
    char in[1200];
    char name[100];
    memset(name, 'e', 99);
    name[99] = '\0';
    char arg[700];
    memset(arg, 'a', 699);
    arg[699] = '\0';
    snprintf(in, sizeof(in), "42[\"%s\",\"%s\"]", name, arg);
    sio_packet_t p;
    CHECK_EQ_INT(parse(in, &p), 0);
    CHECK_EQ_INT(strlen(p.event), SIO_EVENT_MAX);
    CHECK_EQ_INT(p.has_arg, 0);
}

static void payloads_split_at_record_separators(void) {
    const char *body = "40\x1e" "42[\"a\"]\x1e" "3";
    size_t pos = 0, n;
    const char *p;
    const char *want[] = {"40", "42[\"a\"]", "3"};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(sio_payload_next(body, strlen(body), &pos, &p, &n), 1);
        CHECK_MEM(p, n, want[i], strlen(want[i]));
    }
    CHECK_EQ_INT(sio_payload_next(body, strlen(body), &pos, &p, &n), 0);
    pos = 0; /* an empty body has no packet; a trailing separator ends it */
    CHECK_EQ_INT(sio_payload_next("", 0, &pos, &p, &n), 0);
    pos = 0;
    CHECK_EQ_INT(sio_payload_next("3\x1e", 2, &pos, &p, &n), 1);
    CHECK_EQ_INT(sio_payload_next("3\x1e", 2, &pos, &p, &n), 0);
}

/* The packet's bytes once the frame header room is skipped, as text. */
static char *packet_of(const char *channel, const char *data, size_t len) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *ch = channel_get(&t, channel, strlen(channel), 1000);
    message_t m;
    channel_message_build(&m, ch, 7, 1000, data, len);
    uint8_t off = 0;
    buf_t *b = sio_message_packet(&m, &off);
    char *out = NULL;
    if (b) {
        out = strndup((const char *)b->data + WS_FRAME_HEADER_MAX, b->len - WS_FRAME_HEADER_MAX);
        CHECK(off < WS_FRAME_HEADER_MAX);
        CHECK_EQ_INT(b->data[off], 0x81); /* a text frame, FIN */
    }
    buf_unref(b);
    buf_unref(m.ws);
    channel_table_free(&t);
    return out;
}

static void event_packets_carry_strings_and_json_values(void) {
    char *p = packet_of("id1", "hello", 5);
    CHECK_STR(p, "42[\"id1\",\"hello\"]");
    free(p);
    p = packet_of("news", "{\"a\":[1,2]}", 11);
    CHECK_STR(p, "42[\"news\",{\"a\":[1,2]}]");
    free(p);
    p = packet_of("q", "say \"hi\"\n", 9);
    CHECK_STR(p, "42[\"q\",\"say \\\"hi\\\"\\n\"]");
    free(p);
    p = packet_of("n", "42", 2); /* a number is not an object or array: a string */
    CHECK_STR(p, "42[\"n\",\"42\"]");
    free(p);
    p = packet_of("z", "a\0b", 3); /* a NUL is a character like any other */
    CHECK_STR(p, "42[\"z\",\"a\\u0000b\"]");
    free(p);
    p = packet_of("z", "{\"k\":\"\\u0000\"}", 14);
    CHECK_STR(p, "42[\"z\",{\"k\":\"\\u0000\"}]");
    free(p);
    p = packet_of("b", "\xff\xfe", 2); /* not UTF-8: its base64 */
    CHECK_STR(p, "42[\"b\",\"//4=\"]");
    free(p);
}

int main(void) {
    RUN(engine_io_types_parse_with_their_payload);
    RUN(connect_and_namespace);
    RUN(events_carry_name_ack_and_first_string_argument);
    RUN(long_event_names_are_cut_and_long_arguments_dropped);
    RUN(payloads_split_at_record_separators);
    RUN(event_packets_carry_strings_and_json_values);
    return T_DONE();
}
