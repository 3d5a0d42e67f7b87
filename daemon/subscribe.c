#include "subscribe.h"

#include "command.h"
#include "accept.h"
#include "log.h"
#include "origin.h"
#include "quota.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Behind a trusted proxy the client is named by the one header that proxy
 * sets (trusted_proxy_header): a client could send the other one itself,
 * and the proxy would pass it on untouched. It is counted then, at the
 * upgrade request (a proxy's own connections are not counted at accept:
 * they carry many clients). */
int subscribe_admit(conn_t *c, http_req_t *req) {
    const loop_auth_t *a = &c->loop->auth;
    if (c->listener != LISTEN_PUBLIC || c->ip.family == 0 ||
        !peer_cidr_contains(a->trusted, a->ntrusted, &c->ip))
        return 0;
    size_t xl = 0, fl = 0;
    const char *xff = NULL, *fwd = NULL;
    if (strcasecmp(c->loop->cfg->trusted_proxy_header, "forwarded") == 0)
        fwd = http_req_header(req, HTTP_H_FORWARDED, &fl);
    else
        xff = http_req_header(req, HTTP_H_X_FORWARDED_FOR, &xl);
    peer_addr_t client;
    if (peer_forwarded_client(xff, xff ? xl : 0, fwd, fwd ? fl : 0, a->trusted, a->ntrusted,
                              &client) != 0)
        return conn_admit(c, &c->ip); /* no client named: the proxy is the client */
    char ip[INET6_ADDRSTRLEN];
    if (inet_ntop(client.family == 4 ? AF_INET : AF_INET6, client.bytes, ip, sizeof(ip)))
        snprintf(c->peer, sizeof(c->peer), "%.46s (via proxy)", ip);
    return conn_admit(c, &client);
}

void subscribe_cors_header(const loop_t *loop, http_req_t *req, char *out, size_t size) {
    const char *allowed = loop->cfg->allowed_origins;
    size_t olen;
    const char *origin = http_req_header(req, HTTP_H_ORIGIN, &olen);
    out[0] = '\0';
    if (strcmp(allowed, "*") == 0)
        snprintf(out, size, "Access-Control-Allow-Origin: *\r\n");
    else if (origin && olen < 256 && origin_list_allows(allowed, origin, olen))
        snprintf(out, size, "Access-Control-Allow-Origin: %.*s\r\nVary: Origin\r\n", (int)olen, origin);
}

/* A browser sends a handful of commands (a reconnecting page resubscribes
 * everything at once, hence the burst of rate + max_subscriptions); a
 * script hammering gets refusals, and one that keeps going past twice the
 * rate is to be closed (1008). Tokens are in thousandths. */
static uint64_t subscribe_rate_burst(const config_t *cfg) {
    return (cfg->max_commands_per_second + cfg->max_subscriptions) * 1000;
}

void subscribe_rate_init(conn_t *c) {
    c->cmd_tokens = (uint32_t)subscribe_rate_burst(c->loop->cfg);
    c->cmd_ms = uv_now(c->loop->uv);
}

int subscribe_rate_take(conn_t *c) {
    const config_t *cfg = c->loop->cfg;
    uint64_t rate = cfg->max_commands_per_second, full = subscribe_rate_burst(cfg);
    uint64_t now = uv_now(c->loop->uv);
    uint64_t t = c->cmd_tokens + (now - c->cmd_ms) * rate;
    c->cmd_tokens = (uint32_t)(t > full ? full : t);
    c->cmd_ms = now;
    if (c->cmd_tokens >= 1000) {
        c->cmd_tokens -= 1000;
        c->cmd_refused = 0;
        return SUBSCRIBE_RATE_OK;
    }
    c->loop->stats.commands_rate_limited++;
    if (++c->cmd_refused > 2 * rate) {
        log_info("%s: commands past twice max_commands_per_second: closing", c->peer);
        return SUBSCRIBE_RATE_CLOSE;
    }
    return SUBSCRIBE_RATE_REFUSED;
}

/* A page on another site must not read streams (cross-site hijacking), on
 * every protocol alike; requests without Origin are not from a browser
 * page. 1 when c was answered 403. */
int subscribe_origin_refuse(conn_t *c, http_req_t *req) {
    size_t olen;
    const char *origin = http_req_header(req, HTTP_H_ORIGIN, &olen);
    if (origin == NULL || origin_list_allows(c->loop->cfg->allowed_origins, origin, olen))
        return 0;
    c->loop->stats.origin_refused++;
    log_info("%s: origin %.*s not allowed", c->peer, (int)(olen > 200 ? 200 : olen), origin);
    conn_http_error(c, 403, NULL, "origin not allowed (allowed_origins)");
    return 1;
}

/* FNV-1a over key id and secret: a subscription remembers its key in 4
 * bytes, and a reload that removes the key or changes its secret revokes
 * it (unless a key still loaded shares the fingerprint: 1 in 2^31 per
 * pair of the operator's own secrets). Never 0 (0 marks a public name). */
static uint32_t subscribe_key_fingerprint(const herald_secret_t *k) {
    uint32_t h = 2166136261u;
    for (const char *p = k->kid; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (size_t i = 0; i < k->key_len; i++) h = (h ^ k->key[i]) * 16777619u;
    return h | 1;
}

int subscribe_authorize(loop_t *loop, const char *name, size_t len, const char **plain,
                        size_t *plain_len, subscribe_grant_t *g, const char **code,
                        const char **reason) {
    if (g) g->expires = g->keyfp = 0;
    if (memchr(name, '~', len) == NULL) {
        if (herald_channel_check(name, len) != 0) {
            *code = "invalid_channel";
            *reason = "channel names are 1-200 bytes of A-Z a-z 0-9 _ - . : @";
            return -1;
        }
        if (!channel_is_public(loop->cfg->public_channels, name, len)) {
            *code = "forbidden";
            *reason = "this channel needs a signed name";
            return -1;
        }
        *plain = name;
        *plain_len = len;
        return 0;
    }
    const secrets_t *s = &loop->auth.secrets;
    herald_signed_t out;
    int rc = s->nkeys == 0 ? HERALD_SIGNED_EKID
             : herald_verify(s->keys, s->nkeys, name, len, hub_wall_ms() / 1000, &out);
    if (rc == 0) {
        *plain = out.channel;
        *plain_len = out.channel_len;
        if (g) {
            g->expires = out.expiry;
            g->keyfp = subscribe_key_fingerprint(out.secret);
        }
        return 0;
    }
    *code = rc == HERALD_SIGNED_EEXPIRED ? "expired"
            : rc == HERALD_SIGNED_ECHANNEL ? "invalid_channel" : "forbidden";
    *reason = s->nkeys == 0 ? "no secret is configured for signed names"
                            : herald_signed_strerror(rc);
    return -1;
}

/* The answer, then the replay from history: what subscribe_resume and a
 * waiting subscription's completion share. */
static void subscribe_answer(conn_t *c, channel_t *ch, const command_t *cmd, uint64_t last,
                             int has_since, int ok, message_t *replay, size_t nreplay) {
    const char *resume = has_since ? (ok ? "ok" : "gap") : NULL;
    char ans[512];
    int n = command_subscribed_format(ans, sizeof(ans), cmd, ch->name, ch->name_len, last,
                                      resume);
    int sent = n >= 0 && c->proto->answer(c, ans, (size_t)n) == 0;
    ch->busy++;
    for (size_t i = 0; i < nreplay; i++) {
        if (sent && conn_is_open(c)) conn_deliver(c, ch, &replay[i]);
        buf_unref(replay[i].ws);
        buf_unref(replay[i].sse);
        buf_unref(replay[i].sio);
        buf_unref(replay[i].pusher);
    }
    ch->busy--;
    free(replay);
}

/* A client pays for the channels it brings into being (the state is
 * ours): from credit reserved by subscribe_reserve, else from its
 * connection's bucket and its address's. 0, or -1 with the refusal. */
static int subscribe_charge(conn_t *c, size_t n, const char **code, const char **reason) {
    loop_t *loop = c->loop;
    const config_t *cfg = loop->cfg;
    if (c->new_ch_credit >= n) {
        c->new_ch_credit -= (uint32_t)n;
        return 0;
    }
    uint64_t now = hub_wall_ms(), rate = cfg->max_new_channels_per_second;
    uint64_t burst = rate + cfg->max_subscriptions;
    *code = "rate_limited";
    if (quota_bucket_take(&c->new_ch_tokens, &c->new_ch_ms, n, now, rate, burst) != 0) {
        *reason = "too many new channels: slow down (max_new_channels_per_second)";
    } else if (hub_creators_take(loop->hub, cfg, &c->ip, n, now) != 0) {
        c->new_ch_tokens += (uint64_t)n * 1000; /* not spent: the address paid nothing */
        *reason = "too many new channels from your address: slow down (max_new_channels_per_ip_per_second)";
    } else {
        return 0;
    }
    loop->stats.new_channels_rate_limited++;
    if (loop_log_throttle(loop)) log_info("%s: %s", c->peer, *reason);
    return -1;
}

int subscribe_reserve(conn_t *c, const char *const *names, const size_t *lens, size_t n,
                      int *status, const char **reason) {
    loop_t *loop = c->loop;
    size_t missing;
    const char *code;
    if (hub_channels_missing(loop->hub, loop->cfg, names, lens, n, &missing) == HUB_EFULL) {
        loop->stats.max_channels_refused++;
        if (loop_log_throttle(loop)) log_warn("%s: refused: max_channels reached", c->peer);
        *status = 503;
        *reason = "too_many_channels: the server holds max_channels channels; try again later";
        return -1;
    }
    if (missing && subscribe_charge(c, missing, &code, reason) != 0) {
        *status = 429;
        return -1;
    }
    c->new_ch_credit += (uint32_t)missing;
    return 0;
}

/* The hub counts the subscription; a channel it does not hold yet is
 * charged to the client first. 1 ok, 0 gap, or -1 with the refusal. */
static int subscribe_hub(conn_t *c, const char *plain, size_t len, int counted, int has_since,
                         uint64_t since, uint64_t *last, message_t **replay, size_t *nreplay,
                         const char **code, const char **reason) {
    loop_t *loop = c->loop;
    int ok = hub_subscribe(loop->hub, loop->index, loop->cfg, plain, len, counted, 0, has_since,
                           since, last, replay, nreplay);
    if (ok == HUB_ENOENT) {
        if (subscribe_charge(c, 1, code, reason) != 0) return -1;
        ok = hub_subscribe(loop->hub, loop->index, loop->cfg, plain, len, counted, 1, has_since,
                           since, last, replay, nreplay);
    }
    if (ok == HUB_EFULL) {
        loop->stats.max_channels_refused++;
        if (loop_log_throttle(loop)) log_warn("%s: refused: max_channels reached", c->peer);
        *code = "too_many_channels";
        *reason = "the server holds max_channels channels; try again later";
        return -1;
    }
    if (ok < 0) {
        *code = "bad_request";
        *reason = "out of memory";
        return -1;
    }
    return ok;
}

static sub_t *subscribe_find(conn_t *c, const channel_t *ch) {
    for (uint32_t i = 0; i < c->nsubs; i++)
        if (c->subs[i]->ch == ch) return c->subs[i];
    return NULL;
}

/* The earliest moment the sweep must look at c's subscriptions again. */
static void subscribe_renew_update(conn_t *c) {
    uint32_t at = 0;
    for (uint32_t i = 0; i < c->nsubs; i++) {
        const sub_t *s = c->subs[i];
        uint32_t t = s->notice_s ? s->notice_s : s->expires_s;
        if (t && (at == 0 || t < at)) at = t;
    }
    c->renew_s = at;
}

/* The 'expiring' notice goes expiring_notice_ms ahead, but never in the
 * first half of a name's remaining life: a 5-second name hears it after
 * 2.5 s instead of at once, so renewing every notice cannot loop.
 * c->renew_s only moves earlier here (no walk per subscribe); one that
 * is early because a subscription left or was refreshed costs one walk of
 * the sweep, which recomputes it. */
static void subscribe_grant_apply(conn_t *c, sub_t *s, const subscribe_grant_t *g) {
    uint64_t exp = g ? g->expires : 0;
    s->expires_s = exp > UINT32_MAX ? UINT32_MAX : (uint32_t)exp;
    s->keyfp = g ? g->keyfp : 0;
    s->notice_s = 0;
    uint64_t now = hub_wall_ms() / 1000, window = c->loop->cfg->expiring_notice_ms / 1000;
    if (s->expires_s > now && c->loop->cfg->expiring_notice_ms) {
        uint64_t half = (s->expires_s - now) / 2;
        s->notice_s = (uint32_t)(s->expires_s - (window < half ? window : half));
    }
    uint32_t t = s->notice_s ? s->notice_s : s->expires_s;
    if (t && (c->renew_s == 0 || t < c->renew_s)) c->renew_s = t;
}

int subscribe_refresh(conn_t *c, const char *plain, size_t plain_len,
                      const subscribe_grant_t *g) {
    channel_t *ch = channel_find(&c->loop->channels, plain, plain_len);
    sub_t *s = ch ? subscribe_find(c, ch) : NULL;
    if (s == NULL) return -1;
    subscribe_grant_apply(c, s, g);
    return 0;
}

/* 1 if a key with fingerprint fp is still loaded. */
static int subscribe_key_loaded(const loop_t *loop, uint32_t fp) {
    const secrets_t *k = &loop->auth.secrets;
    for (size_t i = 0; i < k->nkeys; i++)
        if (subscribe_key_fingerprint(&k->keys[i]) == fp) return 1;
    return 0;
}

/* The sweep runs every tick ms, so a notice due before the next sweep
 * goes now (it must arrive ahead of the expiry), and an expiry is acted on
 * at the first sweep after it (at most one tick late). Ending a WebSocket
 * subscription moves the last one into its slot (conn_unsubscribe), so
 * that slot is looked at again; ending an SSE stream ends the walk. */
void subscribe_expiry_tick(conn_t *c, subscribe_end_cb end) {
    loop_t *loop = c->loop;
    int recheck = c->auth_gen != loop->auth_gen;
    if (!recheck && c->renew_s == 0) return;
    uint64_t now_ms = hub_wall_ms(), now = now_ms / 1000;
    uint64_t soon = (now_ms + uv_timer_get_repeat(&loop->sweep)) / 1000;
    if (!recheck && soon < c->renew_s) return;
    c->auth_gen = loop->auth_gen;
    for (uint32_t i = 0; i < c->nsubs && conn_is_open(c);) {
        sub_t *s = c->subs[i];
        const char *why = s->expires_s && now >= s->expires_s ? "expired"
                          : recheck && s->keyfp && !subscribe_key_loaded(loop, s->keyfp) ? "revoked"
                          : NULL;
        if (why) {
            if (loop_log_throttle(loop))
                log_info("%s: subscription to %.*s %s", c->peer, (int)s->ch->name_len, s->ch->name, why);
            if (why[0] == 'e') loop->stats.subscriptions_expired++;
            else loop->stats.subscriptions_revoked++;
            end(c, s, why);
            continue;
        }
        if (s->notice_s && soon >= s->notice_s) {
            char ans[320];
            int n = command_expiring_format(ans, sizeof(ans), s->ch->name, s->ch->name_len,
                                            s->expires_s);
            s->notice_s = 0;
            if (n > 0) c->proto->answer(c, ans, (size_t)n);
        }
        i++;
    }
    if (conn_is_open(c)) subscribe_renew_update(c);
}

/* The answer, the replay from history and the first live message are
 * ordered by the hub's lock: hub_subscribe reads history and the last id
 * in one critical section, and the subscription then takes only ids after
 * it (sub->last_id), so an emit on another loop racing this resume gives
 * neither a gap nor a duplicate. In a cluster, a channel new to this node
 * waits for its state from Redis (HUB_PENDING): the subscription takes
 * nothing until subscribe_on_channel answers it. */
int subscribe_resume(conn_t *c, const char *plain, size_t plain_len, int has_since,
                     uint64_t since, const subscribe_grant_t *g, const void *cmd,
                     const char **code, const char **reason) {
    loop_t *loop = c->loop;
    channel_t *ch = channel_get(&loop->channels, plain, plain_len, hub_wall_ms());
    if (ch == NULL) {
        *code = "bad_request";
        *reason = "out of memory";
        return -1;
    }
    int already = conn_is_subscribed(c, ch);
    if (!already && conn_subscribe(c, ch) != 0) {
        channel_release(&loop->channels, ch);
        *code = "too_many_subscriptions";
        *reason = "too many subscriptions on this connection";
        return -1;
    }
    uint64_t last;
    message_t *replay;
    size_t nreplay;
    int ok = subscribe_hub(c, plain, plain_len, !already, has_since && !already, since, &last,
                           &replay, &nreplay, code, reason);
    if (ok < 0) {
        if (!already) conn_subscribe_undo(c, ch);
        return -1;
    }
    /* the name's expiry and key hold from now, answered or waiting */
    subscribe_grant_apply(c, subscribe_find(c, ch), g);
    if (ok == HUB_PENDING) {
        sub_t *s = c->subs[c->nsubs - 1];
        const command_t *k = cmd;
        if (already) return 0; /* answered when the first one is */
        s->last_id = UINT64_MAX;
        s->wait = SUB_WAIT | (has_since ? SUB_WAIT_SINCE : 0) | (k && k->has_req ? SUB_WAIT_REQ : 0);
        s->since = since;
        s->req = k ? k->req : 0;
        return 0; /* the subscription holds the loop's channel */
    }
    if (!already) c->subs[c->nsubs - 1]->last_id = last;
    subscribe_answer(c, ch, cmd, last, has_since, ok, replay, nreplay);
    channel_release(&loop->channels, ch); /* the client may have gone during the replay */
    return 0;
}

/* A waiting subscription's channel is loaded: answer it as
 * subscribe_resume would have. */
static void subscribe_complete(loop_t *loop, channel_t *ch, sub_t *s) {
    conn_t *c = s->conn;
    command_t cmd = {.type = CMD_SUBSCRIBE, .has_req = !!(s->wait & SUB_WAIT_REQ), .req = s->req};
    int has_since = !!(s->wait & SUB_WAIT_SINCE);
    uint64_t last;
    message_t *replay;
    size_t nreplay;
    int ok = hub_subscribe(loop->hub, loop->index, loop->cfg, ch->name, ch->name_len, 0, 0,
                           has_since, s->since, &last, &replay, &nreplay);
    if (ok == HUB_PENDING) return; /* dropped again meanwhile: the next load answers */
    s->wait &= SUB_ANNOUNCE; /* for the protocol's answer hook */
    if (ok < 0) {
        log_error("%s: out of memory answering a subscription: closing", c->peer);
        c->proto->close(c, 1011, "out of memory");
        return;
    }
    s->last_id = last;
    subscribe_answer(c, ch, &cmd, last, has_since, ok, replay, nreplay);
}

void subscribe_on_channel(loop_t *loop, int kind, const char *name, size_t len) {
    channel_t *ch = channel_find(&loop->channels, name, len);
    if (ch == NULL) return;
    sub_t *next;
    ch->busy++;
    for (sub_t *s = ch->subs; s; s = next) {
        next = s->next;
        if (kind == HUB_MSG_READY && (s->wait & SUB_WAIT)) {
            subscribe_complete(loop, ch, s);
        } else if (kind == HUB_MSG_GAP && !(s->wait & SUB_WAIT) && conn_is_open(s->conn)) {
            /* messages are lost: the client resumes (here or elsewhere) and
             * is told gap there, which it can act on */
            loop->stats.cluster_gap_closed++;
            s->conn->proto->close(s->conn, 1012, "messages lost: resume");
        }
    }
    ch->busy--;
    channel_release(&loop->channels, ch); /* closed clients may have been its last */
}
