#include "wsconn.h"

#include "command.h"
#include "log.h"
#include "subscribe.h"
#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void wsconn_feed(conn_t *c, char *data, size_t n);
static int wsconn_deliver(conn_t *c, channel_t *ch, message_t *m);

static void wsconn_free(conn_t *c);

static const conn_proto_t wsconn_proto = {
    .kind = CONN_WS,
    .feed = wsconn_feed,
    .deliver = wsconn_deliver,
    .answer = wsconn_text,
    .tick = wsconn_tick,
    .close = wsconn_close,
    .free = wsconn_free,
};

static ws_parser_t *wsconn_parser(conn_t *c) { return c->session; }

static void wsconn_free(conn_t *c) {
    ws_parser_free(wsconn_parser(c));
    free(c->session);
    c->session = NULL;
}

/* The encode-once frame every subscriber shares. */
static int wsconn_deliver(conn_t *c, channel_t *ch, message_t *m) {
    return conn_send(c, m->ws, m->ws_off);
}

/* Queue a text frame holding p[0..n). */
int wsconn_text(conn_t *c, const char *p, size_t n) {
    buf_t *b = buf_new(WS_FRAME_HEADER_MAX + n);
    if (b == NULL) {
        conn_close(c);
        return -1;
    }
    size_t h = ws_frame_header_write(b->data, WS_OP_TEXT, n);
    memcpy(b->data + h, p, n);
    b->len = h + n;
    int rc = conn_send(c, b, 0);
    buf_unref(b);
    return rc;
}

void wsconn_close(conn_t *c, uint16_t code, const char *reason) {
    if (!conn_is_open(c)) return;
    unsigned char f[WS_FRAME_HEADER_MAX + WS_CONTROL_MAX];
    size_t n = ws_close_frame(f, code, reason);
    conn_end(c, f, n);
}

static void wsconn_answer_error(conn_t *c, const command_t *cmd, const char *code,
                                const char *reason) {
    char out[512];
    c->loop->stats.ws_bad_commands++;
    log_debug("%s: command refused: %s (%s)", c->peer, code, reason);
    int n = command_error_format(out, sizeof(out), cmd, code, reason);
    if (n > 0) wsconn_text(c, out, (size_t)n);
}

/* Commands and pings share the connection's bucket (subscribe.c): over
 * it, a command is answered rate_limited; far over it, 1008. 1 if refused. */
static int wsconn_rate_limited(conn_t *c, const command_t *cmd) {
    int rc = subscribe_rate_take(c);
    if (rc == SUBSCRIBE_RATE_CLOSE) {
        wsconn_close(c, WS_CLOSE_POLICY, "command rate exceeded");
        return 1;
    }
    if (rc == SUBSCRIBE_RATE_REFUSED && cmd)
        wsconn_answer_error(c, cmd, "rate_limited", "too many commands: slow down (max_commands_per_second)");
    return rc != 0;
}

static void wsconn_unsubscribe(conn_t *c, const command_t *cmd) {
    const char *tilde = memchr(cmd->channel, '~', cmd->channel_len);
    size_t plen = tilde ? (size_t)(tilde - cmd->channel) : cmd->channel_len;
    if (herald_channel_check(cmd->channel, plen) != 0) {
        wsconn_answer_error(c, cmd, "invalid_channel", "invalid channel name");
        return;
    }
    channel_t *ch = channel_find(&c->loop->channels, cmd->channel, plen);
    if (ch == NULL || conn_unsubscribe(c, ch) != 0) {
        wsconn_answer_error(c, cmd, "not_subscribed", "not subscribed to this channel");
        return;
    }
    char out[512];
    int n = command_unsubscribed_format(out, sizeof(out), cmd, cmd->channel, plen);
    if (n > 0) wsconn_text(c, out, (size_t)n);
}

/* README "Protocol": one answer per command; errors keep the connection. */
static void wsconn_command(conn_t *c, const unsigned char *data, size_t len) {
    command_t cmd;
    const char *code, *reason, *plain;
    size_t plain_len;
    char out[512];
    int bad = command_parse((const char *)data, len, &cmd, &code, &reason) != 0;
    if (wsconn_rate_limited(c, &cmd)) return;
    if (bad) {
        wsconn_answer_error(c, &cmd, code, reason);
        return;
    }
    switch (cmd.type) {
    case CMD_PING: {
        int n = command_pong_format(out, sizeof(out), &cmd);
        if (n > 0) wsconn_text(c, out, (size_t)n);
        return;
    }
    case CMD_SUBSCRIBE:
        if (subscribe_authorize(c->loop, cmd.channel, cmd.channel_len, &plain, &plain_len,
                                &code, &reason) != 0 ||
            subscribe_resume(c, plain, plain_len, cmd.has_since, cmd.since, &cmd, &code,
                             &reason) != 0)
            wsconn_answer_error(c, &cmd, code, reason);
        return;
    case CMD_UNSUBSCRIBE:
        wsconn_unsubscribe(c, &cmd);
        return;
    }
}

int wsconn_control(conn_t *c, int opcode, const unsigned char *data, size_t len) {
    switch (opcode) {
    case WS_OP_BINARY:
        c->loop->stats.ws_close_1003++;
        log_info("%s: binary message from a browser: closing 1003", c->peer);
        wsconn_close(c, WS_CLOSE_UNSUPPORTED, "binary messages are not accepted");
        break;
    case WS_OP_PING: {
        /* RFC 6455 5.5.2: a Ping gets a Pong, always. Browsers never send
         * pings, so a flood of them draws on the same bucket as commands:
         * its pong goes first, then the close 1008 if it goes on. */
        unsigned char f[WS_FRAME_HEADER_MAX + WS_CONTROL_MAX];
        size_t h = ws_frame_header_write(f, WS_OP_PONG, len);
        memcpy(f + h, data, len);
        if (conn_send_copy(c, f, h + len) == 0) wsconn_rate_limited(c, NULL);
        break;
    }
    case WS_OP_PONG:
        /* an answer to our ping costs a token too: a pong flood is a flood */
        wsconn_rate_limited(c, NULL);
        break;
    case WS_OP_CLOSE: {
        /* RFC 6455 5.5.1: answer a close with a close, echoing its code. */
        uint16_t code = len >= 2 ? (uint16_t)((data[0] << 8) | data[1]) : WS_CLOSE_NORMAL;
        wsconn_close(c, code, "");
        break;
    }
    default: /* a pong */
        break;
    }
    return conn_is_open(c) ? 0 : 1;
}

static int wsconn_on_message(void *ctx, int opcode, const unsigned char *data, size_t len) {
    conn_t *c = ctx;
    if (!conn_is_open(c)) return 1;
    if (opcode != WS_OP_TEXT) return wsconn_control(c, opcode, data, len);
    wsconn_command(c, data, len);
    return conn_is_open(c) ? 0 : 1;
}

void wsconn_feed_with(conn_t *c, ws_parser_t *p, char *data, size_t n, ws_message_cb cb) {
    int rc = ws_parser_feed(p, (unsigned char *)data, n, cb, c);
    if (rc < 0 && conn_is_open(c)) {
        uint16_t code = p->close_code ? p->close_code : WS_CLOSE_PROTOCOL;
        stats_ws_close_count(&c->loop->stats, code);
        const char *why = rc == WS_EUTF8 ? "invalid UTF-8" : rc == WS_ETOOBIG ? "message too big"
                          : rc == WS_ENOMEM ? "out of memory" : "protocol error";
        log_info("%s: WebSocket %s: closing %u", c->peer, why, code);
        wsconn_close(c, code, why);
    }
}

static void wsconn_feed(conn_t *c, char *data, size_t n) {
    wsconn_feed_with(c, wsconn_parser(c), data, n, wsconn_on_message);
}

/* Idle clients are pinged; one that does not answer in time is dropped. */
void wsconn_tick(conn_t *c, uint64_t now) {
    const config_t *cfg = c->loop->cfg;
    if (c->ping_out && now - c->ping_ms >= cfg->pong_timeout_ms) {
        c->loop->stats.ping_timeouts++;
        log_info("%s: no pong within %llu ms: dropping", c->peer,
                 (unsigned long long)cfg->pong_timeout_ms);
        conn_close(c);
    } else if (!c->ping_out && now - c->last_rx_ms >= cfg->ping_interval_ms) {
        unsigned char f[2] = {0x80 | WS_OP_PING, 0};
        c->ping_out = 1;
        c->ping_ms = now;
        conn_send_copy(c, f, 2);
    }
}

/* Checks in the order a client can fix them: the handshake (400/426),
 * then the Origin (403); only then is anything allocated. */
int wsconn_handshake(conn_t *c, http_req_t *req, ws_parser_t *p) {
    loop_t *loop = c->loop;
    ws_upgrade_t u;
    memset(&u, 0, sizeof(u));
    u.key = http_req_header(req, HTTP_H_WS_KEY, &u.key_len);
    u.version = http_req_header(req, HTTP_H_WS_VERSION, &u.version_len);
    u.upgrade = http_req_header(req, HTTP_H_UPGRADE, &u.upgrade_len);
    u.connection = http_req_header(req, HTTP_H_CONNECTION, &u.connection_len);
    int rc = ws_upgrade_check(&u);
    if (rc == WS_EVERSION) {
        conn_http_error(c, 426, "Sec-WebSocket-Version: 13\r\n", "WebSocket version 13 is required");
        return -1;
    }
    if (rc != 0) {
        conn_http_error(c, 400, NULL, rc == WS_EBADKEY ? "missing or invalid Sec-WebSocket-Key"
                                                       : "not a WebSocket upgrade request");
        return -1;
    }
    if (subscribe_origin_refuse(c, req)) return -1;
    char accept[WS_ACCEPT_LEN + 1];
    if (ws_accept_key(u.key, u.key_len, accept) != 0) {
        conn_http_error(c, 400, NULL, "invalid Sec-WebSocket-Key");
        return -1;
    }
    ws_parser_init(p, loop->cfg->max_client_message_bytes);
    subscribe_rate_init(c);
    char resp[256];
    int n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
    c->last_rx_ms = uv_now(loop->uv);
    conn_send_copy(c, resp, (size_t)n);
    return 0;
}

void wsconn_upgrade(conn_t *c, http_req_t *req, const char *rest, size_t rest_len) {
    if (subscribe_admit(c, req) != 0) return;
    ws_parser_t *p = malloc(sizeof(*p));
    if (p == NULL) {
        conn_close(c);
        return;
    }
    if (wsconn_handshake(c, req, p) != 0) {
        free(p);
        return;
    }
    c->session = p;
    conn_proto_set(c, &wsconn_proto);
}
