/* libFuzzer target for the emit batch format (daemon/batch.c): the body is
 * validated as a whole and iterated record by record; both must agree on
 * the count, every record must lie inside the body with a valid channel
 * name, and an error must name a record. */
#include "batch.h"
#include "signed.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *body = malloc(size ? size : 1);   /* exact size: over-reads show */
    memcpy(body, data, size);
    char reason[128];
    reason[0] = '\0';
    long count = batch_validate(body, size, reason, sizeof reason);
    if (count < -1) abort();
    if (count == -1 && (reason[0] == '\0' || memchr(reason, '\0', sizeof reason) == NULL)) abort();

    batch_iter_t it;
    batch_iter_init(&it, body, size);
    batch_record_t rec;
    long n = 0;
    int rc;
    while ((rc = batch_next(&it, &rec)) == 1) {
        if (rec.channel < body || rec.channel + rec.channel_len > body + size) abort();
        if (rec.len && (rec.data < body || rec.data + rec.len > body + size)) abort();
        if (herald_channel_check(rec.channel, rec.channel_len) != 0) abort();
        if (rec.data && rec.data < rec.channel + rec.channel_len) abort();
        if (rec.key && (rec.key < rec.channel + rec.channel_len || rec.key + rec.key_len > rec.data ||
                        batch_key_check(rec.key, rec.key_len) != 0))
            abort();
        if (!rec.key && rec.key_len) abort();
        n++;
    }
    if (rc != 0 && rc != -1) abort();
    if (rc == -1) {
        if (count != -1) abort();            /* validate said fine, iteration did not */
        if (strncmp(it.reason, "record ", 7) != 0) abort();
    } else if (size == 0) {
        if (count != -1) abort();            /* an empty batch is refused as a whole */
    } else if (count != n) {
        abort();
    }
    free(body);
    return 0;
}
