/* Unit tests for daemon/command.c: each command, each error code, wrong
 * types, missing fields, non-object JSON, and the answer formats. */
#include "t.h"
#include "command.h"

static int parse(const char *json, command_t *c, const char **code, const char **reason) {
    *code = *reason = NULL;
    return command_parse(json, strlen(json), c, code, reason);
}

static void subscribe_with_since_parses(void) {
    command_t c;
    const char *code, *reason;
    CHECK_EQ_INT(parse("{\"type\":\"subscribe\",\"req\":7,\"channel\":\"orders~v1.0.0.x\",\"since\":1732530000000001}",
                       &c, &code, &reason), 0);
    CHECK_EQ_INT(c.type, CMD_SUBSCRIBE);
    CHECK_EQ_INT(c.req, 7);
    CHECK_STR(c.channel, "orders~v1.0.0.x");
    CHECK(c.has_since);
    CHECK(c.since == 1732530000000001ULL);
}

static void unsubscribe_and_ping_parse(void) {
    command_t c;
    const char *code, *reason;
    CHECK_EQ_INT(parse("{\"type\":\"unsubscribe\",\"req\":2,\"channel\":\"a\"}", &c, &code, &reason), 0);
    CHECK_EQ_INT(c.type, CMD_UNSUBSCRIBE);
    CHECK_EQ_INT(parse("{\"type\":\"ping\",\"req\":-3}", &c, &code, &reason), 0);
    CHECK_EQ_INT(c.type, CMD_PING);
    CHECK_EQ_INT(c.req, -3);
    CHECK_EQ_INT(parse("{\"type\":\"subscribe\",\"req\":1,\"channel\":\"a\",\"since\":null,\"x\":[1]}", &c, &code, &reason), 0);
    CHECK(!c.has_since);
}

static void expect_err(const char *json, const char *want_code, int want_req) {
    command_t c;
    const char *code, *reason;
    CHECK_EQ_INT(parse(json, &c, &code, &reason), -1);
    if (code == NULL || strcmp(code, want_code) != 0) {
        fprintf(stderr, "  %s -> %s, expected %s\n", json, code ? code : "(null)", want_code);
        t_failed_checks++;
    }
    CHECK(reason != NULL && reason[0] != '\0');
    CHECK_EQ_INT(c.has_req, want_req >= 0);
    if (want_req >= 0) CHECK_EQ_INT(c.req, want_req);
}

static void every_bad_request_is_named(void) {
    expect_err("not json", "bad_request", -1);
    expect_err("", "bad_request", -1);
    expect_err("[1,2]", "bad_request", -1);
    expect_err("\"subscribe\"", "bad_request", -1);
    expect_err("{\"type\":\"publish\",\"req\":4}", "bad_request", 4);
    expect_err("{\"req\":4}", "bad_request", 4);
    expect_err("{\"type\":5,\"req\":4}", "bad_request", 4);
    expect_err("{\"type\":\"ping\"}", "bad_request", -1);
    expect_err("{\"type\":\"ping\",\"req\":\"1\"}", "bad_request", -1);
    expect_err("{\"type\":\"ping\",\"req\":1.5}", "bad_request", -1);
    expect_err("{\"type\":\"subscribe\",\"req\":1}", "bad_request", 1);
    expect_err("{\"type\":\"subscribe\",\"req\":1,\"channel\":7}", "bad_request", 1);
    expect_err("{\"type\":\"subscribe\",\"req\":1,\"channel\":\"a\",\"since\":-1}", "bad_request", 1);
    expect_err("{\"type\":\"subscribe\",\"req\":1,\"channel\":\"a\",\"since\":\"5\"}", "bad_request", 1);
    expect_err("{\"type\":\"ping\",\"req\":1,\"req\":2}", "bad_request", -1);
}

static void bad_channel_strings_are_invalid_channel(void) {
    expect_err("{\"type\":\"subscribe\",\"req\":1,\"channel\":\"\"}", "invalid_channel", 1);
    /* jansson refuses \u0000 without JSON_ALLOW_NUL: not JSON at all */
    expect_err("{\"type\":\"subscribe\",\"req\":1,\"channel\":\"a\\u0000b\"}", "bad_request", -1);
    char big[1200];
    int n = snprintf(big, sizeof(big), "{\"type\":\"subscribe\",\"req\":1,\"channel\":\"");
    memset(big + n, 'a', 600);
    strcpy(big + n + 600, "\"}");
    expect_err(big, "invalid_channel", 1);
    /* bytes no name has: refused before any answer could echo them (the
     * fuzzer found an unsubscribe answer made invalid JSON by backslashes) */
    expect_err("{\"type\":\"unsubscribe\",\"req\":2,\"channel\":\"a\\\\b\"}", "invalid_channel", 2);
    expect_err("{\"type\":\"unsubscribe\",\"req\":2,\"channel\":\"a\\\"b\"}", "invalid_channel", 2);
    expect_err("{\"type\":\"subscribe\",\"req\":3,\"channel\":\"a b\"}", "invalid_channel", 3);
    expect_err("{\"type\":\"subscribe\",\"req\":3,\"channel\":\"caf\u00e9\"}", "invalid_channel", 3);
    expect_err("{\"type\":\"subscribe\",\"req\":3,\"channel\":\"a</script>\"}", "invalid_channel", 3);
}

static void answers_are_the_readme_json(void) {
    command_t c = {.has_req = 1, .req = 9};
    char out[256];
    command_error_format(out, sizeof(out), &c, "forbidden", "bad signature");
    CHECK_STR(out, "{\"type\":\"error\",\"req\":9,\"code\":\"forbidden\",\"reason\":\"bad signature\"}");
    command_error_format(out, sizeof(out), NULL, "bad_request", "not JSON");
    CHECK_STR(out, "{\"type\":\"error\",\"req\":null,\"code\":\"bad_request\",\"reason\":\"not JSON\"}");
    command_subscribed_format(out, sizeof(out), &c, "orders", 6, 17, "gap");
    CHECK_STR(out, "{\"type\":\"subscribed\",\"req\":9,\"channel\":\"orders\",\"last\":17,\"resume\":\"gap\"}");
    command_subscribed_format(out, sizeof(out), &c, "orders", 6, 17, NULL);
    CHECK_STR(out, "{\"type\":\"subscribed\",\"req\":9,\"channel\":\"orders\",\"last\":17}");
    /* SSE (no command): no req member at all, not "req":null */
    command_subscribed_format(out, sizeof(out), NULL, "orders", 6, 17, "ok");
    CHECK_STR(out, "{\"type\":\"subscribed\",\"channel\":\"orders\",\"last\":17,\"resume\":\"ok\"}");
    command_unsubscribed_format(out, sizeof(out), &c, "o", 1);
    CHECK_STR(out, "{\"type\":\"unsubscribed\",\"req\":9,\"channel\":\"o\"}");
    command_pong_format(out, sizeof(out), &c);
    CHECK_STR(out, "{\"type\":\"pong\",\"req\":9}");
    CHECK_EQ_INT(command_pong_format(out, 5, &c), -1);
}

int main(void) {
    RUN(subscribe_with_since_parses);
    RUN(unsubscribe_and_ping_parse);
    RUN(every_bad_request_is_named);
    RUN(bad_channel_strings_are_invalid_channel);
    RUN(answers_are_the_readme_json);
    return T_DONE();
}
