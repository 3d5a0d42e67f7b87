/* pusher_apps_file lines ("app_id:key:secret"), walked the same way by the
 * PHP extension (Herald\pusher_auth()) and, through the unit test that
 * checks them against each other, by heraldd's own parser (secrets.c):
 * so the file the one accepts, the other accepts, with the same fields. No
 * allocation: the fields point into the text. */
#ifndef HERALD_PUSHERAPPS_H
#define HERALD_PUSHERAPPS_H

#include <stddef.h>

#define HERALD_PUSHER_APP_NAME_MAX 64   /* bytes of an app id or key */
#define HERALD_PUSHER_APP_URL_MAX 512   /* bytes of a webhook URL */

typedef struct herald_pusher_app_line {
    const char *id, *key, *secret, *url;  /* url: NULL when the line has none */
    size_t id_len, key_len, secret_len, url_len;
} herald_pusher_app_line_t;

/* The next app from *pos (start at *pos = 0, *lineno = 0): blank lines and
 * lines starting with '#' are skipped; ids and keys are 1-64 bytes of
 * A-Z a-z 0-9 _ - ., the secret is what follows the second ':' (16-512
 * bytes) up to an optional webhook URL, which starts at the first
 * ":http://" or ":https://" after it (printable ASCII, at most 512 bytes).
 * 1 with *out set, 0 at the end, -1 for a line that is not an app (*lineno
 * names it). */
int herald_pusher_apps_next(const char *text, size_t len, size_t *pos, int *lineno,
                            herald_pusher_app_line_t *out);

#endif
