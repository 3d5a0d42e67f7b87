#include "batch.h"

#include "signed.h"

#include <stdio.h>
#include <string.h>

void batch_iter_init(batch_iter_t *it, const char *body, size_t len) {
    it->body = body;
    it->len = len;
    it->pos = 0;
    it->index = 0;
    it->reason[0] = '\0';
}

static int batch_fail(batch_iter_t *it, const char *why) {
    snprintf(it->reason, sizeof(it->reason), "record %zu: %s", it->index, why);
    return -1;
}

int batch_key_check(const char *key, size_t len) {
    if (len == 0 || len > BATCH_KEY_MAX) return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] > 0x7e) return -1;
    return 0;
}

/* The header line is short (channel SP digits [SP key]), so it is searched
 * only within the longest possible header; the message bytes are never
 * scanned. */
int batch_next(batch_iter_t *it, batch_record_t *rec) {
    if (it->pos == it->len) return 0;
    const char *p = it->body + it->pos;
    size_t left = it->len - it->pos;
    size_t maxhdr = HERALD_CHANNEL_MAX + 1 + 20 + 1 + BATCH_KEY_MAX + 1;
    const char *lf = memchr(p, '\n', left < maxhdr ? left : maxhdr);
    if (lf == NULL) return batch_fail(it, "header line without LF or too long");
    const char *sp = memchr(p, ' ', (size_t)(lf - p));
    if (sp == NULL) return batch_fail(it, "header is not '<channel> <length>'");
    size_t clen = (size_t)(sp - p);
    if (herald_channel_check(p, clen) != 0) return batch_fail(it, "invalid channel name");
    const char *d = sp + 1;
    const char *key = memchr(d, ' ', (size_t)(lf - d));
    const char *dend = key ? key : lf;
    if (key && batch_key_check(key + 1, (size_t)(lf - key - 1)) != 0)
        return batch_fail(it, "idempotency key is not 1-64 bytes of visible ASCII");
    if (d == dend) return batch_fail(it, "missing length");
    if (*d == '0' && d + 1 != dend) return batch_fail(it, "length has a leading zero");
    size_t n = 0;
    for (; d < dend; d++) {
        if (*d < '0' || *d > '9') return batch_fail(it, "length is not a decimal number");
        if (n > (it->len / 10) + 1) return batch_fail(it, "length exceeds the body");
        n = n * 10 + (size_t)(*d - '0');
    }
    size_t start = (size_t)(lf + 1 - it->body);
    if (n > it->len - start) return batch_fail(it, "length exceeds the body");
    if (it->len - start - n < 1) return batch_fail(it, "message not followed by LF");
    if (it->body[start + n] != '\n') return batch_fail(it, "message not followed by LF");
    rec->channel = p;
    rec->channel_len = clen;
    rec->data = it->body + start;
    rec->len = n;
    rec->key = key ? key + 1 : NULL;
    rec->key_len = key ? (size_t)(lf - key - 1) : 0;
    it->pos = start + n + 1;
    it->index++;
    return 1;
}

long batch_validate(const char *body, size_t len, char *reason, size_t size) {
    batch_iter_t it;
    batch_record_t r;
    int rc;
    batch_iter_init(&it, body, len);
    if (len == 0) {
        snprintf(reason, size, "empty batch");
        return -1;
    }
    while ((rc = batch_next(&it, &r)) == 1) {}
    if (rc < 0) {
        snprintf(reason, size, "%s", it.reason);
        return -1;
    }
    return (long)it.index;
}
