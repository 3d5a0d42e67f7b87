/* The browser Origin policy (allowed_origins): an allowlist of origins
 * that may open /ws and /sse, so a page on another site cannot use a
 * visitor's browser to subscribe (cross-site WebSocket hijacking). The
 * Origin header is outside input: one that does not parse matches nothing
 * but "*". */
#ifndef HERALD_ORIGIN_H
#define HERALD_ORIGIN_H

#include <stddef.h>

/* A parsed origin "scheme://host[:port]"; pointers into the parsed text. */
typedef struct origin {
    const char *scheme;
    size_t scheme_len;
    const char *host;  /* without the "*." of a wildcard entry */
    size_t host_len;
    unsigned port;     /* explicit, else the scheme's default, else 0 */
    int wildcard;      /* an entry whose host starts with "*.": any subdomain */
} origin_t;

/* Parse one origin as a browser serializes it (or, with allow_wildcard, an
 * allowlist entry whose host may start with "*."). 0, or -1 if it is not
 * scheme://host[:port] with nothing after. */
int origin_parse(const char *s, size_t len, int allow_wildcard, origin_t *out);

/* Check an allowed_origins value ("*" or comma-separated entries) when the
 * configuration loads. 0, or -1 with err naming the first bad entry. */
int origin_list_check(const char *list, char *err, size_t es);

/* Is this Origin header value allowed by the list? 1 or 0. */
int origin_list_allows(const char *list, const char *origin, size_t len);

#endif
