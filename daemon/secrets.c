#include "secrets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Read a small private file whole; refuse large ones (a secret is short). */
static int secrets_file_read(const char *path, char *out, size_t size, size_t *len,
                             char *err, size_t es) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, es, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* A secret other users can read lets them mint names or publish; one
     * they can write lets them choose it. Refuse, saying how to fix it. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH))) {
        fclose(f);
        snprintf(err, es, "%s is %s by every user: run chmod o-rw %s (e.g. chmod 600, or 640 "
                 "with a group php-fpm is in)", path,
                 (st.st_mode & S_IWOTH) ? "writable" : "readable", path);
        return -1;
    }
    *len = fread(out, 1, size, f);
    int big = fgetc(f) != EOF;
    fclose(f);
    if (big) {
        snprintf(err, es, "%s: larger than %zu bytes", path, size);
        return -1;
    }
    return 0;
}

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
    if (secrets_file_read(path, text, TEXT_MAX, &len, err, es) != 0) {
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
    size_t count = 0, pos = 0;
    int lineno = 0;
    while (pos < len) {
        const char *l = text + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - l) : len - pos;
        pos += ll + (nl ? 1 : 0);
        lineno++;
        size_t t = ll;
        while (t > 0 && (l[t - 1] == '\r' || l[t - 1] == ' ' || l[t - 1] == '\t')) t--;
        if (t == 0) continue;
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
    char text[SECRETS_TOKEN_MAX + 2];
    size_t len;
    if (secrets_file_read(path, text, sizeof(text), &len, err, es) != 0) return -1;
    const char *nl = memchr(text, '\n', len);
    if (nl) len = (size_t)(nl - text);
    while (len > 0 && (text[len - 1] == '\r' || text[len - 1] == ' ')) len--;
    if (len < HERALD_SECRET_MIN || len > SECRETS_TOKEN_MAX) {
        snprintf(err, es, "%s: the emit secret must be %d to %d bytes on the first line",
                 path, HERALD_SECRET_MIN, SECRETS_TOKEN_MAX);
        memset(text, 0, sizeof(text));
        return -1;
    }
    memcpy(s->emit_token, text, len);
    s->emit_token_len = len;
    memset(text, 0, sizeof(text));
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
    size_t count = 0, pos = 0;
    int lineno = 0;
    while (pos < len) {
        const char *l = text + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - l) : len - pos;
        pos += ll + (nl ? 1 : 0);
        lineno++;
        while (ll > 0 && (l[ll - 1] == '\r' || l[ll - 1] == ' ' || l[ll - 1] == '\t')) ll--;
        if (ll == 0 || l[0] == '#') continue;
        const char *c1 = memchr(l, ':', ll);
        const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - l)) : NULL;
        size_t il = c1 ? (size_t)(c1 - l) : 0, kl = c2 ? (size_t)(c2 - c1 - 1) : 0;
        size_t sl = c2 ? ll - (size_t)(c2 + 1 - l) : 0;
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
    int rc = secrets_file_read(path, text, TEXT_MAX, &len, err, es);
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
