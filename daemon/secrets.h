/* The secret files a loop holds: the keys that verify signed channel names
 * (secret_file) and the emit bearer token (emit_secret_file). Loaded at
 * start and on every reload; never logged, zeroed when dropped. */
#ifndef HERALD_SECRETS_H
#define HERALD_SECRETS_H

#include <stddef.h>

#include "config.h"
#include "signed.h"

#define SECRETS_TOKEN_MAX 512

typedef struct secrets {
    herald_secret_t *keys;     /* in file order: the first signs */
    size_t nkeys;
    unsigned char emit_token[SECRETS_TOKEN_MAX];
    size_t emit_token_len;     /* 0: emits need no token */
} secrets_t;

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
