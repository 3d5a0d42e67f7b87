/* ext/herald: Herald\pusher_auth(), what a Pusher / Laravel Echo auth
 * endpoint answers, signed with an app of heraldd's own pusher_apps_file so
 * PHP and heraldd cannot hold two different secrets. Rules: ext/README.md,
 * "Pusher and Laravel Echo"; the signature heraldd checks:
 * daemon/pusherwire.c, pusher_auth_ok(). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"
#include "ext/json/php_json.h"
#include "zend_exceptions.h"
#include "zend_smart_str.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "php_herald.h"

#define HERALD_PUSHER_CHANNEL_MAX 164      /* Pusher's limit, heraldd's too */
#define HERALD_PUSHER_CHANNEL_DATA_MAX 1024
#define HERALD_PUSHER_USER_ID_MAX 127
#define HERALD_PUSHER_SOCKET_PART_MAX 20   /* digits on each side of the dot */
#define HERALD_PUSHER_JSON_FLAGS (PHP_JSON_UNESCAPED_SLASHES | PHP_JSON_UNESCAPED_UNICODE)

void herald_pusher_app_clear(herald_pusher_app_t *app) {
    free(app->path);
    free(app->want);
    ZEND_SECURE_ZERO(app, sizeof *app);
}

/* Does an app on a line before `lineno` have a's key? (A file is a few
 * lines: walking it again is cheaper than keeping a table.) */
static int herald_pusher_key_before(const char *text, size_t len, int lineno, const herald_pusher_app_line_t *a) {
    size_t pos = 0;
    int l = 0;
    herald_pusher_app_line_t b;
    while (herald_pusher_apps_next(text, len, &pos, &l, &b) == 1 && l < lineno)
        if (b.key_len == a->key_len && memcmp(b.key, a->key, a->key_len) == 0) return 1;
    return 0;
}

/* Pick the app from the file's text with the walker heraldd's parser is
 * checked against (common/pusherapps.c), so a file heraldd refuses is
 * refused here, naming the same line. `want` empty: the file must hold
 * exactly one app. */
static int herald_pusher_app_pick(const char *text, size_t len, const char *path, const char *want,
                                  herald_pusher_app_t *app, char *err, size_t es) {
    size_t pos = 0, apps = 0, wl = strlen(want);
    int lineno = 0, found = 0, rc;
    herald_pusher_app_line_t a;
    while ((rc = herald_pusher_apps_next(text, len, &pos, &lineno, &a)) == 1) {
        apps++;
        if (herald_pusher_key_before(text, len, lineno, &a)) { /* heraldd refuses the file */
            /* PHP's snprintf runs strlen() even under %.*s: give it a C string */
            char key[HERALD_PUSHER_APP_NAME_MAX + 1];
            memcpy(key, a.key, a.key_len);
            key[a.key_len] = '\0';
            snprintf(err, es, "line %d of %s: key %s is used twice", lineno, path, key);
            ZEND_SECURE_ZERO(app->secret, sizeof app->secret);
            return -1;
        }
        if (found || (wl && (a.key_len != wl || memcmp(a.key, want, wl) != 0))) continue;
        memcpy(app->key, a.key, a.key_len);
        app->key[a.key_len] = '\0';
        memcpy(app->secret, a.secret, a.secret_len);
        app->secret_len = a.secret_len;
        found = 1;
    }
    if (rc < 0) {
        snprintf(err, es, "line %d of %s is not app_id:key:secret (ids and keys of A-Z a-z 0-9 _ - ., "
                 "a secret of %d to %d bytes)", lineno, path, HERALD_SECRET_MIN, HERALD_SECRET_MAX);
    } else if (apps == 0) {
        snprintf(err, es, "%s holds no app (one app_id:key:secret per line)", path);
    } else if (!wl && apps > 1) {
        snprintf(err, es, "%s holds %zu apps: set herald.pusher_app_key to the key of the one to sign with",
                 path, apps);
    } else if (!found) {
        snprintf(err, es, "no app with key \"%s\" in %s (herald.pusher_app_key)", want, path);
    } else {
        return 0;
    }
    ZEND_SECURE_ZERO(app->secret, sizeof app->secret);
    return -1;
}

/* The app to sign with, read once per process for a (file, key) pair: a
 * php-fpm worker reads the file on its first auth request only. */
static const herald_pusher_app_t *herald_pusher_app(void) {
    const char *path = HERALD_G(pusher_apps_file), *want = HERALD_G(pusher_app_key);
    herald_pusher_app_t *app = &HERALD_G(pusher_app);
    if (want == NULL) want = "";
    if (path == NULL || !*path) {
        zend_throw_exception(herald_ce_exception,
                             "Herald: no Pusher app to sign with: set herald.pusher_apps_file to heraldd's "
                             "pusher_apps_file (and herald.pusher_app_key if it holds several apps)", 0);
        return NULL;
    }
    if (app->path && strcmp(app->path, path) == 0 && strcmp(app->want, want) == 0) return app;
    herald_pusher_app_clear(app);
    char err[600];
    size_t len = 0;
    char *text = malloc(HERALD_SECRET_FILE_MAX);
    if (text == NULL) {
        zend_throw_exception(herald_ce_exception, "Herald: out of memory", 0);
        return NULL;
    }
    int rc = herald_secret_file_read(path, text, HERALD_SECRET_FILE_MAX, &len, err, sizeof err);
    if (rc == 0) rc = herald_pusher_app_pick(text, len, path, want, app, err, sizeof err);
    ZEND_SECURE_ZERO(text, HERALD_SECRET_FILE_MAX);
    free(text);
    if (rc == 0) {
        app->path = strdup(path);
        app->want = strdup(want);
        if (app->path == NULL || app->want == NULL) {
            herald_pusher_app_clear(app);
            snprintf(err, sizeof err, "out of memory");
            rc = -1;
        }
    }
    if (rc != 0) {
        zend_throw_exception_ex(herald_ce_exception, 0, "Herald: herald.pusher_apps_file: %s", err);
        return NULL;
    }
    return app;
}

/* Pusher's socket ids are "digits.digits" (heraldd makes them so). */
static int herald_pusher_socket_id_ok(const zend_string *s) {
    const char *p = ZSTR_VAL(s), *end = p + ZSTR_LEN(s);
    for (int part = 0; part < 2; part++) {
        const char *start = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == start || p - start > HERALD_PUSHER_SOCKET_PART_MAX) return 0;
        if (part == 0 && (p == end || *p++ != '.')) return 0;
    }
    return p == end;
}

/* The user_id heraldd accepts in presence channel_data: a non-empty string
 * of at most 127 bytes without quotes, backslashes or control bytes (it is
 * written into member lists as is), or an integer. */
static int herald_pusher_user_id_ok(zval *id) {
    if (id == NULL) return 0;
    ZVAL_DEREF(id);
    if (Z_TYPE_P(id) == IS_LONG) return 1;
    if (Z_TYPE_P(id) != IS_STRING || Z_STRLEN_P(id) == 0 || Z_STRLEN_P(id) > HERALD_PUSHER_USER_ID_MAX) return 0;
    for (size_t i = 0; i < Z_STRLEN_P(id); i++) {
        unsigned char c = (unsigned char)Z_STRVAL_P(id)[i];
        if (c == '"' || c == '\\' || c < 0x20) return 0;
    }
    return 1;
}

/* Throw InvalidArgumentException for what the caller passed; nothing is
 * signed then. */
static void herald_pusher_invalid(const char *fmt, const zend_string *arg) {
    zend_throw_exception_ex(herald_ce_invalid, 0, fmt, arg ? ZSTR_VAL(arg) : "");
}

PHP_FUNCTION(Herald_pusher_auth) {
    zend_string *socket_id, *channel;
    HashTable *channel_data = NULL;
    ZEND_PARSE_PARAMETERS_START(2, 3)
        Z_PARAM_STR(socket_id)
        Z_PARAM_STR(channel)
        Z_PARAM_OPTIONAL
        Z_PARAM_ARRAY_HT_OR_NULL(channel_data)
    ZEND_PARSE_PARAMETERS_END();

    if (!herald_pusher_socket_id_ok(socket_id)) {
        zend_throw_exception(herald_ce_invalid,
                             "Herald: pusher_auth(): the socket id must be digits.digits (what pusher-js sends as socket_id)", 0);
        RETURN_THROWS();
    }
    const char *ch = ZSTR_VAL(channel);
    size_t chl = ZSTR_LEN(channel);
    int presence = chl > 9 && strncmp(ch, "presence-", 9) == 0;
    int private = chl > 8 && strncmp(ch, "private-", 8) == 0 && !(chl == 18 && strncmp(ch, "private-encrypted-", 18) == 0);
    if ((!presence && !private) || chl > HERALD_PUSHER_CHANNEL_MAX || herald_channel_check(ch, chl) != 0 ||
        memchr(ch, '\0', chl) != NULL) {
        herald_pusher_invalid("Herald: pusher_auth(): \"%s\" is not a channel that needs auth: a name after "
                              "private-, presence- or private-encrypted-, at most 164 bytes of "
                              "A-Z a-z 0-9 _ - . : @", channel);
        RETURN_THROWS();
    }
    smart_str cd = {0};
    if (presence) {
        if (channel_data == NULL) {
            herald_pusher_invalid("Herald: pusher_auth(): %s is a presence channel: pass the member as "
                                  "['user_id' => ..., 'user_info' => [...]]", channel);
            RETURN_THROWS();
        }
        if (!herald_pusher_user_id_ok(zend_hash_str_find(channel_data, "user_id", sizeof("user_id") - 1))) {
            herald_pusher_invalid("Herald: pusher_auth(): %s: channelData['user_id'] must be an int or a string "
                                  "of 1-127 bytes without quotes, backslashes or control characters", channel);
            RETURN_THROWS();
        }
        zval z;
        ZVAL_ARR(&z, channel_data);
        zend_result rc = php_json_encode(&cd, &z, HERALD_PUSHER_JSON_FLAGS);
        if (EG(exception)) { /* thrown by a jsonSerialize() in user_info */
            smart_str_free(&cd);
            RETURN_THROWS();
        }
        /* NAN/INF only set the error code */
        if (rc == FAILURE || cd.s == NULL || JSON_G(error_code) != PHP_JSON_ERROR_NONE) {
            smart_str_free(&cd);
            herald_pusher_invalid("Herald: pusher_auth(): %s: channelData cannot be encoded as JSON (invalid UTF-8, "
                                  "NAN/INF or recursion)", channel);
            RETURN_THROWS();
        }
        smart_str_0(&cd);
        if (ZSTR_LEN(cd.s) > HERALD_PUSHER_CHANNEL_DATA_MAX) {
            smart_str_free(&cd);
            herald_pusher_invalid("Herald: pusher_auth(): %s: channelData is over 1024 bytes as JSON "
                                  "(heraldd's limit, as Pusher's): keep user_info small", channel);
            RETURN_THROWS();
        }
    } else if (channel_data != NULL) {
        herald_pusher_invalid("Herald: pusher_auth(): %s is not a presence channel: channelData is only for "
                              "presence- channels", channel);
        RETURN_THROWS();
    }
    const herald_pusher_app_t *app = herald_pusher_app();
    if (app == NULL) {
        smart_str_free(&cd);
        RETURN_THROWS();
    }
    /* HMAC-SHA256(secret, "socket_id:channel[:channel_data]"), in hex */
    smart_str msg = {0};
    smart_str_append(&msg, socket_id);
    smart_str_appendc(&msg, ':');
    smart_str_append(&msg, channel);
    if (cd.s) {
        smart_str_appendc(&msg, ':');
        smart_str_append(&msg, cd.s);
    }
    smart_str_0(&msg);
    unsigned char mac[32];
    unsigned int ml = sizeof mac;
    unsigned char *ok = HMAC(EVP_sha256(), app->secret, (int)app->secret_len, (unsigned char *)ZSTR_VAL(msg.s),
                             ZSTR_LEN(msg.s), mac, &ml);
    smart_str_free(&msg);
    if (ok == NULL) {
        smart_str_free(&cd);
        zend_throw_exception(herald_ce_exception, "Herald: pusher_auth(): libcrypto failed to compute the HMAC", 0);
        RETURN_THROWS();
    }
    static const char hexd[] = "0123456789abcdef";
    char auth[HERALD_PUSHER_APP_NAME_MAX + 1 + 64 + 1];
    size_t kl = strlen(app->key);
    memcpy(auth, app->key, kl);
    auth[kl] = ':';
    for (int i = 0; i < 32; i++) {
        auth[kl + 1 + 2 * i] = hexd[mac[i] >> 4];
        auth[kl + 2 + 2 * i] = hexd[mac[i] & 15];
    }
    auth[kl + 65] = '\0';
    /* {"auth":"key:hex"[,"channel_data":"..."]}: the key and hex need no
     * escaping; channel_data is a JSON text inside a JSON string. */
    zval answer;
    array_init(&answer);
    add_assoc_stringl(&answer, "auth", auth, kl + 65);
    if (cd.s) add_assoc_str(&answer, "channel_data", cd.s);
    smart_str out = {0};
    php_json_encode(&out, &answer, HERALD_PUSHER_JSON_FLAGS);
    zval_ptr_dtor(&answer);
    smart_str_0(&out);
    RETURN_STR(out.s);
}
