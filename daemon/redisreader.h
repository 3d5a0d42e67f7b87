/* hiredis's reader, bounded: it allocates an array's element pointers as
 * soon as it reads the count the peer declares, so "*2000000000" alone
 * would ask for 16 GB. Every reader heraldd uses (its own and those of
 * hiredis's async contexts) refuses a count over REDISREADER_MAX_ELEMENTS
 * with the reader's error, which closes the link as any malformed answer
 * does. The largest array heraldd asks for is a full history (history_size
 * is at most 1,000,000 entries). */
#ifndef HERALD_REDISREADER_H
#define HERALD_REDISREADER_H

#include <hiredis/hiredis.h>

#define REDISREADER_MAX_ELEMENTS (4 << 20)

/* A new bounded reader (NULL: out of memory); free with redisReaderFree. */
redisReader *redisreader_create(void);

/* Bound an existing reader (an async context's: ac->c.reader). */
void redisreader_bound(redisReader *r);

#endif
