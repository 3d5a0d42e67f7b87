/* libFuzzer target for the pusher_apps_file walker (common/pusherapps.c)
 * the PHP extension signs with, differential against heraldd's own parser
 * (secrets_apps_parse): the two must take and refuse the same files (the
 * walker's apps plus the whole-file rule that a key is not used twice) and
 * give the same id, key, secret and webhook URL for every app. Fields lie
 * inside the text; a refused line is one of the text's lines. */
#include "pusherapps.h"
#include "secretfile.h"
#include "secrets.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define APPS_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > HERALD_SECRET_FILE_MAX) return 0;
    char *text = malloc(size ? size : 1); /* exact size: ASan sees over-reads */
    static herald_pusher_app_line_t ours[APPS_MAX];
    if (text == NULL) return 0;
    memcpy(text, data, size);
    size_t pos = 0, n = 0;
    int lineno = 0, rc, dup = 0, lines = 1;
    for (size_t i = 0; i < size; i++) lines += text[i] == '\n';
    while ((rc = herald_pusher_apps_next(text, size, &pos, &lineno, &ours[n])) == 1) {
        const herald_pusher_app_line_t *a = &ours[n];
        const char *f[3] = {a->id, a->key, a->secret};
        size_t fl[3] = {a->id_len, a->key_len, a->secret_len};
        for (int k = 0; k < 3; k++)
            if (f[k] < text || fl[k] == 0 || (size_t)(f[k] - text) + fl[k] > size) abort();
        for (size_t j = 0; j < n; j++)
            dup |= ours[j].key_len == a->key_len && memcmp(ours[j].key, a->key, a->key_len) == 0;
        if (++n == APPS_MAX) break;
    }
    if (rc < 0 && (lineno < 1 || lineno > lines)) abort();
    pusher_app_t *apps = NULL;
    size_t napps = 0;
    char err[512];
    int theirs = secrets_apps_parse(text, size, "f", &apps, &napps, err, sizeof err);
    int comparable = n < APPS_MAX;
#ifndef SECRETS_URL_MAX
    /* this heraldd predates webhook URLs (":http(s)://" after the secret):
     * it reads one as part of the secret, the walker already cuts it */
    for (size_t i = 0; i + 8 <= size; i++)
        if (memcmp(text + i, ":http://", 8) == 0 || (i + 9 <= size && memcmp(text + i, ":https://", 9) == 0))
            comparable = 0;
#endif
    if (comparable) {
        int ours_ok = rc == 0 && n > 0 && !dup;
        if ((theirs == 0) != ours_ok) abort();
        if (theirs == 0) {
            if (napps != n) abort();
            for (size_t i = 0; i < n; i++) {
                if (strlen(apps[i].id) != ours[i].id_len || memcmp(apps[i].id, ours[i].id, ours[i].id_len) != 0 ||
                    strlen(apps[i].key) != ours[i].key_len || memcmp(apps[i].key, ours[i].key, ours[i].key_len) != 0 ||
                    apps[i].secret_len != ours[i].secret_len ||
                    memcmp(apps[i].secret, ours[i].secret, ours[i].secret_len) != 0)
                    abort();
#ifdef SECRETS_URL_MAX
                if (strlen(apps[i].webhook_url) != ours[i].url_len ||
                    (ours[i].url && memcmp(apps[i].webhook_url, ours[i].url, ours[i].url_len) != 0))
                    abort();
#endif
            }
        }
    }
    free(apps);
    free(text);
    return 0;
}
