/* Signed channel names: "<channel>~v1.<kid>.<expiry>.<mac>". Shared by
 * heraldd (verify) and the PHP extension (sign); see signed.h and the README
 * section "Signed channel names". No allocation, no globals. */
#include "signed.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define MAC_RAW_LEN 32

/* Lookup tables beat chains of range tests and make the accepted byte
 * classes easy to audit in one place. */
static int byte_is_channel(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
           c == ':' || c == '@';
}

static int byte_is_kid(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int byte_is_b64url(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* One rule for channel names everywhere: the daemon, the emit API and PHP's
 * local check before any I/O all call this. */
int herald_channel_check(const char *name, size_t len) {
    if (name == NULL || len == 0 || len > HERALD_CHANNEL_MAX)
        return HERALD_SIGNED_ECHANNEL;
    for (size_t i = 0; i < len; i++)
        if (!byte_is_channel((unsigned char)name[i]))
            return HERALD_SIGNED_ECHANNEL;
    return HERALD_SIGNED_OK;
}

/* Key ids travel inside signed names, so they share the name's strictness. */
static int kid_check(const char *kid, size_t len) {
    if (len == 0 || len > HERALD_KID_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!byte_is_kid((unsigned char)kid[i]))
            return -1;
    return 0;
}

/* A ':' always separates a key id from the secret (base64 secrets never
 * contain one), so a typo in a kid is an error rather than silently part of
 * the secret. Only trailing CR/LF are trimmed: the secret is the bytes. */
int herald_secret_parse(herald_secret_t *out, const char *line, size_t len) {
    if (out == NULL || line == NULL)
        return HERALD_SIGNED_ESECRET;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    const char *colon = memchr(line, ':', len);
    const char *kid = "0", *key = line;
    size_t kid_len = 1, key_len = len;
    if (colon != NULL) {
        kid = line;
        kid_len = (size_t)(colon - line);
        key = colon + 1;
        key_len = len - kid_len - 1;
        if (kid_check(kid, kid_len) != 0)
            return HERALD_SIGNED_ESECRET;
    }
    if (key_len < HERALD_SECRET_MIN || key_len > HERALD_SECRET_MAX)
        return HERALD_SIGNED_ESECRET;
    memset(out, 0, sizeof *out);
    memcpy(out->kid, kid, kid_len);
    memcpy(out->key, key, key_len);
    out->key_len = key_len;
    return HERALD_SIGNED_OK;
}

/* RFC 4648 section 5, without padding: 32 bytes become exactly 43 chars. */
static void b64url_encode(const unsigned char *in, size_t n, char *out) {
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i = 0, o = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
        out[o++] = abc[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
    }
}

/* Writes the decimal form of v (no leading zeros; "0" for 0); returns length. */
static size_t u64_format(uint64_t v, char *out) {
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* The MAC input is "v1." kid "." expiry "." channel, assembled on the stack
 * so signing and verifying hash exactly the same bytes. */
static int mac_compute(const herald_secret_t *secret, const char *kid,
                       size_t kid_len, uint64_t expiry, const char *channel,
                       size_t channel_len, char mac_b64[HERALD_MAC_B64_LEN]) {
    char msg[3 + HERALD_KID_MAX + 1 + 20 + 1 + HERALD_CHANNEL_MAX];
    size_t n = 0;
    memcpy(msg, "v1.", 3);
    n = 3;
    memcpy(msg + n, kid, kid_len);
    n += kid_len;
    msg[n++] = '.';
    n += u64_format(expiry, msg + n);
    msg[n++] = '.';
    memcpy(msg + n, channel, channel_len);
    n += channel_len;

    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int raw_len = 0;
    if (HMAC(EVP_sha256(), secret->key, (int)secret->key_len,
             (const unsigned char *)msg, n, raw, &raw_len) == NULL ||
        raw_len != MAC_RAW_LEN)
        return HERALD_SIGNED_ECRYPTO;
    b64url_encode(raw, MAC_RAW_LEN, mac_b64);
    OPENSSL_cleanse(raw, sizeof raw);
    return HERALD_SIGNED_OK;
}

/* A secret built by hand (not by herald_secret_parse) must still obey the
 * rules, or a signature could carry a kid the verifier cannot parse. */
static int secret_check(const herald_secret_t *s) {
    if (s == NULL || s->key_len < HERALD_SECRET_MIN ||
        s->key_len > HERALD_SECRET_MAX)
        return HERALD_SIGNED_ESECRET;
    size_t kid_len = strnlen(s->kid, sizeof s->kid);
    if (kid_len == sizeof s->kid || kid_check(s->kid, kid_len) != 0)
        return HERALD_SIGNED_ESECRET;
    return HERALD_SIGNED_OK;
}

/* Mint the capability: PHP calls this for Herald\channel(), heraldd for
 * `heraldd sign`, so both print identical bytes. */
int herald_sign(const herald_secret_t *secret, const char *channel,
                size_t channel_len, uint64_t expiry, char *out,
                size_t out_size) {
    if (herald_channel_check(channel, channel_len) != 0)
        return HERALD_SIGNED_ECHANNEL;
    if (secret_check(secret) != 0)
        return HERALD_SIGNED_ESECRET;
    size_t kid_len = strlen(secret->kid);
    char exp[20];
    size_t exp_len = u64_format(expiry, exp);
    size_t total = channel_len + 4 + kid_len + 1 + exp_len + 1 + HERALD_MAC_B64_LEN;
    if (out == NULL || out_size < total + 1)
        return HERALD_SIGNED_ENOSPACE;

    char mac[HERALD_MAC_B64_LEN];
    int rc = mac_compute(secret, secret->kid, kid_len, expiry, channel,
                         channel_len, mac);
    if (rc != 0)
        return rc;
    size_t n = 0;
    memcpy(out + n, channel, channel_len);
    n += channel_len;
    memcpy(out + n, "~v1.", 4);
    n += 4;
    memcpy(out + n, secret->kid, kid_len);
    n += kid_len;
    out[n++] = '.';
    memcpy(out + n, exp, exp_len);
    n += exp_len;
    out[n++] = '.';
    memcpy(out + n, mac, HERALD_MAC_B64_LEN);
    n += HERALD_MAC_B64_LEN;
    out[n] = '\0';
    return (int)n;
}

/* Strict decimal: digits only, no sign, no leading zero (except "0" itself),
 * and no overflow, so one expiry has exactly one spelling. */
static int u64_parse(const char *s, size_t len, uint64_t *out) {
    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Parse everything before touching a key, then check the MAC before the
 * expiry: an expired verdict is only ever given for an authentic name.
 * Every secret carrying the kid is tried, so two unnamed ("0") secrets
 * still rotate. */
int herald_verify(const herald_secret_t *secrets, size_t n, const char *name,
                  size_t len, uint64_t now, herald_signed_t *out) {
    if (name == NULL || out == NULL)
        return HERALD_SIGNED_EFORMAT;
    const char *tilde = memchr(name, '~', len);
    if (tilde == NULL)
        return HERALD_SIGNED_EFORMAT;
    size_t channel_len = (size_t)(tilde - name);
    if (herald_channel_check(name, channel_len) != 0)
        return HERALD_SIGNED_ECHANNEL;

    /* Split the tail into exactly four dot-separated fields. */
    const char *p = tilde + 1, *end = name + len;
    const char *field[4];
    size_t flen[4];
    int nf = 0;
    for (const char *q = p;; q++) {
        if (q == end || *q == '.') {
            if (nf < 4) {
                field[nf] = p;
                flen[nf] = (size_t)(q - p);
            }
            nf++;
            if (q == end)
                break;
            p = q + 1;
        }
    }
    /* A version is 'v' and digits; anything else is not our format at all. */
    if (flen[0] < 2 || field[0][0] != 'v')
        return HERALD_SIGNED_EFORMAT;
    for (size_t i = 1; i < flen[0]; i++)
        if (field[0][i] < '0' || field[0][i] > '9')
            return HERALD_SIGNED_EFORMAT;
    if (flen[0] != 2 || field[0][1] != '1')
        return HERALD_SIGNED_EVERSION;
    if (nf != 4)
        return HERALD_SIGNED_EFORMAT;
    if (kid_check(field[1], flen[1]) != 0)
        return HERALD_SIGNED_EFORMAT;
    uint64_t expiry;
    if (u64_parse(field[2], flen[2], &expiry) != 0)
        return HERALD_SIGNED_EFORMAT;
    if (flen[3] != HERALD_MAC_B64_LEN)
        return HERALD_SIGNED_EFORMAT;
    for (size_t i = 0; i < HERALD_MAC_B64_LEN; i++)
        if (!byte_is_b64url((unsigned char)field[3][i]))
            return HERALD_SIGNED_EFORMAT;

    int rc = HERALD_SIGNED_EKID;
    const herald_secret_t *match = NULL;
    for (size_t i = 0; i < n; i++) {
        const herald_secret_t *s = &secrets[i];
        if (strnlen(s->kid, sizeof s->kid) != flen[1] ||
            memcmp(s->kid, field[1], flen[1]) != 0)
            continue;
        if (secret_check(s) != 0)
            continue;
        char mac[HERALD_MAC_B64_LEN];
        int crc = mac_compute(s, field[1], flen[1], expiry, name, channel_len,
                              mac);
        if (crc != 0)
            return crc;
        if (CRYPTO_memcmp(mac, field[3], HERALD_MAC_B64_LEN) == 0) {
            match = s;
            break;
        }
        rc = HERALD_SIGNED_EMAC;
    }
    if (match == NULL)
        return rc;
    if (expiry != 0 && now >= expiry)
        return HERALD_SIGNED_EEXPIRED;
    out->channel = name;
    out->channel_len = channel_len;
    out->expiry = expiry;
    out->secret = match;
    return HERALD_SIGNED_OK;
}

/* Sentences meant for logs and for the `reason` of a refused subscribe. */
const char *herald_signed_strerror(int err) {
    switch (err) {
    case HERALD_SIGNED_OK: return "ok";
    case HERALD_SIGNED_ECHANNEL:
        return "invalid channel name (1-200 bytes of A-Z a-z 0-9 _ - . : @)";
    case HERALD_SIGNED_EFORMAT:
        return "not a signed channel name (<channel>~v1.<kid>.<expiry>.<mac>)";
    case HERALD_SIGNED_EVERSION: return "unsupported signed name version";
    case HERALD_SIGNED_EKID: return "unknown key id";
    case HERALD_SIGNED_EEXPIRED: return "signed name expired";
    case HERALD_SIGNED_EMAC: return "bad signature";
    case HERALD_SIGNED_ESECRET:
        return "invalid secret (16-512 bytes, optional key id of 1-32 A-Z a-z 0-9 _ - before a ':')";
    case HERALD_SIGNED_ENOSPACE: return "output buffer too small";
    case HERALD_SIGNED_ECRYPTO: return "libcrypto failed to compute the HMAC";
    default: return "unknown error";
    }
}
