#include "pusher.h"

#include "log.h"
#include "pusherwire.h"
#include "subscribe.h"
#include "wsconn.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pusher's error codes (pusher-js acts on the ranges: 4000-4099 do not
 * reconnect, 4100-4199 reconnect after a while, 4200-4299 at once). */
enum {
    PUSHER_E_UNKNOWN_APP = 4001,
    PUSHER_E_UNAUTHORIZED = 4009,
    PUSHER_E_OVER_CAPACITY = 4100,
    PUSHER_E_RECONNECT = 4200,
    PUSHER_E_CLIENT_EVENT = 4301,
};

/* A user on a presence channel of this loop: one member however many of
 * its tabs (connections) are there. */
typedef struct pusher_member {
    struct pusher_member *next;
    char user_id[PUSHER_USER_ID_MAX];
    char *info;                  /* user_info as JSON */
    uint32_t count;              /* its connections on this channel */
} pusher_member_t;

typedef struct pusher_presence {
    struct pusher_presence *next;
    char name[PUSHER_CHANNEL_MAX + 1];
    pusher_member_t *members;
    uint32_t nmembers;
} pusher_presence_t;

/* One connection's place on a presence channel. */
typedef struct pusher_seat {
    struct pusher_seat *next;
    pusher_presence_t *p;
    pusher_member_t *m;
} pusher_seat_t;

typedef struct pusher_session {
    ws_parser_t ws;
    char app_key[SECRETS_APP_KEY_MAX + 1];
    char socket_id[32];
    pusher_seat_t *seats;
} pusher_session_t;

/* Each loop's presence channels: only its own thread touches its row. */
static pusher_presence_t *pusher_presences[HUB_LOOPS_MAX];

static void pusher_feed(conn_t *c, char *data, size_t n);
static int pusher_deliver(conn_t *c, channel_t *ch, message_t *m);
static int pusher_answer(conn_t *c, const char *json, size_t n);
static void pusher_close(conn_t *c, uint16_t code, const char *reason);
static void pusher_free(conn_t *c);

static const conn_proto_t pusher_proto = {
    .kind = CONN_WS,
    .feed = pusher_feed,
    .deliver = pusher_deliver,
    .answer = pusher_answer,
    .tick = wsconn_tick,
    .close = pusher_close,
    .free = pusher_free,
};

static pusher_session_t *pusher_of(conn_t *c) { return c->session; }

/* The encode-once frame, built at the loop's first Pusher subscriber. */
static int pusher_deliver(conn_t *c, channel_t *ch, message_t *m) {
    if (m->pusher == NULL && (m->pusher = pusher_message_frame(m, &m->pusher_off)) == NULL)
        return -1;
    return conn_send(c, m->pusher, m->pusher_off);
}

/* subscribe_resume's answer: Pusher says subscription_succeeded instead
 * (presence answers with its members from pusher_subscribe). */
static int pusher_answer(conn_t *c, const char *json, size_t n) { return 0; }

static void pusher_send_event(conn_t *c, const char *event, const char *channel, size_t clen,
                              const char *data_json) {
    char out[2048];
    int n = pusher_event_format(out, sizeof(out), event, channel, clen, data_json);
    if (n > 0) wsconn_text(c, out, (size_t)n);
}

static void pusher_error(conn_t *c, int code, const char *message) {
    char out[400];
    int n = snprintf(out, sizeof(out), "{\"event\":\"pusher:error\",\"data\":{\"code\":%d,\"message\":\"%s\"}}",
                     code, message);
    if (n > 0 && (size_t)n < sizeof(out)) wsconn_text(c, out, (size_t)n);
}

static void pusher_close(conn_t *c, uint16_t code, const char *reason) {
    wsconn_close(c, code == 1001 ? PUSHER_E_RECONNECT : code, reason);
}

/* The same event to every other Pusher connection of the channel on this
 * loop (member_added / member_removed). */
static void pusher_tell_others(loop_t *loop, conn_t *self, const char *channel, const char *event,
                               const char *data_json) {
    channel_t *ch = channel_find(&loop->channels, channel, strlen(channel));
    char out[2048];
    int n = pusher_event_format(out, sizeof(out), event, channel, strlen(channel), data_json);
    if (ch == NULL || n <= 0) return;
    for (sub_t *s = ch->subs; s; s = s->next)
        if (s->conn != self && s->conn->proto == &pusher_proto) wsconn_text(s->conn, out, (size_t)n);
}

static pusher_presence_t *pusher_presence_get(unsigned loop, const char *name, size_t len) {
    for (pusher_presence_t *p = pusher_presences[loop]; p; p = p->next)
        if (strlen(p->name) == len && memcmp(p->name, name, len) == 0) return p;
    pusher_presence_t *p = calloc(1, sizeof(*p));
    if (p == NULL) return NULL;
    memcpy(p->name, name, len);
    p->next = pusher_presences[loop];
    pusher_presences[loop] = p;
    return p;
}

/* subscription_succeeded's presence data: every member once. */
static char *pusher_presence_json(const pusher_presence_t *p) {
    size_t cap = 64;
    for (pusher_member_t *m = p->members; m; m = m->next) cap += 2 * strlen(m->user_id) + strlen(m->info) + 16;
    char *s = malloc(cap);
    if (s == NULL) return NULL;
    size_t len = (size_t)snprintf(s, cap, "{\"presence\":{\"ids\":[");
    for (pusher_member_t *m = p->members; m; m = m->next)
        len += (size_t)snprintf(s + len, cap - len, "%s\"%s\"", m == p->members ? "" : ",", m->user_id);
    len += (size_t)snprintf(s + len, cap - len, "],\"hash\":{");
    for (pusher_member_t *m = p->members; m; m = m->next)
        len += (size_t)snprintf(s + len, cap - len, "%s\"%s\":%s", m == p->members ? "" : ",", m->user_id, m->info);
    snprintf(s + len, cap - len, "},\"count\":%u}}", p->nmembers);
    return s;
}

/* A user id is JSON-safe when it is one of Herald's name bytes. */
static int pusher_user_id_ok(const char *id) {
    for (const char *p = id; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) return 0;
    return 1;
}

/* Join a presence channel as user_id: the first connection of a user makes
 * it a member (member_added to the others), later ones only count. */
static int pusher_presence_join(conn_t *c, const char *channel, size_t clen, const char *user_id,
                                char *info) {
    pusher_session_t *s = pusher_of(c);
    pusher_presence_t *p = pusher_presence_get(c->loop->index, channel, clen);
    pusher_seat_t *seat = p ? calloc(1, sizeof(*seat)) : NULL;
    if (seat == NULL) return -1;
    pusher_member_t *m = p->members;
    while (m && strcmp(m->user_id, user_id) != 0) m = m->next;
    if (m == NULL) {
        m = calloc(1, sizeof(*m));
        if (m == NULL) {
            free(seat);
            return -1;
        }
        snprintf(m->user_id, sizeof(m->user_id), "%s", user_id);
        m->info = info;
        m->next = p->members;
        p->members = m;
        p->nmembers++;
        char data[PUSHER_USER_ID_MAX + PUSHER_CHANNEL_DATA_MAX + 40];
        snprintf(data, sizeof(data), "{\"user_id\":\"%s\",\"user_info\":%s}", user_id, info);
        pusher_tell_others(c->loop, c, p->name, "pusher_internal:member_added", data);
    } else {
        free(info);
    }
    m->count++;
    seat->p = p;
    seat->m = m;
    seat->next = s->seats;
    s->seats = seat;
    return 0;
}

/* Leave: the user's last connection going makes member_removed. */
static void pusher_seat_leave(conn_t *c, pusher_seat_t *seat) {
    pusher_presence_t *p = seat->p;
    pusher_member_t *m = seat->m;
    if (--m->count == 0) {
        char data[PUSHER_USER_ID_MAX + 20];
        snprintf(data, sizeof(data), "{\"user_id\":\"%s\"}", m->user_id);
        pusher_tell_others(c->loop, c, p->name, "pusher_internal:member_removed", data);
        pusher_member_t **pp = &p->members;
        while (*pp != m) pp = &(*pp)->next;
        *pp = m->next;
        p->nmembers--;
        free(m->info);
        free(m);
    }
    free(seat);
    if (p->nmembers == 0) { /* nobody left: the channel's table goes */
        pusher_presence_t **pp = &pusher_presences[c->loop->index];
        while (*pp != p) pp = &(*pp)->next;
        *pp = p->next;
        free(p);
    }
}

static void pusher_presence_leave(conn_t *c, const char *channel, size_t clen) {
    pusher_session_t *s = pusher_of(c);
    for (pusher_seat_t **pp = &s->seats; *pp; pp = &(*pp)->next) {
        pusher_seat_t *seat = *pp;
        if (strlen(seat->p->name) != clen || memcmp(seat->p->name, channel, clen) != 0) continue;
        *pp = seat->next;
        pusher_seat_leave(c, seat);
        return;
    }
}

static void pusher_refuse(conn_t *c, const pusher_cmd_t *cmd, int status, const char *why) {
    log_info("%s: Pusher subscribe to %s refused: %s", c->peer, cmd->channel, why);
    char data[300];
    snprintf(data, sizeof(data), "{\"type\":\"AuthError\",\"error\":\"%s\",\"status\":%d}", why, status);
    char out[700];
    int n = snprintf(out, sizeof(out), "{\"event\":\"pusher:subscription_error\",\"channel\":\"%s\",\"data\":%s}",
                     cmd->channel, data);
    if (n > 0 && (size_t)n < sizeof(out)) wsconn_text(c, out, (size_t)n);
    pusher_error(c, PUSHER_E_UNAUTHORIZED, why);
}

/* Public channels are Herald's public_channels; private-, presence- and
 * private-encrypted- need the app's signature over this socket id. */
static void pusher_subscribe(conn_t *c, const pusher_cmd_t *cmd) {
    pusher_session_t *s = pusher_of(c);
    loop_t *loop = c->loop;
    const pusher_app_t *app = secrets_app_by_key(&loop->auth.secrets, s->app_key, strlen(s->app_key));
    int presence = strncmp(cmd->channel, "presence-", 9) == 0;
    int private = presence || strncmp(cmd->channel, "private-", 8) == 0;
    if (herald_channel_check(cmd->channel, cmd->channel_len) != 0) {
        pusher_refuse(c, cmd, 400, "channel names are 1-164 bytes of A-Z a-z 0-9 _ - . : @");
        return;
    }
    if (app == NULL) { /* its app left pusher_apps_file at a reload */
        pusher_error(c, PUSHER_E_UNKNOWN_APP, "unknown app key");
        return;
    }
    if (!private && !channel_is_public(loop->cfg->public_channels, cmd->channel, cmd->channel_len)) {
        pusher_refuse(c, cmd, 403, "this channel is not in public_channels");
        return;
    }
    if (private && !pusher_auth_ok(app->key, app->secret, app->secret_len, s->socket_id, cmd->channel,
                                   cmd->channel_len, presence ? cmd->channel_data : NULL, cmd->auth)) {
        pusher_refuse(c, cmd, 401, "invalid signature");
        return;
    }
    char user_id[PUSHER_USER_ID_MAX];
    char *info = NULL;
    if (presence && (!cmd->has_channel_data ||
                     pusher_presence_parse(cmd->channel_data, user_id, sizeof(user_id), &info) != 0 ||
                     !pusher_user_id_ok(user_id))) {
        free(info);
        pusher_refuse(c, cmd, 400, "presence needs channel_data with a user_id");
        return;
    }
    const char *code, *reason;
    if (subscribe_resume(c, cmd->channel, cmd->channel_len, 0, 0, NULL, &code, &reason) != 0) {
        free(info);
        pusher_refuse(c, cmd, 400, reason);
        return;
    }
    if (presence) pusher_presence_leave(c, cmd->channel, cmd->channel_len); /* a repeat */
    if (presence && pusher_presence_join(c, cmd->channel, cmd->channel_len, user_id, info) != 0) {
        free(info);
        pusher_refuse(c, cmd, 500, "out of memory");
        return;
    }
    char *data = NULL;
    if (presence) {
        pusher_presence_t *p = pusher_presence_get(loop->index, cmd->channel, cmd->channel_len);
        data = p ? pusher_presence_json(p) : NULL;
    }
    pusher_send_event(c, "pusher_internal:subscription_succeeded", cmd->channel, cmd->channel_len,
                      data ? data : "{}");
    free(data);
}

static void pusher_unsubscribe(conn_t *c, const pusher_cmd_t *cmd) {
    channel_t *ch = channel_find(&c->loop->channels, cmd->channel, cmd->channel_len);
    if (ch) conn_unsubscribe(c, ch);
    if (strncmp(cmd->channel, "presence-", 9) == 0) pusher_presence_leave(c, cmd->channel, cmd->channel_len);
}

static void pusher_message(conn_t *c, const char *data, size_t n) {
    pusher_cmd_t cmd;
    const char *why;
    int rate = subscribe_rate_take(c);
    if (rate == SUBSCRIBE_RATE_CLOSE) {
        wsconn_close(c, WS_CLOSE_POLICY, "message rate exceeded");
        return;
    }
    if (rate != SUBSCRIBE_RATE_OK) {
        pusher_error(c, 4301, "too many messages: slow down (max_commands_per_second)");
        return;
    }
    if (pusher_cmd_parse(data, n, &cmd, &why) != 0) {
        c->loop->stats.ws_bad_commands++;
        pusher_error(c, 4000, why);
        return;
    }
    switch (cmd.type) {
    case PUSHER_PING:
        wsconn_text(c, "{\"event\":\"pusher:pong\",\"data\":\"{}\"}", 34);
        break;
    case PUSHER_SUBSCRIBE:
        pusher_subscribe(c, &cmd);
        break;
    case PUSHER_UNSUBSCRIBE:
        pusher_unsubscribe(c, &cmd);
        break;
    case PUSHER_CLIENT_EVENT: /* browsers never publish */
        c->loop->stats.pusher_client_events_refused++;
        pusher_error(c, PUSHER_E_CLIENT_EVENT, "client events are not accepted by this server");
        break;
    default:
        break;
    }
}

static int pusher_on_message(void *ctx, int opcode, const unsigned char *data, size_t len) {
    conn_t *c = ctx;
    if (!conn_is_open(c)) return 1;
    if (opcode != WS_OP_TEXT) return wsconn_control(c, opcode, data, len);
    pusher_message(c, (const char *)data, len);
    return conn_is_open(c) ? 0 : 1;
}

static void pusher_feed(conn_t *c, char *data, size_t n) {
    wsconn_feed_with(c, &pusher_of(c)->ws, data, n, pusher_on_message);
}

/* Presence seats go with the connection (member_removed when a user's
 * last tab leaves). */
static void pusher_free(conn_t *c) {
    pusher_session_t *s = pusher_of(c);
    if (s == NULL) return;
    while (s->seats) {
        pusher_seat_t *seat = s->seats;
        s->seats = seat->next;
        pusher_seat_leave(c, seat);
    }
    ws_parser_free(&s->ws);
    free(s);
    c->session = NULL;
}

/* GET /app/{key}: Pusher's WebSocket endpoint. An unknown key is told
 * 4001 after the upgrade, as pusher-js expects. */
void pusher_upgrade(conn_t *c, http_req_t *req, const char *key, size_t key_len) {
    loop_t *loop = c->loop;
    if (subscribe_admit(c, req) != 0) return;
    pusher_session_t *s = calloc(1, sizeof(*s));
    unsigned char r[8];
    if (s == NULL || RAND_bytes(r, sizeof(r)) != 1) {
        free(s);
        conn_close(c);
        return;
    }
    if (wsconn_handshake(c, req, &s->ws) != 0) {
        free(s);
        return;
    }
    c->session = s;
    conn_proto_set(c, &pusher_proto);
    snprintf(s->socket_id, sizeof(s->socket_id), "%u.%u", (unsigned)(r[0] | r[1] << 8 | r[2] << 16) % 1000000000u,
             (unsigned)(r[4] | r[5] << 8 | r[6] << 16 | (unsigned)(r[7] & 0x7f) << 24));
    const pusher_app_t *app = secrets_app_by_key(&loop->auth.secrets, key, key_len);
    if (app == NULL) {
        log_info("%s: Pusher connection for unknown app key %.*s", c->peer, (int)(key_len > 64 ? 64 : key_len), key);
        pusher_error(c, PUSHER_E_UNKNOWN_APP, "App key not in pusher_apps_file");
        wsconn_close(c, PUSHER_E_UNKNOWN_APP, "unknown app");
        return;
    }
    snprintf(s->app_key, sizeof(s->app_key), "%s", app->key);
    char data[128];
    snprintf(data, sizeof(data), "{\"socket_id\":\"%s\",\"activity_timeout\":%llu}", s->socket_id,
             (unsigned long long)(loop->cfg->ping_interval_ms / 1000 ? loop->cfg->ping_interval_ms / 1000 : 1));
    pusher_send_event(c, "pusher:connection_established", NULL, 0, data);
}

size_t pusher_presence_count(loop_t *loop, const char *name, size_t len) {
    for (pusher_presence_t *p = pusher_presences[loop->index]; p; p = p->next)
        if (strlen(p->name) == len && memcmp(p->name, name, len) == 0) return p->nmembers;
    return 0;
}

struct json_t *pusher_presence_users(loop_t *loop, const char *name, size_t len) {
    json_t *users = json_array();
    for (pusher_presence_t *p = pusher_presences[loop->index]; p; p = p->next) {
        if (strlen(p->name) != len || memcmp(p->name, name, len) != 0) continue;
        for (pusher_member_t *m = p->members; m; m = m->next)
            json_array_append_new(users, json_pack("{s:s}", "id", m->user_id));
    }
    return users;
}
