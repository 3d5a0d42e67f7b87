/* libFuzzer target for what heraldd reads from its redis_cluster key and
 * from a Redis Cluster (daemon/clusterwire.c): the first byte picks the
 * parser, the rest is its input, in an exact-size allocation. A CLUSTER
 * SLOTS answer is fed as RESP bytes through hiredis's reader, as the link
 * reads it. Properties: a seed list that parses has 1-16 seeds with a
 * NUL-terminated host and a port 1-65535, and a refusal never repeats the
 * password; a map that parses points every claimed slot at a node it
 * lists, each with a valid port; a redirect names a slot < 16384 and a
 * port 1-65535; a slot is always < 16384. */
#include "clusterwire.h"
#include "redisreader.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

static void fuzz_seeds(const char *s, size_t n) {
    clusterwire_seeds_t o;
    char why[200];
    if (clusterwire_seeds_parse(s, n, &o, why, sizeof(why)) != 0) {
        if (memchr(why, '\0', sizeof(why)) == NULL || why[0] == '\0') abort();
        /* (a password short enough to be a word of the sentence is not checked) */
        if (o.auth.has_password && strlen(o.auth.password) >= 12 && strstr(why, o.auth.password))
            abort();
        return;
    }
    if (o.n == 0 || o.n > CLUSTERWIRE_MAX_SEEDS) abort();
    for (size_t i = 0; i < o.n; i++) {
        size_t hl = strnlen(o.seed[i].host, sizeof(o.seed[i].host));
        if (hl == 0 || hl >= sizeof(o.seed[i].host)) abort();
        if (o.seed[i].port < 1 || o.seed[i].port > 65535) abort();
    }
}

static void fuzz_slots(const char *s, size_t n) {
    redisReader *rd = redisreader_create();
    void *reply = NULL;
    redisReaderFeed(rd, s, n);
    if (redisReaderGetReply(rd, &reply) == REDIS_OK && reply) {
        static clusterwire_map_t m;
        char why[200];
        if (clusterwire_slots_parse(reply, "asked", &m, why, sizeof(why)) == 0) {
            if (m.nnodes > CLUSTERWIRE_MAX_MASTERS) abort();
            for (size_t i = 0; i < m.nnodes; i++)
                if (m.node[i].port < 1 || m.node[i].port > 65535 || m.node[i].host[0] == '\0') abort();
            for (size_t i = 0; i < CLUSTERWIRE_SLOTS; i++)
                if (m.owner[i] != CLUSTERWIRE_NONE && m.owner[i] >= m.nnodes) abort();
        }
        freeReplyObject(reply);
    }
    redisReaderFree(rd);
}

static void fuzz_redirect(const char *s, size_t n) {
    int ask, port;
    unsigned slot;
    char host[256];
    if (clusterwire_slot(s, n) >= CLUSTERWIRE_SLOTS) abort();
    if (clusterwire_redirect(s, n, &ask, &slot, host, sizeof(host), &port) != 0) return;
    if (slot >= CLUSTERWIRE_SLOTS || port < 1 || port > 65535 || strlen(host) >= n) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    size_t n = size - 1;
    char *s = malloc(n ? n : 1);
    memcpy(s, data + 1, n);
    switch (data[0] % 3) {
    case 0: fuzz_seeds(s, n); break;
    case 1: fuzz_slots(s, n); break;
    default: fuzz_redirect(s, n); break;
    }
    free(s);
    return 0;
}
