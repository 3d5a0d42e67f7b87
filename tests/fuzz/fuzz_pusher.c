/* libFuzzer target for what a Pusher client sends (daemon/pusherwire.c):
 * any bytes are either refused with a reason or parsed into a command
 * whose strings are NUL-terminated within their bounds; presence's
 * channel_data and the auth check never read past what they were given;
 * a socket id (the HTTP API's socket_id) parses only as digits.digits. */
#include "pusherwire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t key = 0;
    if (pusher_socket_id_parse((const char *)data, size, &key) == 0) {
        const char *dot = memchr(data, '.', size);
        if (key == 0 || dot == NULL || dot == (const char *)data || dot == (const char *)data + size - 1) abort();
        for (size_t i = 0; i < size; i++)
            if ((data[i] < '0' || data[i] > '9') && (const char *)data + i != dot) abort();
    }
    pusher_cmd_t cmd;
    const char *why = NULL;
    if (pusher_cmd_parse((const char *)data, size, &cmd, &why) != 0) {
        if (why == NULL || why[0] == '\0') abort();
        return 0;
    }
    if (cmd.type < PUSHER_SUBSCRIBE || cmd.type > PUSHER_OTHER) abort();
    if (strlen(cmd.channel) != cmd.channel_len || cmd.channel_len > PUSHER_CHANNEL_MAX) abort();
    if (strlen(cmd.auth) > PUSHER_AUTH_MAX || strlen(cmd.channel_data) > PUSHER_CHANNEL_DATA_MAX) abort();
    if (cmd.type == PUSHER_SUBSCRIBE && cmd.channel_len == 0) abort();
    static const unsigned char secret[] = "a-secret-of-enough-bytes-0123456789";
    pusher_auth_ok("key", secret, sizeof(secret) - 1, "123.456", cmd.channel, cmd.channel_len,
                   cmd.has_channel_data ? cmd.channel_data : NULL, cmd.auth);
    if (cmd.has_channel_data) {
        char uid[PUSHER_USER_ID_MAX];
        char *info = NULL;
        if (pusher_presence_parse(cmd.channel_data, uid, sizeof(uid), &info) == 0) {
            if (info == NULL || strlen(uid) >= sizeof(uid)) abort();
        }
        free(info);
    }
    return 0;
}
