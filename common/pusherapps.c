#include "pusherapps.h"

#include "secretfile.h"
#include "signed.h"

#include <string.h>

/* An app id or key: the bytes that are safe in a URL path and a log line. */
static int pusher_apps_name_ok(const char *p, size_t n) {
    if (n == 0 || n > HERALD_PUSHER_APP_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* Where a webhook URL starts in a secret field: the first ":http://" or
 * ":https://" (secrets may hold colons; nobody's holds either of those). */
static const char *pusher_apps_url_find(const char *p, size_t n) {
    for (size_t i = 0; i + 8 <= n; i++) {
        if (p[i] != ':') continue;
        if (memcmp(p + i + 1, "http://", 7) == 0) return p + i + 1;
        if (i + 9 <= n && memcmp(p + i + 1, "https://", 8) == 0) return p + i + 1;
    }
    return NULL;
}

/* A URL of printable ASCII with something after its scheme. */
static int pusher_apps_url_ok(const char *u, size_t n) {
    size_t scheme = u[4] == 's' ? 8 : 7;
    if (n <= scheme || n > HERALD_PUSHER_APP_URL_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f) return 0;
    return 1;
}

/* Lines come from herald_secret_line_next, so CR, trailing blanks and the
 * 64 KiB bound are the other secret files' rules too. */
int herald_pusher_apps_next(const char *text, size_t len, size_t *pos, int *lineno,
                            herald_pusher_app_line_t *out) {
    const char *l;
    size_t ll;
    memset(out, 0, sizeof(*out));
    while (herald_secret_line_next(text, len, pos, &l, &ll, lineno)) {
        if (l[0] == '#') continue;
        const char *c1 = memchr(l, ':', ll);
        const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - l)) : NULL;
        if (c2 == NULL) return -1;
        out->id = l;
        out->id_len = (size_t)(c1 - l);
        out->key = c1 + 1;
        out->key_len = (size_t)(c2 - c1 - 1);
        out->secret = c2 + 1;
        out->secret_len = ll - (size_t)(c2 + 1 - l);
        out->url = pusher_apps_url_find(out->secret, out->secret_len);
        if (out->url) {
            out->url_len = out->secret_len - (size_t)(out->url - out->secret);
            out->secret_len -= out->url_len + 1;
        }
        if ((out->url && !pusher_apps_url_ok(out->url, out->url_len)) ||
            !pusher_apps_name_ok(out->id, out->id_len) || !pusher_apps_name_ok(out->key, out->key_len) ||
            out->secret_len < HERALD_SECRET_MIN || out->secret_len > HERALD_SECRET_MAX) {
            memset(out, 0, sizeof(*out));
            return -1;
        }
        return 1;
    }
    return 0;
}
