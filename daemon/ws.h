/* RFC 6455 WebSocket: the opening handshake's checks and accept key, a
 * frame decoder that takes bytes in arbitrary pieces, and the encoder for
 * server frames (unmasked, minimal length). Ours, because a broadcast frame
 * is encoded once and the same bytes are shared by every subscriber. */
#ifndef HERALD_WS_H
#define HERALD_WS_H

#include <stddef.h>
#include <stdint.h>

enum {
    WS_OP_CONT = 0x0, WS_OP_TEXT = 0x1, WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8, WS_OP_PING = 0x9, WS_OP_PONG = 0xA,
};

/* Close codes (RFC 6455 7.4.1). */
enum {
    WS_CLOSE_NORMAL = 1000, WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL = 1002, WS_CLOSE_UNSUPPORTED = 1003,
    WS_CLOSE_NO_STATUS = 1005, WS_CLOSE_INVALID_DATA = 1007,
    WS_CLOSE_POLICY = 1008, WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_INTERNAL = 1011, WS_CLOSE_TRY_AGAIN = 1013,
};

/* Decoder errors; ws_parser_t.close_code says which close code answers it. */
enum {
    WS_EPROTO = -1,   /* framing violation -> 1002 */
    WS_EUTF8 = -2,    /* invalid UTF-8 in text or close reason -> 1007 */
    WS_ETOOBIG = -3,  /* message over the cap -> 1009 */
    WS_ENOMEM = -4,   /* allocation failed -> 1011 */
    WS_EBADKEY = -5,  /* handshake: missing/invalid Sec-WebSocket-Key -> 400 */
    WS_EVERSION = -6, /* handshake: version is not 13 -> 426 */
    WS_ENOTUPGRADE = -7, /* handshake: no Upgrade/Connection tokens -> 400 */
};

#define WS_ACCEPT_LEN 28        /* base64 of a SHA-1 */
#define WS_FRAME_HEADER_MAX 10  /* server frames are never masked */
#define WS_CONTROL_MAX 125      /* RFC 6455 5.5 */

/* The upgrade-relevant headers of a request, pointing into the request. */
typedef struct ws_upgrade {
    const char *key; size_t key_len;          /* Sec-WebSocket-Key */
    const char *version; size_t version_len;  /* Sec-WebSocket-Version */
    const char *upgrade; size_t upgrade_len;  /* Upgrade */
    const char *connection; size_t connection_len; /* Connection */
} ws_upgrade_t;

/* 0 if the request is a valid version-13 upgrade, else WS_EBADKEY,
 * WS_EVERSION or WS_ENOTUPGRADE. */
int ws_upgrade_check(const ws_upgrade_t *u);

/* 1 if a comma-separated header value holds `token` (case-insensitive). */
int ws_header_has_token(const char *value, size_t len, const char *token);

/* Sec-WebSocket-Accept for a key: out gets WS_ACCEPT_LEN chars plus NUL. */
int ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN + 1]);

/* Called for each complete data message (after reassembly; opcode TEXT or
 * BINARY) and each control frame (CLOSE, PING, PONG; for CLOSE the payload
 * was checked: empty, or a valid code plus UTF-8 reason). data is only
 * valid during the call. A non-zero return stops ws_parser_feed(), which
 * returns that value. */
typedef int (*ws_message_cb)(void *ctx, int opcode, const unsigned char *data,
                             size_t len);

typedef struct ws_parser {
    /* private state of the decoder; no buffer is held between messages */
    uint8_t state, opcode, fin, msg_opcode, hdr_len, hdr_need;
    unsigned char hdr[14];
    uint64_t payload_len, payload_done;
    unsigned char mask[4];
    uint32_t utf8;
    unsigned char *msg;   /* reassembly buffer, only while a message is open */
    size_t msg_len, msg_cap;
    unsigned char *ctl;   /* a control frame split over reads, only while it is */
    size_t max_message;   /* cap on one client message, in bytes */
    uint16_t close_code;  /* after an error: the close code to send */
} ws_parser_t;

void ws_parser_init(ws_parser_t *p, size_t max_message_bytes);

/* Decode buf[0..len) (unmasked in place, so it must be writable). Returns 0
 * when all was consumed, a negative WS_E* (with p->close_code set), or a
 * callback's non-zero return. A callback's non-zero return leaves the parser
 * at the frame boundary after the frame it was called for; the rest of buf
 * is not consumed. After an error every later call returns the same error.
 * After a valid CLOSE frame was delivered, later bytes are ignored (0). A
 * single-frame message whose payload is whole inside buf is delivered
 * pointing into buf, without a copy. max_message caps the total payload of
 * one data message (over all fragments); control frames have their own
 * 125-byte limit. */
int ws_parser_feed(ws_parser_t *p, unsigned char *buf, size_t len,
                   ws_message_cb cb, void *ctx);

/* Release what a connection closing mid-message still holds. */
void ws_parser_free(ws_parser_t *p);

/* 1 if nothing is buffered (between messages): lets the caller drop state. */
int ws_parser_idle(const ws_parser_t *p);

/* Size of the header of a server frame with this payload length (2, 4, 10). */
size_t ws_frame_header_size(uint64_t payload_len);

/* Write a final, unmasked frame header; returns its size. */
size_t ws_frame_header_write(unsigned char *out, int opcode, uint64_t payload_len);

/* A close frame with code and reason (reason cut to fit 125 bytes); returns
 * the frame size; out must hold WS_FRAME_HEADER_MAX + WS_CONTROL_MAX. */
size_t ws_close_frame(unsigned char *out, uint16_t code, const char *reason);

/* 1 if a peer may send this close code (RFC 6455 7.4). */
int ws_close_code_valid(uint16_t code);

#endif
