/* libFuzzer target for the browser's WebSocket commands (daemon/command.c):
 * whatever JSON (or not) arrives, command_parse either fills a command or
 * names an error code; every answer formatted from it is valid JSON that
 * echoes the request id. */
#include "command.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An answer must parse as a JSON object of the right type, with req echoed. */
static void fuzz_cmd_answer(const char *out, int n, const command_t *c, const char *type) {
    if (n < 0) return;                       /* too long for the buffer: refused */
    json_error_t e;
    json_t *j = json_loadb(out, (size_t)n, 0, &e);
    if (j == NULL || !json_is_object(j)) abort();
    if (strcmp(json_string_value(json_object_get(j, "type")), type) != 0) abort();
    if (c->has_req && json_integer_value(json_object_get(j, "req")) != c->req) abort();
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *json = malloc(size ? size : 1);
    memcpy(json, data, size);
    command_t c;
    const char *code = NULL, *reason = NULL;
    char out[1024];
    int rc = command_parse(json, size, &c, &code, &reason);
    if (rc == 0) {
        if (c.type != CMD_SUBSCRIBE && c.type != CMD_UNSUBSCRIBE && c.type != CMD_PING &&
            c.type != CMD_REFRESH)
            abort();
        if (c.type == CMD_REFRESH && c.has_since) abort();
        if (c.type != CMD_PING) {
            if (c.channel_len == 0 || c.channel_len >= sizeof c.channel) abort();
            if (c.channel[c.channel_len] != '\0') abort();
        }
        fuzz_cmd_answer(out, command_pong_format(out, sizeof out, &c), &c, "pong");
        if (c.type != CMD_PING) {
            fuzz_cmd_answer(out, command_subscribed_format(out, sizeof out, &c, c.channel,
                                                           c.channel_len, 1732530000000001ull, "ok"),
                            &c, "subscribed");
            fuzz_cmd_answer(out, command_unsubscribed_format(out, sizeof out, &c, c.channel, c.channel_len),
                            &c, "unsubscribed");
            fuzz_cmd_answer(out, command_refreshed_format(out, sizeof out, &c, c.channel,
                                                          c.channel_len, 1732530005u),
                            &c, "refreshed");
            command_t none = {0};
            fuzz_cmd_answer(out, command_expiring_format(out, sizeof out, c.channel, c.channel_len, 1),
                            &none, "expiring");
            fuzz_cmd_answer(out, command_ended_format(out, sizeof out, c.channel, c.channel_len, "expired"),
                            &none, "unsubscribed");
        }
    } else {
        if (rc != -1 || code == NULL || reason == NULL) abort();
        if (strcmp(code, "bad_request") != 0 && strcmp(code, "invalid_channel") != 0) abort();
        fuzz_cmd_answer(out, command_error_format(out, sizeof out, &c, code, reason), &c, "error");
    }
    free(json);
    return 0;
}
