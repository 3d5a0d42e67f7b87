/* Unit tests for daemon/pusherwire.c: client messages, the auth signature
 * of private and presence channels (Pusher's documented example), presence
 * channel_data, and the event frame a Herald message becomes. */
#include "t.h"

#include <jansson.h>
#include "channel.h"
#include "pusherwire.h"
#include "ws.h"

#include <stdlib.h>

static int parse(const char *s, pusher_cmd_t *c) {
    const char *why;
    return pusher_cmd_parse(s, strlen(s), c, &why);
}

static void client_messages_parse_by_event(void) {
    pusher_cmd_t c;
    CHECK_EQ_INT(parse("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"private-a\",\"auth\":\"k:s\"}}", &c), 0);
    CHECK_EQ_INT(c.type, PUSHER_SUBSCRIBE);
    CHECK_STR(c.channel, "private-a");
    CHECK_STR(c.auth, "k:s");
    CHECK_EQ_INT(c.has_channel_data, 0);
    CHECK_EQ_INT(parse("{\"event\":\"pusher:unsubscribe\",\"data\":{\"channel\":\"a\"}}", &c), 0);
    CHECK_EQ_INT(c.type, PUSHER_UNSUBSCRIBE);
    CHECK_EQ_INT(parse("{\"event\":\"pusher:ping\",\"data\":{}}", &c), 0);
    CHECK_EQ_INT(c.type, PUSHER_PING);
    CHECK_EQ_INT(parse("{\"event\":\"client-typing\",\"channel\":\"private-a\",\"data\":{}}", &c), 0);
    CHECK_EQ_INT(c.type, PUSHER_CLIENT_EVENT);
    CHECK_EQ_INT(parse("{\"event\":\"pusher:signin\",\"data\":{}}", &c), 0);
    CHECK_EQ_INT(c.type, PUSHER_OTHER);
}

static void bad_client_messages_are_refused(void) {
    pusher_cmd_t c;
    CHECK_EQ_INT(parse("", &c), -1);
    CHECK_EQ_INT(parse("[]", &c), -1);
    CHECK_EQ_INT(parse("{\"event\":1}", &c), -1);
    CHECK_EQ_INT(parse("{\"event\":\"pusher:subscribe\",\"data\":{}}", &c), -1);
    CHECK_EQ_INT(parse("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"\"}}", &c), -1);
    CHECK_EQ_INT(parse("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"a\",\"auth\":7}}", &c), -1);
    CHECK_EQ_INT(parse("{\"event\":\"x\",\"event\":\"y\"}", &c), -1); /* duplicate keys */
    char big[400];
    memset(big, 'a', 300);
    big[300] = '\0';
    char msg[600];
    snprintf(msg, sizeof(msg), "{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"%s\"}}", big);
    CHECK_EQ_INT(parse(msg, &c), -1);
}

/* Pusher's documentation: key 278d425bdf160c739803, secret
 * 7ad3773142a6692b25b8, socket 1234.1234, channel private-foobar. */
static void auth_signature_matches_pushers_documented_example(void) {
    const unsigned char secret[] = "7ad3773142a6692b25b8";
    const char *auth = "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4";
    CHECK_EQ_INT(pusher_auth_ok("278d425bdf160c739803", secret, 20, "1234.1234", "private-foobar", 14, NULL, auth), 1);
    CHECK_EQ_INT(pusher_auth_ok("278d425bdf160c739803", secret, 20, "1234.1235", "private-foobar", 14, NULL, auth), 0);
    CHECK_EQ_INT(pusher_auth_ok("other-key", secret, 20, "1234.1234", "private-foobar", 14, NULL, auth), 0);
    CHECK_EQ_INT(pusher_auth_ok("278d425bdf160c739803", secret, 20, "1234.1234", "private-foobar", 14, NULL,
                                "278d425bdf160c739803:58df"), 0);
}

static void presence_channel_data_gives_id_and_info(void) {
    char id[PUSHER_USER_ID_MAX];
    char *info;
    CHECK_EQ_INT(pusher_presence_parse("{\"user_id\":42,\"user_info\":{\"name\":\"ann\"}}", id, sizeof(id), &info), 0);
    CHECK_STR(id, "42");
    CHECK_STR(info, "{\"name\":\"ann\"}");
    free(info);
    CHECK_EQ_INT(pusher_presence_parse("{\"user_id\":\"u-1\"}", id, sizeof(id), &info), 0);
    CHECK_STR(info, "null");
    free(info);
    CHECK_EQ_INT(pusher_presence_parse("{\"user_info\":{}}", id, sizeof(id), &info), -1);
    CHECK_EQ_INT(pusher_presence_parse("{\"user_id\":\"\"}", id, sizeof(id), &info), -1);
    CHECK_EQ_INT(pusher_presence_parse("not json", id, sizeof(id), &info), -1);
}

static char *frame_of(const char *data) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *ch = channel_get(&t, "private-a", 9, 1000);
    message_t m;
    channel_message_build(&m, ch, 5, 1000, data, strlen(data));
    uint8_t off;
    buf_t *b = pusher_message_frame(&m, &off);
    char *s = b ? strndup((const char *)b->data + PUSHER_FRAME_EXCEPT + WS_FRAME_HEADER_MAX, b->len - PUSHER_FRAME_EXCEPT - WS_FRAME_HEADER_MAX) : NULL;
    buf_unref(b);
    buf_unref(m.ws);
    channel_table_free(&t);
    return s;
}

static void herald_messages_become_pusher_events(void) {
    char *s = frame_of("{\"event\":\"OrderShipped\",\"data\":{\"id\":7}}");
    CHECK_STR(s, "{\"event\":\"OrderShipped\",\"data\":\"{\\\"id\\\":7}\",\"channel\":\"private-a\"}");
    free(s);
    s = frame_of("{\"event\":\"Note\",\"data\":\"text\"}");
    CHECK_STR(s, "{\"event\":\"Note\",\"data\":\"text\",\"channel\":\"private-a\"}");
    free(s);
    s = frame_of("plain");
    CHECK_STR(s, "{\"event\":\"message\",\"data\":\"plain\",\"channel\":\"private-a\"}");
    free(s);
}

static void socket_ids_parse_as_pusher_checks_them(void) {
    uint64_t k = 0;
    CHECK_EQ_INT(pusher_socket_id_parse("123.456", 7, &k), 0);
    CHECK(k == ((uint64_t)123 << 32 | 456));
    CHECK_EQ_INT(pusher_socket_id_parse("0.1", 3, &k), 0);
    CHECK(k == 1);
    CHECK_EQ_INT(pusher_socket_id_parse("0.0", 3, &k), 0);
    CHECK(k == PUSHER_SOCKET_NOBODY); /* 0 would mean "skip nobody" */
    CHECK_EQ_INT(pusher_socket_id_parse("4294967296.1", 12, &k), 0);
    CHECK(k == PUSHER_SOCKET_NOBODY); /* well-formed, names none of ours */
    CHECK_EQ_INT(pusher_socket_id_parse("12345678901234567890.1", 22, &k), 0);
    CHECK_EQ_INT(pusher_socket_id_parse("123456789012345678901.1", 23, &k), -1);
    CHECK_EQ_INT(pusher_socket_id_parse("1.123456789012345678901", 23, &k), -1);
    const char *bad[] = {"", ".", "1", "1.", ".1", "1.2.3", "a.1", "1.a", "-1.2", "1.2 ", " 1.2", "1,2", "+1.2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(pusher_socket_id_parse(bad[i], strlen(bad[i]), &k), -1);
    CHECK_EQ_INT(pusher_socket_id_parse("1.2", 2, &k), -1); /* only the n bytes given */
}

static uint64_t except_of(const char *data) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *ch = channel_get(&t, "private-a", 9, 1000);
    message_t m;
    channel_message_build(&m, ch, 5, 1000, data, strlen(data));
    uint8_t off;
    buf_t *b = pusher_message_frame(&m, &off);
    uint64_t k = b ? pusher_frame_except(b) : 42;
    buf_unref(b);
    buf_unref(m.ws);
    channel_table_free(&t);
    return k;
}

static void a_socket_id_in_the_message_names_who_is_skipped(void) {
    CHECK(except_of("{\"event\":\"E\",\"data\":{},\"socket_id\":\"7.9\"}") == ((uint64_t)7 << 32 | 9));
    CHECK(except_of("{\"event\":\"E\",\"data\":{}}") == 0);
    CHECK(except_of("{\"event\":\"E\",\"data\":{},\"socket_id\":\"x\"}") == 0);
    CHECK(except_of("{\"event\":\"E\",\"data\":{},\"socket_id\":7}") == 0);
    CHECK(except_of("{\"socket_id\":\"7.9\"}") == 0); /* not an event: the "message" event, to all */
    CHECK(except_of("plain") == 0);
    /* the socket id is not part of what Pusher clients get */
    char *s = frame_of("{\"event\":\"E\",\"data\":\"d\",\"socket_id\":\"7.9\"}");
    CHECK_STR(s, "{\"event\":\"E\",\"data\":\"d\",\"channel\":\"private-a\"}");
    free(s);
}

/* The frame, parsed back: its event and data equal these. */
static void check_frame(const char *data, size_t len, const char *event, const char *want, size_t want_len) {
    channel_table_t t;
    channel_table_init(&t);
    channel_t *ch = channel_get(&t, "private-a", 9, 1000);
    message_t m;
    channel_message_build(&m, ch, 5, 1000, data, len);
    uint8_t off;
    buf_t *b = pusher_message_frame(&m, &off);
    CHECK(b != NULL);
    if (b) {
        size_t at = PUSHER_FRAME_EXCEPT + WS_FRAME_HEADER_MAX;
        CHECK(off + ws_frame_header_size(b->len - at) == at);
        json_error_t jerr;
        json_t *o = json_loadb((const char *)b->data + at, b->len - at, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                               &jerr);
        CHECK(json_is_object(o) && json_object_size(o) == 3);
        CHECK_STR(json_string_value(json_object_get(o, "event")), event);
        CHECK_STR(json_string_value(json_object_get(o, "channel")), "private-a");
        json_t *d = json_object_get(o, "data");
        CHECK(json_is_string(d) && json_string_length(d) == want_len &&
              memcmp(json_string_value(d), want, want_len) == 0);
        json_decref(o);
    }
    buf_unref(b);
    buf_unref(m.ws);
    channel_table_free(&t);
}

static void frames_escape_and_copy_any_message(void) {
    const char ctl[] = "a\"b\\c\n\r\t\b\f\x01\x1f/\xc3\xa9\xe2\x80\xa8z";
    check_frame(ctl, sizeof(ctl) - 1, "message", ctl, sizeof(ctl) - 1);
    check_frame("", 0, "message", "", 0);
    check_frame("{not json", 9, "message", "{not json", 9);
    check_frame("{\"event\":7,\"data\":1}", 20, "message", "{\"event\":7,\"data\":1}", 20);
    check_frame("[1,2]", 5, "message", "[1,2]", 5);
    /* not UTF-8: heraldd sends base64, Pusher clients get it the same */
    check_frame("\xff\xfe", 2, "message", "//4=", 4);
    /* named events, however the object starts and whatever data holds */
    const char *n1 = " {\"event\":\"E\\\"q\",\"data\":\"line\\n\\u0001\"}";
    check_frame(n1, strlen(n1), "E\"q", "line\n\x01", 6);
    const char *n2 = "\n\t{\"event\":\"E\",\"data\":{\"s\":\"a\\\"b\",\"n\":[1,null]}}";
    check_frame(n2, strlen(n2), "E", "{\"s\":\"a\\\"b\",\"n\":[1,null]}", strlen("{\"s\":\"a\\\"b\",\"n\":[1,null]}"));
    const char *n3 = "{\"event\":\"E\",\"data\":null}";
    check_frame(n3, strlen(n3), "E", "null", 4);
    const char *n4 = "{\"event\":\"E\",\"data\":\"\\u00e9\\u2028\"}";
    check_frame(n4, strlen(n4), "E", "\xc3\xa9\xe2\x80\xa8", 5);
}

/* A NUL is a character like any other: a named event whose strings hold
 * one (escaped or raw) keeps its name, and a raw one is carried as is. */
static void nul_characters_do_not_unname_an_event(void) {
    const char n1[] = "{\"event\":\"E\",\"data\":{\"k\":\"a\\u0000b\"},\"socket_id\":\"1\\u0000\"}";
    check_frame(n1, sizeof(n1) - 1, "E", "{\"k\":\"a\\u0000b\"}", 16);
    const char n2[] = "{\"event\":\"E\\u0000F\",\"data\":\"x\\u0000\"}";
    check_frame(n2, sizeof(n2) - 1, "E", "x", 2);
    const char raw[] = "a\0b";
    check_frame(raw, 3, "message", raw, 3);
}

int main(void) {
    RUN(client_messages_parse_by_event);
    RUN(bad_client_messages_are_refused);
    RUN(auth_signature_matches_pushers_documented_example);
    RUN(presence_channel_data_gives_id_and_info);
    RUN(herald_messages_become_pusher_events);
    RUN(socket_ids_parse_as_pusher_checks_them);
    RUN(a_socket_id_in_the_message_names_who_is_skipped);
    RUN(frames_escape_and_copy_any_message);
    RUN(nul_characters_do_not_unname_an_event);
    return T_DONE();
}
