/* libFuzzer target for the secret-file line walker (common/secretfile.c),
 * which heraldd and the PHP extension both use. Properties: every line lies
 * inside the text, is not empty, holds no LF and ends in none of CR, space,
 * tab; line numbers grow; the walk ends at the end of the text; and it agrees
 * with a plainly written reference (split at LF, cut, skip the blank ones). */
#include "secretfile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int trail(char c) { return c == '\r' || c == ' ' || c == '\t'; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size copy, so ASan catches a read past the end */
    char *text = malloc(size ? size : 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    size_t pos = 0, n = 0, ref = 0;
    const char *l = NULL;
    int lineno = 0, last = 0, ref_lineno = 0;
    while (herald_secret_line_next(text, size, &pos, &l, &n, &lineno) == 1) {
        if (l < text || n == 0 || n > size || (size_t)(l - text) > size - n) abort();
        if (memchr(l, '\n', n) != NULL || trail(l[n - 1])) abort();
        if (lineno <= last || pos > size) abort();
        last = lineno;
        /* the reference: the next line by LF from ref, cut, until non-blank */
        size_t rl;
        const char *r;
        do {
            if (ref >= size) abort(); /* the walker found a line the reference did not */
            r = text + ref;
            const char *nl = memchr(r, '\n', size - ref);
            rl = nl ? (size_t)(nl - r) : size - ref;
            ref += rl + (nl ? 1 : 0);
            ref_lineno++;
            while (rl > 0 && trail(r[rl - 1])) rl--;
        } while (rl == 0);
        if (r != l || rl != n || ref_lineno != lineno || ref != pos) abort();
    }
    if (pos != size) abort();
    /* what the reference has left must be blank lines only */
    for (size_t i = ref; i < size; i++)
        if (text[i] != '\n' && !trail(text[i])) abort();
    if (herald_secret_line_next(text, size, &pos, &l, &n, &lineno) != 0) abort();
    free(text);
    return 0;
}
