#include "command.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int command_fail(const char **code, const char **reason, const char *c,
                        const char *r) {
    *code = c;
    *reason = r;
    return -1;
}

/* A plain or signed name only ever holds A-Z a-z 0-9 _ - . : @ and ~ (the
 * signature's base64url adds nothing else), so a command is refused here
 * for any other byte, and every answer that echoes the name is valid JSON
 * without escaping. The full checks (charset, signature) come later. */
static int command_name_bytes_ok(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':' || c == '@' || c == '~'))
            return 0;
    }
    return 1;
}

/* Only the fields of each command are read; unknown extra fields are
 * ignored so clients can grow without breaking older daemons. */
int command_parse(const char *json, size_t len, command_t *out,
                  const char **code, const char **reason) {
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = -1;
    if (root == NULL)
        return command_fail(code, reason, "bad_request", "not JSON");
    if (!json_is_object(root)) {
        command_fail(code, reason, "bad_request", "a command is a JSON object");
        goto done;
    }
    json_t *req = json_object_get(root, "req");
    if (req != NULL) {
        if (!json_is_integer(req)) {
            command_fail(code, reason, "bad_request", "req must be an integer");
            goto done;
        }
        out->has_req = 1;
        out->req = json_integer_value(req);
    }
    json_t *type = json_object_get(root, "type");
    if (type == NULL || !json_is_string(type)) {
        command_fail(code, reason, "bad_request", "type must be a string");
        goto done;
    }
    const char *t = json_string_value(type);
    if (strcmp(t, "subscribe") == 0) out->type = CMD_SUBSCRIBE;
    else if (strcmp(t, "unsubscribe") == 0) out->type = CMD_UNSUBSCRIBE;
    else if (strcmp(t, "ping") == 0) out->type = CMD_PING;
    else {
        command_fail(code, reason, "bad_request", "unknown command type");
        goto done;
    }
    if (!out->has_req) {
        command_fail(code, reason, "bad_request", "req is missing");
        goto done;
    }
    if (out->type != CMD_PING) {
        json_t *ch = json_object_get(root, "channel");
        if (ch == NULL || !json_is_string(ch)) {
            command_fail(code, reason, "bad_request", "channel must be a string");
            goto done;
        }
        size_t n = json_string_length(ch);
        if (n == 0 || n >= sizeof(out->channel) || !command_name_bytes_ok(json_string_value(ch), n)) {
            command_fail(code, reason, "invalid_channel",
                         "channel name empty, too long or with a byte no channel or signed name has");
            goto done;
        }
        memcpy(out->channel, json_string_value(ch), n);
        out->channel[n] = '\0';
        out->channel_len = n;
    }
    if (out->type == CMD_SUBSCRIBE) {
        json_t *since = json_object_get(root, "since");
        if (since != NULL && !json_is_null(since)) {
            if (!json_is_integer(since) || json_integer_value(since) < 0) {
                command_fail(code, reason, "bad_request", "since must be a non-negative integer");
                goto done;
            }
            out->has_since = 1;
            out->since = (uint64_t)json_integer_value(since);
        }
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

static int command_req(char *out, size_t size, const command_t *c) {
    if (c && c->has_req) return snprintf(out, size, "%lld", (long long)c->req);
    return snprintf(out, size, "null");
}

static int command_fit(int n, size_t size) { return n < 0 || (size_t)n >= size ? -1 : n; }

/* Reasons are our own constant sentences (no quotes or backslashes). */
int command_error_format(char *out, size_t size, const command_t *c,
                         const char *code, const char *reason) {
    char req[32];
    command_req(req, sizeof(req), c);
    return command_fit(snprintf(out, size,
                                "{\"type\":\"error\",\"req\":%s,\"code\":\"%s\",\"reason\":\"%s\"}",
                                req, code, reason), size);
}

int command_subscribed_format(char *out, size_t size, const command_t *c,
                              const char *channel, size_t channel_len,
                              uint64_t last, const char *resume) {
    char req[48] = "", res[32] = "";
    /* SSE has no commands (c NULL): its answers carry no req at all */
    if (c) {
        memcpy(req, ",\"req\":", 7);
        command_req(req + 7, sizeof(req) - 7, c);
    }
    if (resume) snprintf(res, sizeof(res), ",\"resume\":\"%s\"", resume);
    return command_fit(snprintf(out, size,
                                "{\"type\":\"subscribed\"%s,\"channel\":\"%.*s\",\"last\":%llu%s}",
                                req, (int)channel_len, channel, (unsigned long long)last, res),
                       size);
}

int command_unsubscribed_format(char *out, size_t size, const command_t *c,
                                const char *channel, size_t channel_len) {
    char req[32];
    command_req(req, sizeof(req), c);
    return command_fit(snprintf(out, size,
                                "{\"type\":\"unsubscribed\",\"req\":%s,\"channel\":\"%.*s\"}",
                                req, (int)channel_len, channel), size);
}

int command_pong_format(char *out, size_t size, const command_t *c) {
    char req[32];
    command_req(req, sizeof(req), c);
    return command_fit(snprintf(out, size, "{\"type\":\"pong\",\"req\":%s}", req), size);
}
