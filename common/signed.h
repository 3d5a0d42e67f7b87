/* Signed channel names: the capability a browser presents to subscribe.
 * Compiled into both heraldd and the PHP extension so the two can never
 * disagree on the format. Format and rules: README.md, "Signed channel
 * names". Pure functions over caller-owned memory: no allocation, no
 * globals, safe from any thread. */
#ifndef HERALD_SIGNED_H
#define HERALD_SIGNED_H

#include <stddef.h>
#include <stdint.h>

#define HERALD_CHANNEL_MAX 200       /* bytes in a channel name */
#define HERALD_KID_MAX 32            /* bytes in a key id */
#define HERALD_SECRET_MIN 16         /* bytes in a secret, at least */
#define HERALD_SECRET_MAX 512        /* bytes in a secret, at most */
#define HERALD_MAC_B64_LEN 43        /* base64url of 32 bytes, unpadded */
/* channel "~v1." kid "." expiry(<=20 digits) "." mac, plus a NUL */
#define HERALD_SIGNED_MAX                                                    \
    (HERALD_CHANNEL_MAX + 4 + HERALD_KID_MAX + 1 + 20 + 1 + HERALD_MAC_B64_LEN + 1)

/* Errors: negative, distinct, each with a sentence from herald_signed_strerror(). */
enum {
    HERALD_SIGNED_OK = 0,
    HERALD_SIGNED_ECHANNEL = -1,  /* channel name empty, too long or bad byte */
    HERALD_SIGNED_EFORMAT = -2,   /* not "<channel>~v1.<kid>.<expiry>.<mac>" */
    HERALD_SIGNED_EVERSION = -3,  /* a version other than v1 */
    HERALD_SIGNED_EKID = -4,      /* no configured secret has that key id */
    HERALD_SIGNED_EEXPIRED = -5,  /* expiry is in the past */
    HERALD_SIGNED_EMAC = -6,      /* the MAC does not match */
    HERALD_SIGNED_ESECRET = -7,   /* a secret too short/long or key id invalid */
    HERALD_SIGNED_ENOSPACE = -8,  /* output buffer too small */
    HERALD_SIGNED_ECRYPTO = -9,   /* libcrypto failed */
};

typedef struct herald_secret {
    char kid[HERALD_KID_MAX + 1];             /* NUL-terminated key id */
    unsigned char key[HERALD_SECRET_MAX];
    size_t key_len;
} herald_secret_t;

/* Result of a successful verify: the plain channel, pointing into the input. */
typedef struct herald_signed {
    const char *channel;
    size_t channel_len;
    uint64_t expiry;          /* 0 = never */
    const herald_secret_t *secret; /* the secret that verified it */
} herald_signed_t;

/* 0 if `name` is a valid plain channel name, else HERALD_SIGNED_ECHANNEL. */
int herald_channel_check(const char *name, size_t len);

/* Parse one secret line ("secret" or "kid:secret", trailing CR/LF ignored;
 * no kid means kid "0"). The first ':' always ends a kid, so a bare secret
 * cannot contain ':' (base64 never does). 0 or HERALD_SIGNED_ESECRET. */
int herald_secret_parse(herald_secret_t *out, const char *line, size_t len);

/* Write the signed name for `channel` into out (NUL-terminated).
 * Returns its length (> 0) or a negative error. */
int herald_sign(const herald_secret_t *secret, const char *channel,
                size_t channel_len, uint64_t expiry, char *out, size_t out_size);

/* Verify a signed name against any of `n` secrets (matched by key id), with
 * the MAC compared in constant time and `now` (Unix seconds) for expiry.
 * On 0, *out points into `name`. */
int herald_verify(const herald_secret_t *secrets, size_t n, const char *name,
                  size_t len, uint64_t now, herald_signed_t *out);

/* A short sentence for an error code, never containing secret material. */
const char *herald_signed_strerror(int err);

#endif
