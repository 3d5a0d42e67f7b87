#include "pusher.h"

#include "hubremote.h"
#include "log.h"
#include "pusherwire.h"
#include "subscribe.h"
#include "wsconn.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdatomic.h>
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

/* One connection's place on a presence channel (the members themselves
 * are the hub's, shared by every loop, or Redis's with `redis`): seq is
 * where its member list was taken, so it is told only of members coming
 * or going after that. In a cluster a seat waits for its channel's
 * subscription in Redis (SUBSCRIBING: every member event then reaches
 * this node), then for its join's answer (JOINING: member events are
 * held meanwhile, and those after the answer's seq are sent after it). */
enum { PUSHER_SEAT_JOINED = 0, PUSHER_SEAT_SUBSCRIBING, PUSHER_SEAT_JOINING };
#define PUSHER_SEAT_HELD_MAX 32 /* member events held while joining; more: rejoin */

typedef struct pusher_seat {
    struct pusher_seat *next;
    uint64_t seq;
    uint64_t token;            /* cluster: the join's answer finds its seat */
    uint8_t state;             /* PUSHER_SEAT_* */
    char *info;                /* cluster: user_info until the join is sent */
    hub_note_t **held;         /* cluster: member events while joining */
    size_t nheld;
    size_t name_len;
    char name[PUSHER_CHANNEL_MAX + 1];
    char user_id[PUSHER_USER_ID_MAX];
} pusher_seat_t;

typedef struct pusher_session {
    ws_parser_t ws;
    char app_key[SECRETS_APP_KEY_MAX + 1];
    char socket_id[32];
    uint64_t socket_key;   /* socket_id as pusher_socket_id_parse reads it */
    pusher_seat_t *seats;
} pusher_session_t;

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

/* The rare branches of pusher_deliver, out of line so that its common
 * one stays a few loads and a tail call: the loop's first Pusher
 * subscriber of a message builds the frame, and the connection an event
 * was sent toOthers() from is skipped (conn_deliver counted it). */
static int pusher_deliver_first(conn_t *c, message_t *m) __attribute__((noinline, cold));
static int pusher_deliver_skip(conn_t *c) __attribute__((noinline, cold));

static int pusher_deliver_skip(conn_t *c) {
    c->loop->stats.frames_delivered--;
    return 1;
}

/* The encode-once frame, shared by every subscriber; an event sent
 * toOthers() skips its sender's connection with one compare of the key
 * the frame carries (nothing more when it names nobody). */
static int pusher_deliver(conn_t *c, channel_t *ch, message_t *m) {
    buf_t *b = m->pusher;
    if (b == NULL) return pusher_deliver_first(c, m);
    uint64_t except = pusher_frame_except(b);
    if (except != 0 && except == pusher_of(c)->socket_key) return pusher_deliver_skip(c);
    return conn_send(c, b, m->pusher_off);
}

static int pusher_deliver_first(conn_t *c, message_t *m) {
    if ((m->pusher = pusher_message_frame(m, &m->pusher_off)) == NULL) return -1;
    return pusher_deliver(c, NULL, m);
}

static void pusher_seats_advance(conn_t *c);
static void pusher_send_event(conn_t *c, const char *event, const char *channel, size_t clen,
                              const char *data_json) {
    char *out = pusher_event_dumps(event, channel, clen, data_json);
    if (out) wsconn_text(c, out, strlen(out));
    free(out);
}

/* subscribe_resume's answer: Pusher says subscription_succeeded instead
 * (presence with its members, from pusher_subscribe). In a cluster it
 * comes when a subscription's wait for its channel's state from Redis
 * ends: announced then (SUB_ANNOUNCE), the client gets every message
 * published after it hears it; presence joins wait for it too. */
static int pusher_answer(conn_t *c, const char *json, size_t n) {
    if (!c->loop->hub->cluster) return 0;
    for (uint32_t i = 0; i < c->nsubs && conn_is_open(c); i++) {
        sub_t *s = c->subs[i];
        if (s->wait != SUB_ANNOUNCE) continue;
        s->wait = 0;
        pusher_send_event(c, "pusher_internal:subscription_succeeded", s->ch->name, s->ch->name_len, "{}");
    }
    pusher_seats_advance(c);
    return 0;
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

/* A presence note from the hub (pusher_presence_deliver): to this loop's
 * Pusher subscribers of the channel whose member list predates it. */
static pusher_seat_t *pusher_seat_find(conn_t *c, const char *name, size_t len) {
    pusher_session_t *s = pusher_of(c);
    for (pusher_seat_t *seat = s ? s->seats : NULL; seat; seat = seat->next)
        if (seat->name_len == len && memcmp(seat->name, name, len) == 0) return seat;
    return NULL;
}

static void pusher_seat_free(pusher_seat_t *seat) {
    for (size_t i = 0; i < seat->nheld; i++) hub_note_release(seat->held[i]);
    free(seat->held);
    free(seat->info);
    free(seat);
}

static void pusher_seat_unlink(conn_t *c, pusher_seat_t *seat) {
    pusher_session_t *s = pusher_of(c);
    for (pusher_seat_t **pp = &s->seats; *pp; pp = &(*pp)->next)
        if (*pp == seat) {
            *pp = seat->next;
            return;
        }
}

static void pusher_subscription_error(conn_t *c, const char *channel, size_t clen, int status,
                                      const char *why) {
    log_info("%s: Pusher subscribe to %.*s refused: %s", c->peer, (int)clen, channel, why);
    char out[700];
    int n = snprintf(out, sizeof(out),
                     "{\"event\":\"pusher:subscription_error\",\"channel\":\"%.*s\",\"data\":"
                     "{\"type\":\"AuthError\",\"error\":\"%s\",\"status\":%d}}",
                     (int)clen, channel, why, status);
    if (n > 0 && (size_t)n < sizeof(out)) wsconn_text(c, out, (size_t)n);
}

/* Cluster: a join Redis did not take. A full channel is refused as on one
 * node; with Redis unreachable the member list cannot be told, so the
 * connection is closed with 4100: pusher-js comes back after a second
 * (a 4200 would bring it back at once, over and over while Redis is away). */
static void pusher_seat_refuse(conn_t *c, pusher_seat_t *seat, int status) {
    char name[PUSHER_CHANNEL_MAX + 1];
    size_t len = seat->name_len;
    memcpy(name, seat->name, len);
    if (seat->state == PUSHER_SEAT_JOINING && status == HUB_ENOMEM) /* Redis counted it */
        hub_presence_op_push(c->loop->hub, 0, c->loop->index, seat->name, seat->name_len,
                             seat->user_id, NULL, 0, 0);
    pusher_seat_unlink(c, seat);
    pusher_seat_free(seat);
    if (status == HUB_EFULL || status == HUB_ENOMEM) {
        const char *why = status == HUB_EFULL ? "this presence channel is full (max_presence_members)"
                                              : "out of memory";
        pusher_subscription_error(c, name, len, status == HUB_EFULL ? 403 : 500, why);
        if (status == HUB_EFULL) pusher_error(c, PUSHER_E_UNAUTHORIZED, why);
        channel_t *ch = channel_find(&c->loop->channels, name, len);
        if (ch) conn_unsubscribe(c, ch);
        return;
    }
    pusher_subscription_error(c, name, len, 503, "presence members live in Redis, which is unreachable: reconnect");
    pusher_error(c, PUSHER_E_OVER_CAPACITY, "presence members live in Redis, which is unreachable: reconnect");
    wsconn_close(c, PUSHER_E_OVER_CAPACITY, "Redis unreachable");
}

/* Cluster: the join's answer. subscription_succeeded with the members as
 * of the answer's seq, then the member events held meanwhile that came
 * after it. */
static void pusher_seat_joined(conn_t *c, pusher_seat_t *seat, const hub_note_t *n) {
    if (n->status != 0) {
        pusher_seat_refuse(c, seat, n->status);
        return;
    }
    seat->state = PUSHER_SEAT_JOINED;
    seat->seq = n->seq;
    pusher_send_event(c, "pusher_internal:subscription_succeeded", seat->name, seat->name_len,
                      n->roll ? n->roll : "{}");
    for (size_t i = 0; i < seat->nheld; i++) {
        hub_note_t *h = seat->held[i];
        if (h->seq > seat->seq && conn_is_open(c)) {
            seat->seq = h->seq;
            conn_send(c, h->frame, h->frame_off);
        }
        hub_note_release(h);
    }
    free(seat->held);
    seat->held = NULL;
    seat->nheld = 0;
}

/* Cluster: a member event while the join is on its way is kept for it. */
static void pusher_seat_hold(conn_t *c, pusher_seat_t *seat, const hub_note_t *n) {
    hub_note_t **h = seat->nheld < PUSHER_SEAT_HELD_MAX
                         ? realloc(seat->held, (seat->nheld + 1) * sizeof(*h)) : NULL;
    if (h == NULL) {
        wsconn_close(c, PUSHER_E_RECONNECT, "too many member events while joining: reconnect");
        return;
    }
    seat->held = h;
    atomic_fetch_add_explicit(&((hub_note_t *)n)->refs, 1, memory_order_relaxed);
    seat->held[seat->nheld++] = (hub_note_t *)n;
}

void pusher_presence_deliver(loop_t *loop, const hub_note_t *n) {
    channel_t *ch = channel_find(&loop->channels, n->name, n->name_len);
    if (ch == NULL) return;
    sub_t *next;
    ch->busy++;
    for (sub_t *s = ch->subs; s; s = next) {
        next = s->next; /* a slow consumer leaves the list while we walk */
        if (s->conn->proto != &pusher_proto || !conn_is_open(s->conn)) continue;
        pusher_seat_t *seat = pusher_seat_find(s->conn, n->name, n->name_len);
        if (seat == NULL) continue;
        if (n->kind == HUB_NOTE_RESET) {
            /* member events were lost: join again, on this node or another */
            loop->stats.cluster_gap_closed++;
            wsconn_close(s->conn, PUSHER_E_RECONNECT, "presence members lost with Redis: reconnect");
        } else if (n->kind == HUB_NOTE_JOINED) {
            if (seat->state == PUSHER_SEAT_JOINING && seat->token == n->token)
                pusher_seat_joined(s->conn, seat, n);
        } else if (seat->state == PUSHER_SEAT_JOINING) {
            pusher_seat_hold(s->conn, seat, n);
        } else if (seat->state == PUSHER_SEAT_JOINED && seat->seq < n->seq) {
            seat->seq = n->seq;
            conn_send(s->conn, n->frame, n->frame_off);
        }
    }
    ch->busy--;
    channel_release(&loop->channels, ch); /* closed clients may have been its last */
}

/* Cluster: does the connection's subscription to the seat's channel still
 * wait for the channel's state from Redis (subscribe.c)? */
static int pusher_seat_waits(conn_t *c, const pusher_seat_t *seat) {
    channel_t *ch = channel_find(&c->loop->channels, seat->name, seat->name_len);
    for (uint32_t i = 0; ch && i < c->nsubs; i++)
        if (c->subs[i]->ch == ch) return (c->subs[i]->wait & SUB_WAIT) != 0;
    return 0;
}

/* Cluster: seats whose channel this node now receives from Redis send
 * their join to the link (loop 0), which answers with a JOINED note. */
static void pusher_seats_advance(conn_t *c) {
    pusher_session_t *s = pusher_of(c);
    pusher_seat_t *next;
    for (pusher_seat_t *seat = s ? s->seats : NULL; seat && conn_is_open(c); seat = next) {
        next = seat->next;
        if (seat->state != PUSHER_SEAT_SUBSCRIBING || pusher_seat_waits(c, seat)) continue;
        int rc = hub_presence_op_push(c->loop->hub, 1, c->loop->index, seat->name, seat->name_len,
                                      seat->user_id, seat->info,
                                      (uint32_t)c->loop->cfg->max_presence_members, seat->token);
        free(seat->info);
        seat->info = NULL;
        if (rc == 0) seat->state = PUSHER_SEAT_JOINING;
        else pusher_seat_refuse(c, seat, rc);
    }
}

/* subscription_succeeded's presence data, built under the hub's lock from
 * its members: {"presence":{"ids":[…],"hash":{id:info,…},"count":n}}. */
typedef struct pusher_roll {
    char *ids, *hash;
    size_t ids_len, hash_len, ids_cap, hash_cap;
    unsigned count;
    int failed;
} pusher_roll_t;

static void pusher_roll_put(pusher_roll_t *r, char **s, size_t *len, size_t *cap, const char *a,
                            const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c);
    if (r->failed) return;
    if (*len + n + 1 > *cap) {
        size_t ncap = (*cap + n + 1) * 2;
        char *p = realloc(*s, ncap);
        if (p == NULL) {
            r->failed = 1;
            return;
        }
        *s = p;
        *cap = ncap;
    }
    *len += (size_t)snprintf(*s + *len, *cap - *len, "%s%s%s", a, b, c);
}

static void pusher_roll_add(void *arg, const char *user_id, const char *info) {
    pusher_roll_t *r = arg;
    const char *sep = r->count++ ? "," : "";
    pusher_roll_put(r, &r->ids, &r->ids_len, &r->ids_cap, sep, "\"", user_id);
    pusher_roll_put(r, &r->ids, &r->ids_len, &r->ids_cap, "\"", "", "");
    pusher_roll_put(r, &r->hash, &r->hash_len, &r->hash_cap, sep, "\"", user_id);
    pusher_roll_put(r, &r->hash, &r->hash_len, &r->hash_cap, "\":", info, "");
}

static char *pusher_roll_json(pusher_roll_t *r) {
    size_t cap = r->ids_len + r->hash_len + 64;
    char *s = r->failed ? NULL : malloc(cap);
    if (s) snprintf(s, cap, "{\"presence\":{\"ids\":[%s],\"hash\":{%s},\"count\":%u}}",
                    r->ids ? r->ids : "", r->hash ? r->hash : "", r->count);
    free(r->ids);
    free(r->hash);
    return s;
}

/* A user id is JSON-safe when it is one of Herald's name bytes. */
static int pusher_user_id_ok(const char *id) {
    for (const char *p = id; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) return 0;
    return 1;
}

/* Join a presence channel as user_id: the user's first connection on any
 * loop makes it a member (member_added to the others, on every loop).
 * *roll gets the members' JSON for subscription_succeeded. */
static int pusher_presence_join(conn_t *c, const char *channel, size_t clen, const char *user_id,
                                const char *info, char **roll) {
    pusher_session_t *s = pusher_of(c);
    pusher_seat_t *seat = calloc(1, sizeof(*seat));
    char data[PUSHER_USER_ID_MAX + PUSHER_CHANNEL_DATA_MAX + 40];
    snprintf(data, sizeof(data), "{\"user_id\":\"%s\",\"user_info\":%s}", user_id, info);
    size_t off = 0;
    buf_t *frame = pusher_event_frame("pusher_internal:member_added", channel, clen, data, &off);
    pusher_roll_t r = {0};
    *roll = NULL;
    if (seat == NULL || frame == NULL) {
        free(seat);
        buf_unref(frame);
        return -1;
    }
    int rc = hub_presence_join(c->loop->hub, channel, clen, user_id, info,
                               c->loop->cfg->max_presence_members, frame, off, pusher_roll_add, &r,
                               &seat->seq);
    buf_unref(frame);
    *roll = pusher_roll_json(&r);
    if (rc < 0 || *roll == NULL) {
        if (rc >= 0) hub_presence_leave(c->loop->hub, channel, clen, user_id, NULL, 0);
        free(*roll);
        *roll = NULL;
        free(seat);
        return rc == HUB_EFULL ? HUB_EFULL : -1;
    }
    memcpy(seat->name, channel, clen);
    seat->name_len = clen;
    snprintf(seat->user_id, sizeof(seat->user_id), "%s", user_id);
    seat->next = s->seats;
    s->seats = seat;
    return 0;
}

/* Leave: the user's last connection on any loop makes member_removed. */
static void pusher_seat_leave(conn_t *c, pusher_seat_t *seat) {
    if (c->loop->hub->cluster) { /* a join sent is undone, in order, by Redis */
        if (seat->state != PUSHER_SEAT_SUBSCRIBING)
            hub_presence_op_push(c->loop->hub, 0, c->loop->index, seat->name, seat->name_len,
                                 seat->user_id, NULL, 0, 0);
        pusher_seat_free(seat);
        return;
    }
    char data[PUSHER_USER_ID_MAX + 20];
    snprintf(data, sizeof(data), "{\"user_id\":\"%s\"}", seat->user_id);
    size_t off = 0;
    buf_t *frame = pusher_event_frame("pusher_internal:member_removed", seat->name, seat->name_len,
                                      data, &off);
    hub_presence_leave(c->loop->hub, seat->name, seat->name_len, seat->user_id, frame, off);
    buf_unref(frame);
    free(seat);
}

static void pusher_presence_leave(conn_t *c, const char *channel, size_t clen) {
    pusher_session_t *s = pusher_of(c);
    for (pusher_seat_t **pp = &s->seats; *pp; pp = &(*pp)->next) {
        pusher_seat_t *seat = *pp;
        if (seat->name_len != clen || memcmp(seat->name, channel, clen) != 0) continue;
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
    if (subscribe_resume(c, cmd->channel, cmd->channel_len, 0, 0, NULL, NULL, &code, &reason) != 0) {
        free(info);
        pusher_refuse(c, cmd, 400, reason);
        return;
    }
    if (presence) pusher_presence_leave(c, cmd->channel, cmd->channel_len); /* a repeat */
    if (presence && loop->hub->cluster) { /* answered when Redis has the join */
        pusher_seat_t *seat = calloc(1, sizeof(*seat));
        if (seat && !hub_presence_is_up(loop->hub)) {
            seat->name_len = cmd->channel_len;
            memcpy(seat->name, cmd->channel, cmd->channel_len);
            seat->next = s->seats;
            s->seats = seat;
            free(info);
            pusher_seat_refuse(c, seat, HUB_EDOWN);
            return;
        }
        if (seat == NULL) {
            free(info);
            channel_t *ch = channel_find(&loop->channels, cmd->channel, cmd->channel_len);
            if (ch) conn_unsubscribe(c, ch);
            pusher_refuse(c, cmd, 500, "out of memory");
            return;
        }
        seat->state = PUSHER_SEAT_SUBSCRIBING;
        seat->token = hub_presence_token(loop->hub);
        seat->info = info;
        memcpy(seat->name, cmd->channel, cmd->channel_len);
        seat->name_len = cmd->channel_len;
        snprintf(seat->user_id, sizeof(seat->user_id), "%s", user_id);
        seat->next = s->seats;
        s->seats = seat;
        pusher_seats_advance(c);
        return;
    }
    if (!presence) { /* waiting for the channel's state: announced by pusher_answer */
        channel_t *ch = channel_find(&loop->channels, cmd->channel, cmd->channel_len);
        for (uint32_t i = 0; ch && i < c->nsubs; i++)
            if (c->subs[i]->ch == ch && (c->subs[i]->wait & SUB_WAIT)) {
                c->subs[i]->wait |= SUB_ANNOUNCE;
                return;
            }
    }
    char *data = NULL;
    int joined = presence ? pusher_presence_join(c, cmd->channel, cmd->channel_len, user_id, info, &data) : 0;
    free(info);
    if (joined != 0) {
        channel_t *ch = channel_find(&loop->channels, cmd->channel, cmd->channel_len);
        if (ch) conn_unsubscribe(c, ch);
        if (joined == HUB_EFULL) pusher_refuse(c, cmd, 403, "this presence channel is full (max_presence_members)");
        else pusher_refuse(c, cmd, 500, "out of memory");
        return;
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

/* Socket ids are "A.B": A random (as Pusher's look), B this process's
 * serial, so no two connections of any loop share one while fewer than
 * 2^31 have come since (and then A tells them apart but by chance):
 * toOthers() must skip its sender and nobody else. */
static atomic_uint pusher_serial = 1;

/* GET /app/{key}: Pusher's WebSocket endpoint. An unknown key is told
 * 4001 after the upgrade, as pusher-js expects. */
void pusher_upgrade(conn_t *c, http_req_t *req, const char *key, size_t key_len) {
    loop_t *loop = c->loop;
    if (subscribe_admit(c, req) != 0) return;
    pusher_session_t *s = calloc(1, sizeof(*s));
    unsigned char r[4];
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
    unsigned serial = atomic_fetch_add_explicit(&pusher_serial, 1, memory_order_relaxed) & 0x7fffffffu;
    snprintf(s->socket_id, sizeof(s->socket_id), "%u.%u",
             (unsigned)(r[0] | r[1] << 8 | (unsigned)r[2] << 16 | (unsigned)(r[3] & 0x3f) << 24) % 1000000000u,
             serial);
    if (pusher_socket_id_parse(s->socket_id, strlen(s->socket_id), &s->socket_key) != 0)
        s->socket_key = PUSHER_SOCKET_NOBODY; /* cannot be: "%u.%u" */
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
    return hub_presence_each(loop->hub, name, len, NULL, NULL);
}

static void pusher_user_add(void *arg, const char *user_id, const char *info) {
    json_array_append_new(arg, json_pack("{s:s}", "id", user_id));
}

struct json_t *pusher_presence_users(loop_t *loop, const char *name, size_t len) {
    json_t *users = json_array();
    if (users) hub_presence_each(loop->hub, name, len, pusher_user_add, users);
    return users;
}
