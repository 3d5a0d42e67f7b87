/* Unit tests for daemon/webhookwire.c: the events, Pusher's batch body and
 * its signature (checked against node's crypto.createHmac). */
#include "t.h"
#include "webhookwire.h"

#include <stdlib.h>

static void a_batch_is_time_ms_and_events_in_order(void) {
    webhook_event_t *a = webhook_event_new(WEBHOOK_CHANNEL_OCCUPIED, "presence-r", 10, NULL);
    webhook_event_t *b = webhook_event_new(WEBHOOK_MEMBER_ADDED, "presence-r", 10, "7");
    webhook_event_t *c = webhook_event_new(WEBHOOK_MEMBER_REMOVED, "presence-r", 10, "7");
    webhook_event_t *d = webhook_event_new(WEBHOOK_CHANNEL_VACATED, "presence-rXX", 10, NULL);
    CHECK(a && b && c && d);
    a->next = b;
    b->next = c;
    c->next = d;
    size_t len = 0;
    char *s = webhook_body_format(a, 4, 1700000000123, &len);
    CHECK_STR(s, "{\"time_ms\":1700000000123,\"events\":["
                 "{\"name\":\"channel_occupied\",\"channel\":\"presence-r\"},"
                 "{\"name\":\"member_added\",\"channel\":\"presence-r\",\"user_id\":\"7\"},"
                 "{\"name\":\"member_removed\",\"channel\":\"presence-r\",\"user_id\":\"7\"},"
                 "{\"name\":\"channel_vacated\",\"channel\":\"presence-r\"}]}");
    CHECK_EQ_INT(len, strlen(s));
    free(s);
    /* the first n only */
    s = webhook_body_format(a, 1, 5, &len);
    CHECK_STR(s, "{\"time_ms\":5,\"events\":[{\"name\":\"channel_occupied\",\"channel\":\"presence-r\"}]}");
    free(s);
    CHECK_EQ_INT(webhook_events_free(a), 4);
}

static void user_ids_are_escaped_as_json(void) {
    webhook_event_t *e = webhook_event_new(WEBHOOK_MEMBER_ADDED, "presence-r", 10, "a\"b\\c\xc3\xbc");
    size_t len;
    char *s = webhook_body_format(e, 1, 1, &len);
    CHECK_STR(s, "{\"time_ms\":1,\"events\":[{\"name\":\"member_added\",\"channel\":\"presence-r\","
                 "\"user_id\":\"a\\\"b\\\\c\xc3\xbc\"}]}");
    free(s);
    free(e);
}

static void an_empty_batch_and_an_unknown_kind(void) {
    size_t len;
    char *s = webhook_body_format(NULL, 0, 1, &len);
    CHECK_STR(s, "{\"time_ms\":1,\"events\":[]}");
    free(s);
    webhook_event_t *e = webhook_event_new(99, "a", 1, NULL);
    CHECK(webhook_body_format(e, 1, 1, &len) == NULL);
    free(e);
}

static void signature_is_hex_hmac_sha256_of_the_body(void) {
    const char *body = "{\"time_ms\":1700000000000,\"events\":[{\"name\":\"channel_occupied\",\"channel\":\"a\"}]}";
    const char *secret = "a-secret-of-enough-bytes-0123456789";
    char hex[65];
    webhook_signature((const unsigned char *)secret, strlen(secret), body, strlen(body), hex);
    /* node -e "crypto.createHmac('sha256', secret).update(body).digest('hex')" */
    CHECK_STR(hex, "b7d422cc50fba01016a33c6d7365fd31bd245d0a0a76a881d153fe83ccbb689a");
}

int main(void) {
    RUN(a_batch_is_time_ms_and_events_in_order);
    RUN(user_ids_are_escaped_as_json);
    RUN(an_empty_batch_and_an_unknown_kind);
    RUN(signature_is_hex_hmac_sha256_of_the_body);
    return T_DONE();
}
