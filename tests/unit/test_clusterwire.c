/* daemon/clusterwire.c: the redis_cluster seed list, hash slots (checked
 * against CLUSTER KEYSLOT of Redis 7.0), CLUSTER SLOTS answers and MOVED/
 * ASK errors, and clustercmd.c's routing of a hash tag to its keys' slot.
 * Replies are built from RESP bytes by hiredis's reader, as the link
 * builds them. */
#include "clustercmd.h"
#include "clusterwire.h"
#include "presencewire.h"
#include "rediswire.h"
#include "t.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>

static int seeds(const char *s, clusterwire_seeds_t *o, char *why) {
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    int r = clusterwire_seeds_parse(p, n, o, why, 200);
    free(p);
    return r;
}

static redisReply *resp(const char *bytes) {
    redisReader *rd = redisReaderCreate();
    void *reply = NULL;
    redisReaderFeed(rd, bytes, strlen(bytes));
    if (redisReaderGetReply(rd, &reply) != REDIS_OK) reply = NULL;
    redisReaderFree(rd);
    return reply;
}

static void seed_lists_parse_with_credentials_on_the_first(void) {
    clusterwire_seeds_t o;
    char why[200];
    CHECK_EQ_INT(seeds("127.0.0.1:7000,127.0.0.1:7001, node3", &o, why), 0);
    CHECK_EQ_INT(o.n, 3);
    CHECK(strcmp(o.seed[1].host, "127.0.0.1") == 0);
    CHECK_EQ_INT(o.seed[1].port, 7001);
    CHECK(strcmp(o.seed[2].host, "node3") == 0);
    CHECK_EQ_INT(o.seed[2].port, 6379);
    CHECK_EQ_INT(o.auth.has_password, 0);
    CHECK_EQ_INT(seeds("redis://herald:p%2Cw@10.0.0.1:7000,[::1]:7001", &o, why), 0);
    CHECK_EQ_INT(o.n, 2);
    CHECK(strcmp(o.auth.user, "herald") == 0);
    CHECK(strcmp(o.auth.password, "p,w") == 0);
    CHECK(strcmp(o.seed[1].host, "::1") == 0);
    CHECK_EQ_INT(seeds("redis://h1:7000", &o, why), 0);
}

static void bad_seed_lists_are_refused_without_the_password(void) {
    clusterwire_seeds_t o;
    char why[200];
    CHECK_EQ_INT(seeds("", &o, why), -1);
    CHECK_EQ_INT(seeds("h1:7000,,h2:7000", &o, why), -1);
    CHECK_EQ_INT(seeds("h1:7000,", &o, why), -1);
    CHECK_EQ_INT(seeds("h1:99999", &o, why), -1);
    CHECK_EQ_INT(seeds("redis://h1:7000/2", &o, why), -1);
    CHECK(strstr(why, "no database") != NULL);
    CHECK_EQ_INT(seeds("unix:/tmp/r.sock", &o, why), -1);
    CHECK_EQ_INT(seeds("h1:7000,redis://:sekrit@h2:7000", &o, why), -1);
    CHECK(strstr(why, "first address") != NULL);
    CHECK(strstr(why, "sekrit") == NULL);
    CHECK_EQ_INT(seeds("redis://:sekrit@h 1:7000", &o, why), -1);
    CHECK(strstr(why, "sekrit") == NULL);
    char many[400] = "";
    for (int i = 0; i < 17; i++) strcat(many, i ? ",h:1" : "h:1");
    CHECK_EQ_INT(seeds(many, &o, why), -1);
    many[strlen(many) - 4] = '\0';
    CHECK_EQ_INT(seeds(many, &o, why), 0);
    CHECK_EQ_INT(o.n, 16);
}

static void slots_match_redis_cluster_keyslot(void) {
    struct { const char *k; unsigned slot; } v[] = {
        {"foo", 12182}, {"123456789", 12739}, {"{user1000}.following", 3443},
        {"user1000", 3443}, {"foo{}{bar}", 8363}, {"foo{{bar}}zap", 4015},
        {"foo{bar}{zap}", 5061}, {"{}", 15257}, {"herald:{pub.a}:id", 4051},
        {"herald:{pub.b}:0", 16304}, {"", 0},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        CHECK_EQ_INT(clusterwire_slot(v[i].k, strlen(v[i].k)), v[i].slot);
    /* a channel's keys and pub/sub channel share one slot */
    CHECK_EQ_INT(clusterwire_slot("herald:{pub.a}:h", 16), 4051);
    CHECK_EQ_INT(clusterwire_slot("herald:{pub.a}:0", 16), 4051);
}

static void cluster_slots_answers_make_a_map(void) {
    clusterwire_map_t *m = malloc(sizeof(*m));
    char why[200];
    redisReply *r = resp("*3\r\n"
        "*3\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7101\r\n$3\r\nid1\r\n"
        "*4\r\n:5461\r\n:10922\r\n*3\r\n$0\r\n\r\n:7102\r\n$3\r\nid2\r\n*2\r\n$9\r\n127.0.0.1\r\n:7201\r\n"
        "*3\r\n:10923\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:7101\r\n");
    CHECK(r != NULL);
    CHECK_EQ_INT(clusterwire_slots_parse(r, "10.1.1.1", m, why, sizeof(why)), 0);
    CHECK_EQ_INT(m->nnodes, 2);
    CHECK_EQ_INT(m->owner[0], 0);
    CHECK_EQ_INT(m->owner[5461], 1);
    CHECK_EQ_INT(m->owner[16383], 0);
    CHECK(strcmp(m->node[1].host, "10.1.1.1") == 0); /* empty ip: the node asked */
    CHECK_EQ_INT(m->node[1].port, 7102);
    freeReplyObject(r);
    /* a partial map: unclaimed slots are NONE */
    r = resp("*1\r\n*3\r\n:5\r\n:5\r\n*2\r\n$1\r\nh\r\n:1\r\n");
    CHECK_EQ_INT(clusterwire_slots_parse(r, "x", m, why, sizeof(why)), 0);
    CHECK_EQ_INT(m->owner[4], CLUSTERWIRE_NONE);
    CHECK_EQ_INT(m->owner[5], 0);
    freeReplyObject(r);
    r = resp("*0\r\n");
    CHECK_EQ_INT(clusterwire_slots_parse(r, "x", m, why, sizeof(why)), 0);
    CHECK_EQ_INT(m->nnodes, 0);
    freeReplyObject(r);
    free(m);
}

static void bad_cluster_slots_answers_are_refused(void) {
    clusterwire_map_t *m = malloc(sizeof(*m));
    char why[200];
    const char *bad[] = {
        "-ERR This instance has cluster support disabled\r\n",
        ":1\r\n",
        "*1\r\n:1\r\n",
        "*1\r\n*2\r\n:0\r\n:1\r\n",                                       /* no node */
        "*1\r\n*3\r\n:5\r\n:4\r\n*2\r\n$1\r\nh\r\n:1\r\n",                /* start > end */
        "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n",            /* past the last slot */
        "*1\r\n*3\r\n:-1\r\n:3\r\n*2\r\n$1\r\nh\r\n:1\r\n",
        "*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n$1\r\nh\r\n:0\r\n",                /* port 0 */
        "*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n$3\r\nh h\r\n:1\r\n",              /* bad host */
        "*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n:1\r\n:1\r\n",                      /* host not a string */
        "*2\r\n*3\r\n:0\r\n:3\r\n*2\r\n$1\r\nh\r\n:1\r\n*3\r\n:3\r\n:4\r\n*2\r\n$1\r\ng\r\n:1\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        redisReply *r = resp(bad[i]);
        CHECK(r != NULL);
        CHECK_EQ_INT(clusterwire_slots_parse(r, "x", m, why, sizeof(why)), -1);
        freeReplyObject(r);
    }
    /* 65 masters */
    char *big = malloc(65 * 64 + 16), *p = big;
    p += sprintf(p, "*65\r\n");
    for (int i = 0; i < 65; i++) p += sprintf(p, "*3\r\n:%d\r\n:%d\r\n*2\r\n$1\r\nh\r\n:%d\r\n", i, i, i + 1);
    redisReply *r = resp(big);
    CHECK_EQ_INT(clusterwire_slots_parse(r, "x", m, why, sizeof(why)), -1);
    CHECK(strstr(why, "64") != NULL);
    freeReplyObject(r);
    free(big);
    free(m);
}

static void moved_and_ask_errors_parse(void) {
    int ask, port;
    unsigned slot;
    char host[256];
    const char *e = "MOVED 3999 127.0.0.1:6381";
    CHECK_EQ_INT(clusterwire_redirect(e, strlen(e), &ask, &slot, host, sizeof(host), &port), 0);
    CHECK_EQ_INT(ask, 0);
    CHECK_EQ_INT(slot, 3999);
    CHECK(strcmp(host, "127.0.0.1") == 0);
    CHECK_EQ_INT(port, 6381);
    e = "ASK 16383 ::1:7000";
    CHECK_EQ_INT(clusterwire_redirect(e, strlen(e), &ask, &slot, host, sizeof(host), &port), 0);
    CHECK_EQ_INT(ask, 1);
    CHECK(strcmp(host, "::1") == 0);
    e = "MOVED 1 :7000";
    CHECK_EQ_INT(clusterwire_redirect(e, strlen(e), &ask, &slot, host, sizeof(host), &port), 0);
    CHECK(host[0] == '\0');
    const char *bad[] = {"MOVED", "MOVED 16384 h:1", "MOVED x h:1", "MOVED 1 h", "MOVED 1 h:",
                         "MOVED 1 h:70000", "MOVED 1 h:0", "ASK 1 h h:1", "CLUSTERDOWN The cluster is down",
                         "MOVED 1234567 h:1", "NOSCRIPT"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(clusterwire_redirect(bad[i], strlen(bad[i]), &ask, &slot, host, sizeof(host), &port), -1);
}

/* A presence command's tag routes to the slot of every key it touches:
 * the channel's keys and pub/sub channel, a node's channel list, the
 * liveness registry. */
static void command_tags_route_to_their_keys_slot(void) {
    char k[300];
    const char *chans[] = {"presence-room", "presence-a}b", "presence-{x}", "p", "presence-\xc3\xa9"};
    for (size_t i = 0; i < sizeof(chans) / sizeof(chans[0]); i++) {
        size_t len = strlen(chans[i]);
        for (int kind = PRESENCEWIRE_MEMBERS; kind <= PRESENCEWIRE_OCCUPIED; kind++) {
            int n = presencewire_key(k, sizeof(k), kind, chans[i], len);
            CHECK(n > 0);
            CHECK_EQ_INT(clustercmd_slot(chans[i], len), (int)clusterwire_slot(k, (size_t)n));
        }
        int n = rediswire_key(k, sizeof(k), REDISWIRE_KEY_PUBSUB, chans[i], len, 0);
        CHECK_EQ_INT(clustercmd_slot(chans[i], len), (int)clusterwire_slot(k, (size_t)n));
    }
    int n = presencewire_node_key(k, sizeof(k), "0123456789abcdef");
    CHECK_EQ_INT(clustercmd_slot(k + 8, (size_t)n - 12), (int)clusterwire_slot(k, (size_t)n));
    CHECK_EQ_INT(clustercmd_slot("#nodes", 6), (int)clusterwire_slot(PRESENCEWIRE_LIVE_KEY, strlen(PRESENCEWIRE_LIVE_KEY)));
    CHECK_EQ_INT(clustercmd_slot("pub.a", 5), 4051);
    /* too long for any channel: refused, not truncated to a wrong slot */
    char big[CLUSTERCMD_TAG_MAX + 2];
    memset(big, 'a', sizeof(big));
    CHECK(clustercmd_slot(big, CLUSTERCMD_TAG_MAX) >= 0);
    CHECK_EQ_INT(clustercmd_slot(big, CLUSTERCMD_TAG_MAX + 1), -1);
}

int main(void) {
    RUN(seed_lists_parse_with_credentials_on_the_first);
    RUN(bad_seed_lists_are_refused_without_the_password);
    RUN(slots_match_redis_cluster_keyslot);
    RUN(cluster_slots_answers_make_a_map);
    RUN(bad_cluster_slots_answers_are_refused);
    RUN(moved_and_ask_errors_parse);
    RUN(command_tags_route_to_their_keys_slot);
    return T_DONE();
}
