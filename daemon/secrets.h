/* The secret files a loop holds: the keys that verify signed channel names
 * (secret_file) and the emit bearer token (emit_secret_file). Loaded at
 * start and on every reload; never logged, zeroed when dropped. */
#ifndef HERALD_SECRETS_H
#define HERALD_SECRETS_H

#include <stddef.h>

#include "config.h"
#include "digest.h"
#include "signed.h"

#define SECRETS_TOKEN_MAX 512
#define SECRETS_APP_ID_MAX 64
#define SECRETS_APP_KEY_MAX 64
#define SECRETS_URL_MAX 512

/* One Pusher app (pusher_apps_file line "app_id:key:secret[:webhook_url]"). */
typedef struct pusher_app {
    char id[SECRETS_APP_ID_MAX + 1];
    char key[SECRETS_APP_KEY_MAX + 1];
    unsigned char secret[HERALD_SECRET_MAX];
    size_t secret_len;
    char webhook_url[SECRETS_URL_MAX + 1]; /* "" when the app has none */
} pusher_app_t;

typedef struct secrets {
    herald_secret_t *keys;     /* in file order: the first signs */
    size_t nkeys;
    unsigned char emit_token[SECRETS_TOKEN_MAX];
    size_t emit_token_len;     /* 0: emits need no token */
    /* SHA-256 of emit_token, taken once: a request's token is compared
     * digest to digest (emit.c), hashing only what the request brings */
    unsigned char emit_token_digest[DIGEST_SHA256_BYTES];
    pusher_app_t *apps;        /* pusher_apps_file */
    size_t napps;
} secrets_t;

/* The Pusher app with this key (WebSocket /app/{key}) or id (HTTP API). */
const pusher_app_t *secrets_app_by_key(const secrets_t *s, const char *key, size_t len);
const pusher_app_t *secrets_app_by_id(const secrets_t *s, const char *id, size_t len);

/* Parse pusher_apps_file text: one "app_id:key:secret" per non-blank line
 * (ids and keys of A-Z a-z 0-9 _ - ., secrets of 16 to 512 bytes), and
 * optionally ":webhook_url" after the secret: the first ":http://" or
 * ":https://" in it starts the URL (printable ASCII, at most 512 bytes).
 * 0, or -1 naming the line in err. *out is malloc'd. */
int secrets_apps_parse(const char *text, size_t len, const char *name, pusher_app_t **out,
                       size_t *n, char *err, size_t err_size);

/* Load both files cfg names into s (which the caller zeroed). 0, or -1 with
 * a sentence naming the key and file in err (never secret bytes); s then
 * holds nothing. */
int secrets_load(secrets_t *s, const config_t *cfg, char *err, size_t err_size);

/* Zero and free what s holds. */
void secrets_free(secrets_t *s);

/* Read every key of a secret file (README "Signed channel names"). 0 or -1
 * with a reason in err. *out is malloc'd: zero it before freeing. */
int secrets_keys_load(const char *path, herald_secret_t **out, size_t *n, char *err,
                      size_t err_size);

#endif
