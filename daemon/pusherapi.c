#include "pusherapi.h"

#include "emitredis.h"
#include "log.h"
#include "pusherredis.h"
#include "pusher.h"
#include "pusherwire.h"
#include "secrets.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUSHERAPI_SKEW_S 600       /* auth_timestamp may be this far off */
#define PUSHERAPI_CHANNELS_MAX 100 /* channels of one event, as Pusher's */
#define PUSHERAPI_PARAMS_MAX 16

/* Pusher's errors are a status and a line of text. */
static void pusherapi_error(conn_t *c, http_req_t *req, int status, const char *why) {
    log_info("%s: Pusher API %d: %s", c->peer, status, why);
    char body[300];
    int n = snprintf(body, sizeof(body), "%s\n", why);
    conn_respond(c, status, NULL, NULL, body, (size_t)n, http_req_keep_alive(req));
}

static void pusherapi_json(conn_t *c, http_req_t *req, json_t *o) {
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s == NULL) {
        pusherapi_error(c, req, 503, "out of memory");
        return;
    }
    conn_respond(c, 200, "application/json", NULL, s, strlen(s), http_req_keep_alive(req));
    free(s);
}

typedef struct pusherapi_param {
    const char *k, *v;
    size_t kl, vl;
} pusherapi_param_t;

static int pusherapi_param_cmp(const void *a, const void *b) {
    const pusherapi_param_t *x = a, *y = b;
    size_t n = x->kl < y->kl ? x->kl : y->kl;
    int r = memcmp(x->k, y->k, n);
    return r ? r : (x->kl > y->kl) - (x->kl < y->kl);
}

static const pusherapi_param_t *pusherapi_get(const pusherapi_param_t *p, size_t n, const char *k) {
    for (size_t i = 0; i < n; i++)
        if (p[i].kl == strlen(k) && memcmp(p[i].k, k, p[i].kl) == 0) return &p[i];
    return NULL;
}

static void pusherapi_hex(const unsigned char *d, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The request's app, if its signature is the app's: HMAC-SHA256 over
 * "METHOD\nPATH\nsorted query without auth_signature". On failure the
 * request was answered (400/401/404) and NULL is returned. */
static const pusher_app_t *pusherapi_auth(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    const char *slash = memchr(rest, '/', n);
    size_t idl = slash ? (size_t)(slash - rest) : n;
    const pusher_app_t *app = secrets_app_by_id(&c->loop->auth.secrets, rest, idl);
    if (app == NULL) {
        pusherapi_error(c, req, 404, "Unknown app_id (pusher_apps_file)");
        return NULL;
    }
    size_t ulen, plen, qlen;
    const char *url = http_req_url(req, &ulen), *path, *q;
    http_url_split(url, ulen, &path, &plen, &q, &qlen);
    pusherapi_param_t p[PUSHERAPI_PARAMS_MAX];
    size_t np = 0;
    for (const char *s = q, *end = q ? q + qlen : NULL; s && s < end;) {
        const char *amp = memchr(s, '&', (size_t)(end - s)), *e = amp ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (np == PUSHERAPI_PARAMS_MAX) {
            pusherapi_error(c, req, 400, "too many query parameters");
            return NULL;
        }
        if (eq) p[np++] = (pusherapi_param_t){s, eq + 1, (size_t)(eq - s), (size_t)(e - eq - 1)};
        s = amp ? amp + 1 : end;
    }
    const pusherapi_param_t *key = pusherapi_get(p, np, "auth_key");
    const pusherapi_param_t *ts = pusherapi_get(p, np, "auth_timestamp");
    const pusherapi_param_t *sig = pusherapi_get(p, np, "auth_signature");
    if (!key || !ts || !sig || key->vl != strlen(app->key) || memcmp(key->v, app->key, key->vl) != 0) {
        pusherapi_error(c, req, 401, "Invalid auth_key or missing auth_timestamp / auth_signature");
        return NULL;
    }
    /* the query is a span of the request, not NUL-terminated: digits only */
    long long t = ts->vl > 0 && ts->vl <= 18 ? 0 : -1, now = (long long)(hub_wall_ms() / 1000);
    for (size_t i = 0; t >= 0 && i < ts->vl; i++)
        t = ts->v[i] >= '0' && ts->v[i] <= '9' ? t * 10 + (ts->v[i] - '0') : -1;
    if (t < now - PUSHERAPI_SKEW_S || t > now + PUSHERAPI_SKEW_S) {
        pusherapi_error(c, req, 401, "Timestamp expired: auth_timestamp is more than 600 s off");
        return NULL;
    }
    size_t blen;
    const char *body = http_req_body(req, &blen);
    const pusherapi_param_t *md5 = pusherapi_get(p, np, "body_md5");
    if (blen > 0) {
        unsigned char d[16];
        char hex[33];
        unsigned int dl = sizeof(d);
        EVP_Digest(body, blen, d, &dl, EVP_md5(), NULL);
        pusherapi_hex(d, 16, hex);
        if (md5 == NULL || md5->vl != 32 || memcmp(md5->v, hex, 32) != 0) {
            pusherapi_error(c, req, 401, "body_md5 does not match the body");
            return NULL;
        }
    }
    /* sorted, without the signature itself */
    pusherapi_param_t sorted[PUSHERAPI_PARAMS_MAX];
    size_t ns = 0;
    for (size_t i = 0; i < np; i++)
        if (&p[i] != sig) sorted[ns++] = p[i];
    qsort(sorted, ns, sizeof(sorted[0]), pusherapi_param_cmp);
    char text[4096];
    int tl = snprintf(text, sizeof(text), "%s\n%.*s\n", http_req_method(req) == HTTP_M_POST ? "POST" : "GET",
                      (int)plen, path);
    for (size_t i = 0; i < ns && tl > 0 && (size_t)tl < sizeof(text); i++)
        tl += snprintf(text + tl, sizeof(text) - (size_t)tl, "%s%.*s=%.*s", i ? "&" : "", (int)sorted[i].kl,
                       sorted[i].k, (int)sorted[i].vl, sorted[i].v);
    unsigned char mac[32];
    unsigned int ml = sizeof(mac);
    char hex[65];
    if (tl < 0 || (size_t)tl >= sizeof(text) ||
        HMAC(EVP_sha256(), app->secret, (int)app->secret_len, (unsigned char *)text, (size_t)tl, mac, &ml) == NULL) {
        pusherapi_error(c, req, 400, "request too long to sign");
        return NULL;
    }
    pusherapi_hex(mac, 32, hex);
    if (sig->vl != 64 || CRYPTO_memcmp(sig->v, hex, 64) != 0) {
        c->loop->stats.emit_unauthorized++;
        pusherapi_error(c, req, 401, "Invalid signature: you should have sent HmacSHA256Hex(\"METHOD\\nPATH\\nQUERY\", your_secret)");
        return NULL;
    }
    return app;
}

/* With redis, a request's messages are gathered and published through
 * the link in one go (one transaction), answered when Redis has. */
typedef struct pusherapi_out {
    redis_pub_t *msgs;
    size_t n, cap;
} pusherapi_out_t;

static void pusherapi_out_free(pusherapi_out_t *o) {
    for (size_t i = 0; i < o->n; i++) free((char *)o->msgs[i].data);
    free(o->msgs);
}

static int pusherapi_out_add(pusherapi_out_t *o, const char *channel, size_t clen, char *s) {
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        redis_pub_t *m = realloc(o->msgs, cap * sizeof(*m));
        if (m == NULL) return HUB_ENOMEM;
        o->msgs = m;
        o->cap = cap;
    }
    o->msgs[o->n++] = (redis_pub_t){channel, clen, s, strlen(s), NULL, 0};
    return 0;
}

/* One event on one channel: published as a Herald message {event, data},
 * which Pusher clients receive as that event and Herald clients as JSON
 * (with redis: gathered in *out, the channel name checked here). With a
 * socket_id the message carries it ({event, data, socket_id}): every
 * loop, and every node through Redis, reads it from the message itself
 * when it builds the Pusher frame, and skips that connection. */
static int pusherapi_publish(conn_t *c, http_req_t *req, const char *name, const char *channel,
                             size_t clen, const char *data, json_t *socket_id, pusherapi_out_t *out) {
    json_t *o = json_object();
    json_object_set_new(o, "event", json_string(name));
    json_object_set_new(o, "data", json_string(data));
    if (socket_id) json_object_set(o, "socket_id", socket_id);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    uint64_t id;
    size_t subs;
    int rc;
    if (s == NULL) rc = HUB_ENOMEM;
    else if (c->loop->redis) {
        rc = herald_channel_check(channel, clen) != 0 ? HUB_EINVAL : pusherapi_out_add(out, channel, clen, s);
        if (rc == 0) s = NULL; /* out owns it */
    } else rc = loop_publish(c->loop, channel, clen, s, strlen(s), &id, &subs);
    free(s);
    if (rc == HUB_EINVAL) pusherapi_error(c, req, 400, "invalid channel name (1-164 bytes of A-Z a-z 0-9 _ - . : @)");
    else if (rc == HUB_EFULL) pusherapi_error(c, req, 503, "too many channels (max_channels): not published");
    else if (rc != 0) pusherapi_error(c, req, 503, "out of memory: not published");
    return rc;
}

/* Pusher's socket_id (the connection that must not get the event): absent,
 * or "\d+\.\d+" as Pusher checks it. */
static int pusherapi_socket_check(json_t *ev, const char **why) {
    json_t *sid = json_object_get(ev, "socket_id");
    uint64_t key;
    *why = "Invalid socket id: socket_id must be digits.digits, as pusher:connection_established gave it";
    if (sid == NULL) return 0;
    return json_is_string(sid) &&
           pusher_socket_id_parse(json_string_value(sid), json_string_length(sid), &key) == 0 ? 0 : -1;
}

/* An event's fields, checked before anything is published. */
static int pusherapi_event_check(json_t *ev, const char **why) {
    json_t *name = json_object_get(ev, "name"), *data = json_object_get(ev, "data");
    json_t *chs = json_object_get(ev, "channels"), *ch = json_object_get(ev, "channel");
    if (pusherapi_socket_check(ev, why) != 0) return -1;
    *why = "an event needs a name (1-200 bytes) and data (a string)";
    if (!json_is_string(name) || json_string_length(name) == 0 || json_string_length(name) > 200 ||
        !json_is_string(data))
        return -1;
    *why = "an event needs channel or channels (1 to 100 names)";
    if (json_is_string(ch)) return 0;
    if (!json_is_array(chs) || json_array_size(chs) == 0 || json_array_size(chs) > PUSHERAPI_CHANNELS_MAX)
        return -1;
    for (size_t i = 0; i < json_array_size(chs); i++)
        if (!json_is_string(json_array_get(chs, i))) return -1;
    return 0;
}


static int pusherapi_event_publish(conn_t *c, http_req_t *req, json_t *ev, pusherapi_out_t *out) {
    const char *name = json_string_value(json_object_get(ev, "name"));
    const char *data = json_string_value(json_object_get(ev, "data"));
    json_t *ch = json_object_get(ev, "channel"), *chs = json_object_get(ev, "channels");
    json_t *sid = json_object_get(ev, "socket_id");
    if (json_is_string(ch))
        return pusherapi_publish(c, req, name, json_string_value(ch), json_string_length(ch), data, sid, out);
    for (size_t i = 0; i < json_array_size(chs); i++) {
        json_t *x = json_array_get(chs, i);
        if (pusherapi_publish(c, req, name, json_string_value(x), json_string_length(x), data, sid, out) != 0)
            return -1;
    }
    return 0;
}

/* The request's answer once every event is published (locally), or
 * handed to the Redis link, which answers when Redis has. */
static void pusherapi_done(conn_t *c, http_req_t *req, pusherapi_out_t *out) {
    if (c->loop->redis && out->n) emitredis_publish(c, req, EMITREDIS_PUSHER, out->msgs, out->n, NULL, 0);
    else pusherapi_json(c, req, json_object());
}

static json_t *pusherapi_body(conn_t *c, http_req_t *req) {
    size_t blen;
    const char *body = http_req_body(req, &blen);
    json_error_t jerr;
    json_t *root = json_loadb(body, blen, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        pusherapi_error(c, req, 400, "the body is not a JSON object");
        return NULL;
    }
    return root;
}

void pusherapi_events(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    const char *why;
    if (pusherapi_auth(c, req, rest, n) == NULL) return;
    json_t *ev = pusherapi_body(c, req);
    if (ev == NULL) return;
    pusherapi_out_t out = {0};
    if (pusherapi_event_check(ev, &why) != 0) pusherapi_error(c, req, 400, why);
    else if (pusherapi_event_publish(c, req, ev, &out) == 0) pusherapi_done(c, req, &out);
    pusherapi_out_free(&out);
    json_decref(ev);
}

/* All events are checked first: a batch is published whole or not at all
 * (short of running out of memory half-way). */
void pusherapi_batch_events(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    const char *why = "batch must be an array of events";
    if (pusherapi_auth(c, req, rest, n) == NULL) return;
    json_t *root = pusherapi_body(c, req);
    if (root == NULL) return;
    json_t *batch = json_object_get(root, "batch");
    int ok = json_is_array(batch) && json_array_size(batch) <= c->loop->cfg->max_batch_messages;
    for (size_t i = 0; ok && i < json_array_size(batch); i++)
        ok = pusherapi_event_check(json_array_get(batch, i), &why) == 0;
    if (!ok) {
        pusherapi_error(c, req, 400, why);
        json_decref(root);
        return;
    }
    pusherapi_out_t out = {0};
    size_t i = 0;
    while (i < json_array_size(batch) && pusherapi_event_publish(c, req, json_array_get(batch, i), &out) == 0)
        i++;
    if (i == json_array_size(batch)) pusherapi_done(c, req, &out);
    pusherapi_out_free(&out);
    json_decref(root);
}

static void pusherapi_channel_add(const channel_t *ch, void *arg) {
    json_t *o = json_object();
    json_object_set_new(o, "subscription_count", json_integer((json_int_t)ch->nsubs));
    json_object_setn_new(arg, ch->name, ch->name_len, o);
}

static const char pusherapi_redis_down[] = "Redis is unavailable (retry)\n";

/* A held request's JSON answer (o is consumed). */
static void pusherapi_hold_json(emitredis_wait_t *w, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s) emitredis_hold_answer(w, 200, "application/json", s, strlen(s));
    else emitredis_hold_answer(w, 503, NULL, "out of memory\n", 14);
    free(s);
}

/* With redis: occupied means some node has subscribers (it is subscribed
 * in Redis); counts are per node, so none are given. */
static void pusherapi_on_channels(void *arg, int status, const char *const *names, size_t n,
                                  const size_t *lens) {
    if (status != 0) {
        emitredis_hold_answer(arg, 503, NULL, pusherapi_redis_down, sizeof(pusherapi_redis_down) - 1);
        return;
    }
    json_t *chs = json_object(), *o = json_object();
    for (size_t i = 0; i < n; i++) json_object_setn_new(chs, names[i], lens[i], json_object());
    json_object_set_new(o, "channels", chs);
    pusherapi_hold_json(arg, o);
}

/* With redis, a presence channel's counts are Redis's: users, and their
 * connections on every node (its subscription_count). */
static void pusherapi_on_counts(void *arg, int status, const char *users_json, long long users,
                                long long conns) {
    if (status != 0) {
        emitredis_hold_answer(arg, 503, NULL, pusherapi_redis_down, sizeof(pusherapi_redis_down) - 1);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "occupied", json_boolean(conns > 0));
    json_object_set_new(o, "subscription_count", json_integer(conns));
    json_object_set_new(o, "user_count", json_integer(users));
    pusherapi_hold_json(arg, o);
}

static void pusherapi_on_users(void *arg, int status, const char *users_json, long long users,
                               long long conns) {
    if (status != 0) {
        emitredis_hold_answer(arg, 503, NULL, pusherapi_redis_down, sizeof(pusherapi_redis_down) - 1);
        return;
    }
    size_t n = strlen(users_json) + 16;
    char *s = malloc(n);
    if (s == NULL) {
        emitredis_hold_answer(arg, 503, NULL, "out of memory\n", 14);
        return;
    }
    int len = snprintf(s, n, "{\"users\":%s}", users_json);
    emitredis_hold_answer(arg, 200, "application/json", s, (size_t)len);
    free(s);
}

/* Ask Redis (list: the users, else the counts) with c held. */
static void pusherapi_presence_ask(conn_t *c, http_req_t *req, const char *name, size_t len, int list) {
    emitredis_wait_t *w = emitredis_hold(c, req);
    if (w == NULL) {
        pusherapi_error(c, req, 503, "out of memory");
        return;
    }
    if (pusherredis_users(c->loop->redis, name, len, list,
                            list ? pusherapi_on_users : pusherapi_on_counts, w) != 0)
        emitredis_hold_answer(w, 503, NULL, pusherapi_redis_down, sizeof(pusherapi_redis_down) - 1);
}

/* GET /apps/{id}/channels[?filter_by_prefix=P]: occupied channels. */
void pusherapi_channels(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    if (pusherapi_auth(c, req, rest, n) == NULL) return;
    size_t ulen, plen, qlen;
    const char *url = http_req_url(req, &ulen), *path, *q, *prefix = "";
    http_url_split(url, ulen, &path, &plen, &q, &qlen);
    size_t pl = 0;
    for (const char *s = q, *end = q ? q + qlen : NULL; s && s < end;) {
        const char *amp = memchr(s, '&', (size_t)(end - s)), *e = amp ? amp : end;
        if ((size_t)(e - s) > 17 && memcmp(s, "filter_by_prefix=", 17) == 0) {
            prefix = s + 17;
            pl = (size_t)(e - prefix);
        }
        s = amp ? amp + 1 : end;
    }
    if (c->loop->redis) { /* every node's channels */
        emitredis_wait_t *w = emitredis_hold(c, req);
        if (w == NULL) pusherapi_error(c, req, 503, "out of memory");
        else if (pusherredis_channels(c->loop->redis, prefix, pl, pusherapi_on_channels, w) != 0)
            emitredis_hold_answer(w, 503, NULL, pusherapi_redis_down, sizeof(pusherapi_redis_down) - 1);
        return;
    }
    json_t *chs = json_object();
    hub_channels_each(c->loop->hub, prefix, pl, pusherapi_channel_add, chs);
    json_t *o = json_object();
    json_object_set_new(o, "channels", chs);
    pusherapi_json(c, req, o);
}

/* The channel name in "{id}/channels/{name}[/users]". */
static int pusherapi_channel_name(const char *rest, size_t n, const char **name, size_t *len) {
    const char *p = memchr(rest, '/', n);
    if (p == NULL || (size_t)(rest + n - p) < 11) return -1;
    *name = p + 10; /* "/channels/" */
    const char *end = memchr(*name, '/', (size_t)(rest + n - *name));
    *len = end ? (size_t)(end - *name) : (size_t)(rest + n - *name);
    return herald_channel_check(*name, *len);
}

void pusherapi_channel(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    const char *name;
    size_t len;
    if (pusherapi_auth(c, req, rest, n) == NULL) return;
    if (pusherapi_channel_name(rest, n, &name, &len) != 0) {
        pusherapi_error(c, req, 400, "invalid channel name");
        return;
    }
    if (c->loop->redis && len > 9 && memcmp(name, "presence-", 9) == 0) {
        pusherapi_presence_ask(c, req, name, len, 0);
        return;
    }
    size_t subs = hub_channel_subscribers(c->loop->hub, name, len);
    json_t *o = json_object();
    json_object_set_new(o, "occupied", json_boolean(subs > 0));
    json_object_set_new(o, "subscription_count", json_integer((json_int_t)subs));
    if (len > 9 && memcmp(name, "presence-", 9) == 0)
        json_object_set_new(o, "user_count", json_integer((json_int_t)pusher_presence_count(c->loop, name, len)));
    pusherapi_json(c, req, o);
}

void pusherapi_users(conn_t *c, http_req_t *req, const char *rest, size_t n) {
    const char *name;
    size_t len;
    if (pusherapi_auth(c, req, rest, n) == NULL) return;
    if (pusherapi_channel_name(rest, n, &name, &len) != 0 || len <= 9 || memcmp(name, "presence-", 9) != 0) {
        pusherapi_error(c, req, 400, "users exist on presence- channels only");
        return;
    }
    if (c->loop->redis) {
        pusherapi_presence_ask(c, req, name, len, 1);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "users", pusher_presence_users(c->loop, name, len));
    pusherapi_json(c, req, o);
}
