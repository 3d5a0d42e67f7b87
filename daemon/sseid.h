/* The SSE event id of a stream on several channels (README "SSE"): one
 * Last-Event-ID must resume every channel, so the id carries the position
 * of each channel of the stream, in the order of its URL:
 *     ~P1.P2.P3      Pi: the last id sent on channel i, or empty (none yet)
 * '~' never starts a channel name, so it cannot be taken for the one-
 * channel form "<channel>:<id>". Pure functions over caller memory. */
#ifndef HERALD_SSEID_H
#define HERALD_SSEID_H

#include <stddef.h>
#include <stdint.h>

#define SSEID_DIGITS_MAX 19   /* a position is at most 19 decimal digits */

/* Write the id of n positions into out (NUL-terminated; known[i] 0 leaves
 * field i empty). Its length, or -1 when out is too small. */
int sseid_format(char *out, size_t size, size_t n, const uint64_t *pos, const uint8_t *known);

/* Read an id written by sseid_format for a stream of n channels: pos and
 * known get each field. 0, or -1 (not this form, not n fields, a field
 * not 1-19 digits or empty): then pos and known are left untouched. */
int sseid_parse(const char *s, size_t len, size_t n, uint64_t *pos, uint8_t *known);

#endif
