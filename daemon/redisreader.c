#include "redisreader.h"

#include <pthread.h>
#include <stddef.h>

static redisReplyObjectFunctions redisreader_fns;  /* hiredis's own, but createArray */
static void *(*redisreader_array)(const redisReadTask *, int);
static pthread_once_t redisreader_once = PTHREAD_ONCE_INIT;

/* NULL is how a reply function says "out of memory": the reader stops with
 * an error instead of allocating what the peer declared. */
static void *redisreader_create_array(const redisReadTask *task, int elements) {
    if (elements > REDISREADER_MAX_ELEMENTS) return NULL;
    return redisreader_array(task, elements);
}

/* hiredis keeps its default functions static: they are copied from a
 * reader it makes, once, whichever loop thread connects first. Out of
 * memory here (at start-up), readers stay hiredis's own. */
static void redisreader_init(void) {
    redisReader *r = redisReaderCreate();
    if (r == NULL) return;
    redisreader_fns = *r->fn;
    redisReaderFree(r);
    redisreader_array = redisreader_fns.createArray;
    redisreader_fns.createArray = redisreader_create_array;
}

void redisreader_bound(redisReader *r) {
    pthread_once(&redisreader_once, redisreader_init);
    if (r != NULL && redisreader_array != NULL) r->fn = &redisreader_fns;
}

redisReader *redisreader_create(void) {
    redisReader *r = redisReaderCreate();
    redisreader_bound(r);
    return r;
}
