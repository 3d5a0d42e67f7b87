/* Commands a browser sends over WebSocket (README "Protocol"): parsed with
 * jansson into a small struct, and the JSON answers to them. */
#ifndef HERALD_COMMAND_H
#define HERALD_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include "signed.h"

enum { CMD_SUBSCRIBE = 1, CMD_UNSUBSCRIBE, CMD_PING };

typedef struct command {
    int type;
    int has_req;
    int64_t req;
    char channel[HERALD_SIGNED_MAX];
    size_t channel_len;
    int has_since;
    uint64_t since;
} command_t;

/* 0, or -1 with *code ("bad_request", "invalid_channel") and *reason set.
 * out->has_req/req are filled as soon as known so errors can echo req. */
int command_parse(const char *json, size_t len, command_t *out,
                  const char **code, const char **reason);

/* The answers, written into out; return their length or -1 if too long. */
int command_error_format(char *out, size_t size, const command_t *c,
                         const char *code, const char *reason);
/* c NULL (SSE): the answer has no "req" member. */
int command_subscribed_format(char *out, size_t size, const command_t *c,
                              const char *channel, size_t channel_len,
                              uint64_t last, const char *resume);
int command_unsubscribed_format(char *out, size_t size, const command_t *c,
                                const char *channel, size_t channel_len);
int command_pong_format(char *out, size_t size, const command_t *c);

#endif
