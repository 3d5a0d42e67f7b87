/* The Engine.IO 4 and Socket.IO 5 wire formats (what socket.io-client 3
 * and 4 speak), text packets only: parsing what a client sends, the
 * polling payload's record separators, and the packets heraldd sends. */
#ifndef HERALD_SIO_H
#define HERALD_SIO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "history.h"

/* Engine.IO packet types (the first byte, an ASCII digit). */
enum { EIO_OPEN = 0, EIO_CLOSE, EIO_PING, EIO_PONG, EIO_MESSAGE, EIO_UPGRADE, EIO_NOOP };

/* Socket.IO packet types (the byte after an Engine.IO message's '4'). */
enum { SIO_CONNECT = 0, SIO_DISCONNECT, SIO_EVENT, SIO_ACK, SIO_CONNECT_ERROR,
       SIO_BINARY_EVENT, SIO_BINARY_ACK, SIO_NONE = -1 };

#define SIO_RS '\x1e'           /* separates packets in a polling payload */
#define SIO_EVENT_MAX 64        /* bytes of an event name kept */
#define SIO_ARG_MAX 512         /* bytes of an event's first string argument kept */

enum {
    SIO_OK = 0,
    SIO_EEMPTY = -1,    /* no packet type */
    SIO_ETYPE = -2,     /* an unknown Engine.IO or Socket.IO type */
    SIO_EBINARY = -3,   /* a binary packet: heraldd takes none */
    SIO_ENSP = -4,      /* a namespace other than "/" */
    SIO_EACK = -5,      /* a bad ack id */
    SIO_EJSON = -6,     /* an event that is not a JSON array starting with a name */
};

typedef struct sio_packet {
    int eio;                    /* EIO_* */
    int sio;                    /* SIO_* inside an EIO_MESSAGE, else SIO_NONE */
    int has_ack;
    uint64_t ack;
    const char *data;           /* what follows the header (EIO payload, SIO JSON) */
    size_t data_len;
    /* SIO_EVENT only: the event name and its first argument when a string */
    char event[SIO_EVENT_MAX + 1];
    char arg[SIO_ARG_MAX + 1];
    int has_arg;
} sio_packet_t;

/* Parse one text packet p[0..n) from a client. 0 or SIO_E*. */
int sio_packet_parse(const char *p, size_t n, sio_packet_t *out);

/* Walk a polling payload: the next packet from *pos (packets separated by
 * SIO_RS). 1 with the packet, 0 at the end. */
int sio_payload_next(const char *body, size_t len, size_t *pos, const char **pkt,
                     size_t *pkt_len);

/* A short sentence for a parse error. */
const char *sio_strerror(int err);

/* The event packet for a Herald message: 42["<channel>",<data>] where data
 * is the message as a JSON string, or its value when the message is itself
 * a JSON object or array (a PHP array emitted as JSON); a binary message
 * is its base64 string. Built once, with room in front for a WebSocket
 * frame header: frame at *ws_off, raw packet at WS_FRAME_HEADER_MAX. */
buf_t *sio_message_packet(const message_t *m, uint8_t *ws_off);

#endif
