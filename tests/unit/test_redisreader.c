/* daemon/redisreader.c: a peer's declared array size is refused over the
 * bound before hiredis allocates for it; everything else reads as with
 * hiredis's own reader, in any pieces. */
#include "redisreader.h"
#include "t.h"

#include <stdio.h>
#include <string.h>

/* Feed bytes in pieces of step; REDIS_OK with *reply, or REDIS_ERR. */
static int feed(redisReader *r, const char *bytes, size_t step, redisReply **reply) {
    size_t n = strlen(bytes);
    *reply = NULL;
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        if (redisReaderFeed(r, bytes + i, k) != REDIS_OK) return REDIS_ERR;
        void *out = NULL;
        if (redisReaderGetReply(r, &out) != REDIS_OK) return REDIS_ERR;
        if (out) {
            *reply = out;
            return REDIS_OK;
        }
    }
    return REDIS_OK;
}

static void ordinary_answers_read_in_any_pieces(void) {
    const char *bytes = "*3\r\n:1\r\n$5\r\nhello\r\n*2\r\n+OK\r\n$-1\r\n";
    for (size_t step = 1; step <= strlen(bytes); step++) {
        redisReader *r = redisreader_create();
        CHECK(r != NULL);
        redisReply *rep;
        CHECK_EQ_INT(feed(r, bytes, step, &rep), REDIS_OK);
        CHECK(rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3);
        if (rep && rep->elements == 3) {
            CHECK_EQ_INT((int)rep->element[0]->integer, 1);
            CHECK(strcmp(rep->element[1]->str, "hello") == 0);
            CHECK_EQ_INT((int)rep->element[2]->elements, 2);
        }
        if (rep) freeReplyObject(rep);
        redisReaderFree(r);
    }
}

static void a_declared_size_over_the_bound_is_an_error_not_an_allocation(void) {
    char bytes[64];
    const long sizes[] = {REDISREADER_MAX_ELEMENTS + 1L, 777777772L, 2147483647L};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        redisReader *r = redisreader_create();
        redisReply *rep;
        snprintf(bytes, sizeof(bytes), "*%ld\r\n:1\r\n", sizes[i]);
        CHECK_EQ_INT(feed(r, bytes, 64, &rep), REDIS_ERR);
        CHECK(rep == NULL);
        CHECK(r->err != 0);
        redisReaderFree(r);
    }
    /* nested, as the fuzzer found it: an array inside an array */
    redisReader *r = redisreader_create();
    redisReply *rep;
    CHECK_EQ_INT(feed(r, "*2\r\n:6\r\n*777777772\r\n$1\r\nh\r\n", 3, &rep), REDIS_ERR);
    redisReaderFree(r);
}

static void a_size_at_the_bound_is_read(void) {
    redisReader *r = redisreader_create();
    redisReply *rep;
    char head[32];
    snprintf(head, sizeof(head), "*%d\r\n", REDISREADER_MAX_ELEMENTS);
    CHECK_EQ_INT(feed(r, head, 64, &rep), REDIS_OK);
    CHECK(rep == NULL); /* waiting for its elements */
    redisReaderFree(r);
}

/* An async context's reader (hiredis makes it) is bounded the same way. */
static void an_existing_reader_is_bounded(void) {
    redisReader *r = redisReaderCreate();
    redisreader_bound(r);
    redisReply *rep;
    CHECK_EQ_INT(feed(r, "*999999999\r\n", 64, &rep), REDIS_ERR);
    redisReaderFree(r);
    redisreader_bound(NULL); /* harmless */
}

int main(void) {
    RUN(ordinary_answers_read_in_any_pieces);
    RUN(a_declared_size_over_the_bound_is_an_error_not_an_allocation);
    RUN(a_size_at_the_bound_is_read);
    RUN(an_existing_reader_is_bounded);
    return T_DONE();
}
