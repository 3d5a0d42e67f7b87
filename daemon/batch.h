/* The emit batch body (README "Emit API"): records of
 * "<channel> SP <length> [SP <idempotency key>] LF <length bytes> LF", read
 * from a complete body so every record is validated before any is
 * published. The key is optional, so bodies without keys read as before. */
#ifndef HERALD_BATCH_H
#define HERALD_BATCH_H

#include <stddef.h>

#define BATCH_KEY_MAX 64   /* bytes in an idempotency key */

typedef struct batch_record {
    const char *channel;
    size_t channel_len;
    const char *data;
    size_t len;
    const char *key;       /* NULL when the record has none */
    size_t key_len;
} batch_record_t;

/* An idempotency key (header or record): 1-64 bytes of visible ASCII
 * (0x21-0x7E), so it never holds the separators of either format. */
int batch_key_check(const char *key, size_t len);

typedef struct batch_iter {
    const char *body;
    size_t len, pos;
    size_t index;          /* index of the next record (0-based) */
    char reason[128];      /* after an error: "record N: why" */
} batch_iter_t;

void batch_iter_init(batch_iter_t *it, const char *body, size_t len);

/* 1 with the next record, 0 at the end, -1 on a malformed record (reason
 * in it->reason naming its index). Channel names are checked too. */
int batch_next(batch_iter_t *it, batch_record_t *rec);

/* Validate a whole body: the record count, or -1 with the reason. */
long batch_validate(const char *body, size_t len, char *reason, size_t size);

#endif
