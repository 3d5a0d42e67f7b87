/* Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), so a text message split across frames or reads
 * is checked without being copied or re-scanned. */
#ifndef HERALD_UTF8_H
#define HERALD_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_ACCEPT 0u   /* at a character boundary, all valid so far */
#define UTF8_REJECT 1u   /* invalid; stays invalid */

/* Continue validation from `state` over s[0..len); returns the new state.
 * A complete message is valid when the final state is UTF8_ACCEPT. */
uint32_t utf8_feed(uint32_t state, const unsigned char *s, size_t len);

/* 1 if s[0..len) is complete, valid UTF-8. */
int utf8_valid(const unsigned char *s, size_t len);

#endif
