#include "secrets.h"

#include "secretfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int secrets_keys_load(const char *path, herald_secret_t **out, size_t *n, char *err,
                      size_t es) {
    enum { TEXT_MAX = 64 * 1024 };
    char *text = malloc(TEXT_MAX); /* every loop reloads on its own thread */
    size_t len;
    *out = NULL;
    *n = 0;
    if (text == NULL) {
        snprintf(err, es, "out of memory");
        return -1;
    }
    if (herald_secret_file_read(path, text, TEXT_MAX, &len, err, es) != 0) {
        free(text);
        return -1;
    }
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    herald_secret_t *s = calloc(lines, sizeof(*s));
    if (s == NULL) {
        free(text);
        snprintf(err, es, "out of memory");
        return -1;
    }
    size_t count = 0, pos = 0, ll;
    int lineno = 0;
    const char *l;
    /* one line rule for heraldd and the extension (common/secretfile.c) */
    while (herald_secret_line_next(text, len, &pos, &l, &ll, &lineno)) {
        if (herald_secret_parse(&s[count], l, ll) != 0) {
            snprintf(err, es, "%s line %d: not a valid secret (at least %d bytes, optional "
                     "kid: of A-Z a-z 0-9 _ -)", path, lineno, HERALD_SECRET_MIN);
            memset(text, 0, TEXT_MAX);
            free(text);
            free(s);
            return -1;
        }
        count++;
    }
    memset(text, 0, TEXT_MAX);
    free(text);
    if (count == 0) {
        free(s);
        snprintf(err, es, "%s: no secret in the file", path);
        return -1;
    }
    *out = s;
    *n = count;
    return 0;
}

static int secrets_token_load(secrets_t *s, const char *path, char *err, size_t es) {
    char text[SECRETS_TOKEN_MAX + 64];
    size_t flen, pos = 0, len = 0;
    const char *line = text;
    int lineno = 0;
    if (herald_secret_file_read(path, text, sizeof(text), &flen, err, es) != 0) return -1;
    /* the first non-blank line, trimmed as the extension trims it */
    if (!herald_secret_line_next(text, flen, &pos, &line, &len, &lineno)) len = 0;
    if (len < HERALD_SECRET_MIN || len > SECRETS_TOKEN_MAX) {
        snprintf(err, es, "%s: the emit secret must be %d to %d bytes on the first line",
                 path, HERALD_SECRET_MIN, SECRETS_TOKEN_MAX);
        memset(text, 0, sizeof(text));
        return -1;
    }
    memcpy(s->emit_token, line, len);
    s->emit_token_len = len;
    memset(text, 0, sizeof(text));
    if (digest_sha256(s->emit_token, len, s->emit_token_digest) != 0) {
        snprintf(err, es, "%s: libcrypto has no SHA-256 to check the emit secret with", path);
        return -1;
    }
    return 0;
}

static int secrets_name_ok(const char *p, size_t n, size_t max) {
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return 0;
    }
    return 1;
}

/* The URL after a secret: the first ":http://" or ":https://" (a secret
 * holding either is not one anybody writes). Points past the colon. */
static const char *secrets_url_find(const char *p, size_t n) {
    for (size_t i = 0; i + 8 <= n; i++) {
        if (p[i] != ':') continue;
        if (memcmp(p + i + 1, "http://", 7) == 0) return p + i + 1;
        if (i + 9 <= n && memcmp(p + i + 1, "https://", 8) == 0) return p + i + 1;
    }
    return NULL;
}

static int secrets_url_ok(const char *u, size_t n) {
    size_t scheme = u[4] == 's' ? 8 : 7;
    if (n <= scheme || n > SECRETS_URL_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f) return 0;
    return 1;
}

int secrets_apps_parse(const char *text, size_t len, const char *name, pusher_app_t **out,
                       size_t *n, char *err, size_t es) {
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    pusher_app_t *apps = calloc(lines, sizeof(*apps));
    *out = NULL;
    *n = 0;
    if (apps == NULL) {
        snprintf(err, es, "out of memory");
        return -1;
    }
    size_t count = 0, pos = 0, ll;
    int lineno = 0;
    const char *l;
    while (herald_secret_line_next(text, len, &pos, &l, &ll, &lineno)) {
        if (l[0] == '#') continue;
        const char *c1 = memchr(l, ':', ll);
        const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - l)) : NULL;
        size_t il = c1 ? (size_t)(c1 - l) : 0, kl = c2 ? (size_t)(c2 - c1 - 1) : 0;
        size_t sl = c2 ? ll - (size_t)(c2 + 1 - l) : 0;
        const char *url = c2 ? secrets_url_find(c2 + 1, sl) : NULL;
        size_t ul = url ? sl - (size_t)(url - (c2 + 1)) : 0;
        if (url) sl -= ul + 1;
        if (url && !secrets_url_ok(url, ul)) {
            snprintf(err, es, "%s line %d: the webhook URL is not http(s):// and up to %d printable bytes",
                     name, lineno, SECRETS_URL_MAX);
            memset(apps, 0, lines * sizeof(*apps));
            free(apps);
            return -1;
        }
        if (c2 == NULL || !secrets_name_ok(l, il, SECRETS_APP_ID_MAX) ||
            !secrets_name_ok(c1 + 1, kl, SECRETS_APP_KEY_MAX) || sl < HERALD_SECRET_MIN ||
            sl > HERALD_SECRET_MAX) {
            snprintf(err, es, "%s line %d: not app_id:key:secret (ids and keys of A-Z a-z 0-9 _ - ., "
                     "a secret of %d to %d bytes)", name, lineno, HERALD_SECRET_MIN, HERALD_SECRET_MAX);
            memset(apps, 0, lines * sizeof(*apps));
            free(apps);
            return -1;
        }
        for (size_t k = 0; k < count; k++) {
            if (strlen(apps[k].key) == kl && memcmp(apps[k].key, c1 + 1, kl) == 0) {
                snprintf(err, es, "%s line %d: key %.*s is used twice", name, lineno, (int)kl, c1 + 1);
                memset(apps, 0, lines * sizeof(*apps));
                free(apps);
                return -1;
            }
        }
        pusher_app_t *a = &apps[count++];
        memcpy(a->id, l, il);
        memcpy(a->key, c1 + 1, kl);
        memcpy(a->secret, c2 + 1, sl);
        a->secret_len = sl;
        if (url) memcpy(a->webhook_url, url, ul);
    }
    if (count == 0) {
        free(apps);
        snprintf(err, es, "%s: no app in the file", name);
        return -1;
    }
    *out = apps;
    *n = count;
    return 0;
}

static int secrets_apps_load(secrets_t *s, const char *path, char *err, size_t es) {
    enum { TEXT_MAX = 64 * 1024 };
    char *text = malloc(TEXT_MAX);
    size_t len;
    if (text == NULL) {
        snprintf(err, es, "out of memory");
        return -1;
    }
    int rc = herald_secret_file_read(path, text, TEXT_MAX, &len, err, es);
    if (rc == 0) rc = secrets_apps_parse(text, len, path, &s->apps, &s->napps, err, es);
    memset(text, 0, TEXT_MAX);
    free(text);
    return rc;
}

const pusher_app_t *secrets_app_by_key(const secrets_t *s, const char *key, size_t len) {
    for (size_t i = 0; i < s->napps; i++)
        if (strlen(s->apps[i].key) == len && memcmp(s->apps[i].key, key, len) == 0) return &s->apps[i];
    return NULL;
}

const pusher_app_t *secrets_app_by_id(const secrets_t *s, const char *id, size_t len) {
    for (size_t i = 0; i < s->napps; i++)
        if (strlen(s->apps[i].id) == len && memcmp(s->apps[i].id, id, len) == 0) return &s->apps[i];
    return NULL;
}

int secrets_load(secrets_t *s, const config_t *cfg, char *err, size_t es) {
    char why[480];
    if (cfg->secret_file[0] &&
        secrets_keys_load(cfg->secret_file, &s->keys, &s->nkeys, why, sizeof(why)) != 0) {
        snprintf(err, es, "secret_file %s", why);
        return -1;
    }
    if (cfg->emit_secret_file[0] && secrets_token_load(s, cfg->emit_secret_file, why, sizeof(why)) != 0) {
        snprintf(err, es, "emit_secret_file %s", why);
        secrets_free(s);
        return -1;
    }
    if (cfg->pusher_apps_file[0] && secrets_apps_load(s, cfg->pusher_apps_file, why, sizeof(why)) != 0) {
        snprintf(err, es, "pusher_apps_file %s", why);
        secrets_free(s);
        return -1;
    }
    return 0;
}

void secrets_free(secrets_t *s) {
    if (s->keys) {
        memset(s->keys, 0, s->nkeys * sizeof(*s->keys));
        free(s->keys);
    }
    if (s->apps) {
        memset(s->apps, 0, s->napps * sizeof(*s->apps));
        free(s->apps);
    }
    memset(s, 0, sizeof(*s));
}
