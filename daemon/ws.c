/* RFC 6455 WebSocket: handshake checks, the client-frame decoder and the
 * server-frame encoder. The decoder is a state machine fed arbitrary pieces;
 * it unmasks in place and hands out payloads that sit whole inside the fed
 * buffer without copying them. Only a message split over reads or fragments
 * is reassembled, in a buffer that lives exactly as long as that message. */
#include "ws.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* RFC 6455 1.3: the GUID appended to the key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

enum { ST_HDR, ST_PAYLOAD, ST_CLOSED, ST_ERROR };

/* ---- handshake -------------------------------------------------------- */

static int ws_is_ows(char c) { return c == ' ' || c == '\t'; }

static char ws_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Header values may carry optional whitespace around them (RFC 7230 3.2);
 * it is not part of the value, so both the check and the hash ignore it. */
static void ws_trim(const char **s, size_t *len) {
    while (*len > 0 && ws_is_ows(**s)) { (*s)++; (*len)--; }
    while (*len > 0 && ws_is_ows((*s)[*len - 1])) (*len)--;
}

/* RFC 7230 7: a "#list" is elements separated by commas with optional
 * whitespace, empty elements allowed; a token matches only a whole element. */
int ws_header_has_token(const char *value, size_t len, const char *token) {
    size_t tlen = strlen(token);
    if (value == NULL) return 0;
    size_t i = 0;
    while (i <= len) {
        size_t start = i;
        while (i < len && value[i] != ',') i++;
        const char *el = value + start;
        size_t el_len = i - start;
        ws_trim(&el, &el_len);
        if (el_len == tlen && tlen > 0) {
            size_t k = 0;
            while (k < tlen && ws_lower(el[k]) == ws_lower(token[k])) k++;
            if (k == tlen) return 1;
        }
        i++; /* past the comma (or past the end) */
    }
    return 0;
}

static int ws_b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* RFC 6455 4.2.1: the key is the base64 of a 16-byte nonce, which is exactly
 * 22 characters plus "==" in canonical form (the last character's unused
 * 4 bits zero). Anything else is not a key a conforming client sends. */
static int ws_key_valid(const char *key, size_t len) {
    if (key == NULL) return 0;
    ws_trim(&key, &len);
    if (len != 24 || key[22] != '=' || key[23] != '=') return 0;
    for (size_t i = 0; i < 22; i++)
        if (ws_b64_value(key[i]) < 0) return 0;
    return (ws_b64_value(key[21]) & 0x0F) == 0;
}

/* Checked in the order that gives the most useful answer: a request that is
 * not an upgrade at all (400), then a version we do not speak (426, so the
 * caller can advertise 13), then a bad key (400). */
int ws_upgrade_check(const ws_upgrade_t *u) {
    if (!ws_header_has_token(u->upgrade, u->upgrade_len, "websocket") ||
        !ws_header_has_token(u->connection, u->connection_len, "upgrade"))
        return WS_ENOTUPGRADE;
    const char *v = u->version;
    size_t vlen = u->version_len;
    if (v == NULL) return WS_EVERSION;
    ws_trim(&v, &vlen);
    if (vlen != 2 || v[0] != '1' || v[1] != '3') return WS_EVERSION;
    if (!ws_key_valid(u->key, u->key_len)) return WS_EBADKEY;
    return 0;
}

/* RFC 6455 4.2.2: accept = base64(SHA-1(key + GUID)), via libcrypto. */
int ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN + 1]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (key == NULL) return WS_EBADKEY;
    ws_trim(&key, &key_len);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return WS_ENOMEM;
    int ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
             EVP_DigestUpdate(ctx, key, key_len) &&
             EVP_DigestUpdate(ctx, ws_guid, sizeof ws_guid - 1) &&
             EVP_DigestFinal_ex(ctx, md, &md_len);
    EVP_MD_CTX_free(ctx);
    if (!ok || md_len != 20) return WS_ENOMEM;
    if (EVP_EncodeBlock((unsigned char *)out, md, 20) != WS_ACCEPT_LEN)
        return WS_ENOMEM;
    out[WS_ACCEPT_LEN] = '\0';
    return 0;
}

/* ---- close codes ------------------------------------------------------ */

/* RFC 6455 7.4: 1000-1003 and 1007-1011 are defined; 1004 is reserved and
 * 1005/1006/1015 must never be on the wire. 1012-1014 are registered with
 * IANA (restart, try again later, bad gateway) and heraldd itself sends
 * 1013, so a peer may send them too. 3000-4999 belong to libraries and
 * applications. Everything else is reserved for future use. */
int ws_close_code_valid(uint16_t code) {
    if (code >= 1000 && code <= 1003) return 1;
    if (code >= 1007 && code <= 1014) return 1;
    if (code >= 3000 && code <= 4999) return 1;
    return 0;
}

/* ---- encoder ---------------------------------------------------------- */

/* RFC 6455 5.2: the minimal length form is the only one we ever emit. */
size_t ws_frame_header_size(uint64_t payload_len) {
    if (payload_len <= 125) return 2;
    if (payload_len <= 0xFFFF) return 4;
    return 10;
}

/* Server frames are final and unmasked (RFC 6455 5.1), so a broadcast frame
 * can be encoded once and the same bytes written to every subscriber. */
size_t ws_frame_header_write(unsigned char *out, int opcode, uint64_t payload_len) {
    out[0] = (unsigned char)(0x80 | (opcode & 0x0F));
    if (payload_len <= 125) {
        out[1] = (unsigned char)payload_len;
        return 2;
    }
    if (payload_len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (unsigned char)(payload_len >> 8);
        out[3] = (unsigned char)payload_len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (unsigned char)(payload_len >> (56 - 8 * i));
    return 10;
}

/* A close frame's reason shares the 125-byte control limit with the code;
 * it is cut at a character boundary so the peer still sees valid UTF-8.
 * Code 0 (or one that must not be sent: 1005, 1006, 1015) sends no payload. */
size_t ws_close_frame(unsigned char *out, uint16_t code, const char *reason) {
    size_t plen = 0, rlen = 0;
    if (code != 0 && code != 1005 && code != 1006 && code != 1015) {
        rlen = reason ? strlen(reason) : 0;
        if (rlen > WS_CONTROL_MAX - 2) {
            rlen = WS_CONTROL_MAX - 2;
            while (rlen > 0 && ((unsigned char)reason[rlen] & 0xC0) == 0x80)
                rlen--;
        }
        plen = 2 + rlen;
    }
    size_t h = ws_frame_header_write(out, WS_OP_CLOSE, plen);
    if (plen) {
        out[h] = (unsigned char)(code >> 8);
        out[h + 1] = (unsigned char)code;
        if (rlen) memcpy(out + h + 2, reason, rlen);
    }
    return h + plen;
}

/* ---- decoder ---------------------------------------------------------- */

void ws_parser_init(ws_parser_t *p, size_t max_message_bytes) {
    memset(p, 0, sizeof *p);
    p->state = ST_HDR;
    p->hdr_need = 2;
    p->utf8 = UTF8_ACCEPT;
    p->max_message = max_message_bytes;
}

void ws_parser_free(ws_parser_t *p) {
    free(p->msg);
    p->msg = NULL;
    p->msg_len = p->msg_cap = 0;
    free(p->ctl);
    p->ctl = NULL;
}

/* Nothing half-read: no partial header, no open message, no partial frame. */
int ws_parser_idle(const ws_parser_t *p) {
    if (p->state == ST_CLOSED || p->state == ST_ERROR) return p->msg == NULL;
    return p->state == ST_HDR && p->hdr_len == 0 && p->msg_opcode == 0 &&
           p->msg == NULL;
}

/* After an error every further feed repeats it, so a caller that keeps
 * reading cannot resurrect a connection that must close. */
static int ws_fail(ws_parser_t *p, int err) {
    switch (err) {
    case WS_EUTF8: p->close_code = WS_CLOSE_INVALID_DATA; break;
    case WS_ETOOBIG: p->close_code = WS_CLOSE_TOO_BIG; break;
    case WS_ENOMEM: p->close_code = WS_CLOSE_INTERNAL; break;
    default: p->close_code = WS_CLOSE_PROTOCOL; err = WS_EPROTO; break;
    }
    p->state = ST_ERROR;
    ws_parser_free(p);
    return err;
}

static int ws_error_of(uint16_t close_code) {
    switch (close_code) {
    case WS_CLOSE_INVALID_DATA: return WS_EUTF8;
    case WS_CLOSE_TOO_BIG: return WS_ETOOBIG;
    case WS_CLOSE_INTERNAL: return WS_ENOMEM;
    default: return WS_EPROTO;
    }
}

/* RFC 6455 5.3: XOR with the 4-byte key, phase = payload offset mod 4. Bytes
 * up to an 8-byte boundary one by one, then whole aligned words. */
static void ws_unmask(unsigned char *d, size_t n, const unsigned char mask[4],
                      uint64_t phase) {
    size_t i = 0;
    while (i < n && ((uintptr_t)(d + i) & 7) != 0) {
        d[i] ^= mask[(phase + i) & 3];
        i++;
    }
    if (n - i >= 8) {
        unsigned char m8[8];
        for (int k = 0; k < 8; k++) m8[k] = mask[(phase + i + k) & 3];
        uint64_t m;
        memcpy(&m, m8, 8);
        for (; n - i >= 8; i += 8) {
            uint64_t w;
            memcpy(&w, d + i, 8);
            w ^= m;
            memcpy(d + i, &w, 8);
        }
    }
    for (; i < n; i++) d[i] ^= mask[(phase + i) & 3];
}

/* Checks that need only the first two bytes, done as soon as they arrive so
 * a bad frame is refused before its length or payload is read.
 * RFC 6455 5.2 (RSV, opcodes, length), 5.1 (masking), 5.4 (fragments),
 * 5.5 (control frames: final, at most 125 bytes). */
static int ws_header_start(ws_parser_t *p) {
    unsigned char b0 = p->hdr[0], b1 = p->hdr[1];
    unsigned op = b0 & 0x0F, len7 = b1 & 0x7F;
    if (b0 & 0x70) return WS_EPROTO;            /* no extension negotiated */
    if (!(b1 & 0x80)) return WS_EPROTO;         /* client frames are masked */
    if (op & 0x08) {
        if (op > WS_OP_PONG) return WS_EPROTO;
        if (!(b0 & 0x80) || len7 > WS_CONTROL_MAX) return WS_EPROTO;
    } else {
        if (op > WS_OP_BINARY) return WS_EPROTO;
        if (op == WS_OP_CONT && p->msg_opcode == 0) return WS_EPROTO;
        if (op != WS_OP_CONT && p->msg_opcode != 0) return WS_EPROTO;
    }
    p->opcode = (uint8_t)op;
    p->fin = (uint8_t)(b0 >> 7);
    p->hdr_need = (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4);
    return 0;
}

/* The whole header is in: the length must use its minimal form (RFC 6455
 * 5.2), and a data message over the cap is refused here, before any of its
 * payload is buffered. */
static int ws_header_end(ws_parser_t *p) {
    unsigned len7 = p->hdr[1] & 0x7F;
    const unsigned char *m = p->hdr + p->hdr_need - 4;
    uint64_t len = len7;
    if (len7 == 126) {
        len = ((uint64_t)p->hdr[2] << 8) | p->hdr[3];
        if (len < 126) return WS_EPROTO;
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++) len = (len << 8) | p->hdr[2 + i];
        if (len >> 63) return WS_EPROTO;
        if (len < 65536) return WS_EPROTO;
    }
    memcpy(p->mask, m, 4);
    p->payload_len = len;
    p->payload_done = 0;
    if (!(p->opcode & 0x08)) {
        size_t have = p->opcode == WS_OP_CONT ? p->msg_len : 0;
        if (have > p->max_message || len > (uint64_t)(p->max_message - have))
            return WS_ETOOBIG;
        if (p->opcode != WS_OP_CONT) {
            p->msg_opcode = p->opcode;
            p->utf8 = UTF8_ACCEPT;
        }
    }
    p->state = ST_PAYLOAD;
    return 0;
}

static void ws_header_reset(ws_parser_t *p) {
    p->state = ST_HDR;
    p->hdr_len = 0;
    p->hdr_need = 2;
}

/* RFC 6455 5.5.1: a close body is empty or a valid code plus UTF-8 reason. */
static int ws_close_check(const unsigned char *data, size_t len) {
    if (len == 1) return WS_EPROTO;
    if (len >= 2) {
        uint16_t code = (uint16_t)((data[0] << 8) | data[1]);
        if (!ws_close_code_valid(code)) return WS_EPROTO;
        if (!utf8_valid(data + 2, len - 2)) return WS_EUTF8;
    }
    return 0;
}

/* Deliver a complete control frame. After a close the parser ignores
 * whatever follows (RFC 6455 5.5.1: nothing is sent after a close). */
static int ws_control_end(ws_parser_t *p, const unsigned char *data,
                          ws_message_cb cb, void *ctx) {
    if (p->opcode == WS_OP_CLOSE) p->state = ST_CLOSED;
    else ws_header_reset(p);
    return cb(ctx, p->opcode, data, (size_t)p->payload_len);
}

/* A final fragment completes the message. The buffer is detached before the
 * callback so the parser is between messages even if the callback stops it. */
static int ws_data_end(ws_parser_t *p, const unsigned char *in_place,
                       ws_message_cb cb, void *ctx) {
    ws_header_reset(p);
    if (!p->fin) return 0;
    int op = p->msg_opcode;
    unsigned char *msg = p->msg;
    size_t len = in_place ? (size_t)p->payload_len : p->msg_len;
    const unsigned char *data = in_place ? in_place : msg;
    p->msg = NULL;
    p->msg_len = p->msg_cap = 0;
    p->msg_opcode = 0;
    int rc = cb(ctx, op, data ? data : (const unsigned char *)"", len);
    free(msg);
    return rc;
}

/* Append a piece of the current data frame to the message buffer, growing
 * it with what has arrived (doubling), never past what the header declared:
 * a client declaring a large frame and sending little costs little. */
static int ws_msg_append(ws_parser_t *p, const unsigned char *d, size_t n) {
    size_t need = p->msg_len + n;
    if (need > p->msg_cap) {
        size_t limit = p->msg_len + (size_t)(p->payload_len - p->payload_done);
        size_t cap = p->msg_cap ? p->msg_cap * 2 : 256;
        if (cap < need) cap = need;
        if (cap > limit) cap = limit;
        unsigned char *m = realloc(p->msg, cap);
        if (m == NULL) return WS_ENOMEM;
        p->msg = m;
        p->msg_cap = cap;
    }
    memcpy(p->msg + p->msg_len, d, n);
    p->msg_len = need;
    return 0;
}

/* Consume what can be consumed of buf; see ws.h for the contract. */
int ws_parser_feed(ws_parser_t *p, unsigned char *buf, size_t len,
                   ws_message_cb cb, void *ctx) {
    size_t i = 0;
    int rc;
    if (p->state == ST_ERROR) return ws_error_of(p->close_code);
    for (;;) {
        if (p->state == ST_CLOSED) return 0;
        if (p->state == ST_HDR) {
            while (p->hdr_len < p->hdr_need && i < len) {
                p->hdr[p->hdr_len++] = buf[i++];
                if (p->hdr_len == 2 && (rc = ws_header_start(p)) != 0)
                    return ws_fail(p, rc);
            }
            if (p->hdr_len < p->hdr_need) return 0;
            if ((rc = ws_header_end(p)) != 0) return ws_fail(p, rc);
        }
        /* ST_PAYLOAD */
        uint64_t left = p->payload_len - p->payload_done;
        size_t n = left < (uint64_t)(len - i) ? (size_t)left : len - i;
        unsigned char *d = buf + i;
        int whole = p->payload_done == 0 && n == p->payload_len;
        if (n == 0 && left != 0) return 0;
        ws_unmask(d, n, p->mask, p->payload_done);
        if (p->opcode & 0x08) {
            /* A control frame split over reads is rare: its 125 bytes are
             * held only while it is (an idle client costs less). */
            if (!whole && p->ctl == NULL && (p->ctl = malloc(WS_CONTROL_MAX)) == NULL)
                return ws_fail(p, WS_ENOMEM);
            if (!whole) memcpy(p->ctl + p->payload_done, d, n);
            p->payload_done += n;
            i += n;
            if (p->payload_done < p->payload_len) return 0;
            unsigned char *held = whole ? NULL : p->ctl;
            p->ctl = NULL;
            const unsigned char *data = whole ? d : held;
            rc = 0;
            if (p->opcode == WS_OP_CLOSE) rc = ws_close_check(data, (size_t)p->payload_len);
            if (rc == 0) rc = ws_control_end(p, data, cb, ctx);
            else rc = ws_fail(p, rc);
            free(held);
        } else {
            /* RFC 6455 8.1: text is checked as it arrives, failing at the
             * first byte that cannot be UTF-8, and must end on a boundary. */
            if (p->msg_opcode == WS_OP_TEXT) {
                p->utf8 = utf8_feed(p->utf8, d, n);
                if (p->utf8 == UTF8_REJECT) return ws_fail(p, WS_EUTF8);
            }
            int in_place = whole && p->fin && p->msg == NULL;
            if (!in_place && n > 0 && (rc = ws_msg_append(p, d, n)) != 0)
                return ws_fail(p, rc);
            p->payload_done += n;
            i += n;
            if (p->payload_done < p->payload_len) return 0;
            if (p->fin && p->msg_opcode == WS_OP_TEXT && p->utf8 != UTF8_ACCEPT)
                return ws_fail(p, WS_EUTF8);
            rc = ws_data_end(p, in_place ? d : NULL, cb, ctx);
        }
        if (rc != 0) return rc;
        if (i == len && p->state == ST_HDR) return 0;
    }
}
