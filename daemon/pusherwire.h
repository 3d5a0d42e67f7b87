/* The Pusher Channels protocol 7 on the wire (what pusher-js 8 and Laravel
 * Echo speak): the client's JSON messages, the auth signatures of private
 * and presence channels, presence's channel_data, and the event frame a
 * Herald message becomes, built once per message. */
#ifndef HERALD_PUSHERWIRE_H
#define HERALD_PUSHERWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "history.h"
#include "signed.h"

enum {
    PUSHER_SUBSCRIBE = 1, PUSHER_UNSUBSCRIBE, PUSHER_PING, PUSHER_PONG,
    PUSHER_CLIENT_EVENT,   /* client-*: browsers never publish (4301) */
    PUSHER_OTHER,          /* pusher:signin and anything else: ignored */
};

#define PUSHER_CHANNEL_MAX 164     /* Pusher's own limit on a name */
#define PUSHER_AUTH_MAX 200
#define PUSHER_CHANNEL_DATA_MAX 1024
#define PUSHER_USER_ID_MAX 128

typedef struct pusher_cmd {
    int type;
    char channel[PUSHER_CHANNEL_MAX + 1];
    size_t channel_len;
    char auth[PUSHER_AUTH_MAX + 1];
    char channel_data[PUSHER_CHANNEL_DATA_MAX + 1];
    int has_channel_data;
} pusher_cmd_t;

/* Parse one client message. 0, or -1 with why (a short sentence). */
int pusher_cmd_parse(const char *json, size_t len, pusher_cmd_t *out, const char **why);

/* Does auth ("key:hex") sign socket_id:channel[:channel_data] with this
 * app's key and secret? Compared in constant time. 1 or 0. */
int pusher_auth_ok(const char *key, const unsigned char *secret, size_t secret_len,
                   const char *socket_id, const char *channel, size_t channel_len,
                   const char *channel_data, const char *auth);

/* presence's channel_data: {"user_id": string or number, "user_info": any}.
 * The id as a string, and user_info as JSON ("null" when absent,
 * malloc'd). 0 or -1. */
int pusher_presence_parse(const char *channel_data, char *user_id, size_t user_id_size,
                          char **user_info);

/* A socket id: Pusher's "\d+\.\d+" (each part 1-20 digits). heraldd's
 * own are "A.B" with A < 10^9 random and B < 2^31 a process-wide serial,
 * so *key = A << 32 | B tells one connection of the process from every
 * other in one compare (never 0); a well-formed id with a part over 32
 * bits names none of ours and gets PUSHER_SOCKET_NOBODY. 0 or -1. */
#define PUSHER_SOCKET_ID_MAX 41
#define PUSHER_SOCKET_NOBODY UINT64_MAX
int pusher_socket_id_parse(const char *s, size_t n, uint64_t *key);

/* The frame a Herald message becomes: {"event","channel","data"} where a
 * message that is a JSON object with a string "event" and a "data" gives
 * that event and data (as a string, as Pusher sends it), and any other
 * message is the event "message" with the message as data. Such an
 * object's string "socket_id" (what toOthers() sends) names the one
 * connection that must not get it: kept in the buffer's first
 * PUSHER_FRAME_EXCEPT bytes (pusher_frame_except; 0 for none), not sent.
 * Built once, with WebSocket header room: the frame starts at *ws_off. */
#define PUSHER_FRAME_EXCEPT 8
buf_t *pusher_message_frame(const message_t *m, uint8_t *ws_off);

/* The socket key a frame of pusher_message_frame skips, 0 for none. */
static inline uint64_t pusher_frame_except(const buf_t *b) {
    uint64_t k;
    memcpy(&k, b->data, sizeof(k));
    return k;
}

/* A server message {"event":event,"channel":channel?,"data":data} where
 * data is a JSON text sent as a string. Length or -1. */
int pusher_event_format(char *out, size_t size, const char *event, const char *channel,
                        size_t channel_len, const char *data_json);

/* The same, malloc'd whatever its length (NULL when out of memory). */
char *pusher_event_dumps(const char *event, const char *channel, size_t channel_len,
                         const char *data_json);

/* The same message as a WebSocket text frame in a shared buffer (built
 * once, queued on many connections): the frame starts at *off. NULL when
 * out of memory or too long. */
buf_t *pusher_event_frame(const char *event, const char *channel, size_t channel_len,
                          const char *data_json, size_t *off);

#endif
