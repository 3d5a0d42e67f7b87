/* libFuzzer target for the socket.io wire format a client sends
 * (daemon/sio.c): a polling payload split at its separators, each packet
 * parsed; whatever the bytes, a packet is either refused with a code or
 * parsed into fields that point inside it, with names NUL-terminated. */
#include "sio.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *body = malloc(size ? size : 1);
    memcpy(body, data, size);
    size_t pos = 0, n, packets = 0;
    const char *p;
    while (sio_payload_next(body, size, &pos, &p, &n)) {
        if (p < body || p + n > body + size || ++packets > size + 1) abort();
        sio_packet_t pk;
        int rc = sio_packet_parse(p, n, &pk);
        if (rc != 0) {
            if (rc < SIO_EJSON || sio_strerror(rc) == NULL) abort();
            continue;
        }
        if (pk.eio < EIO_OPEN || pk.eio > EIO_NOOP) abort();
        if (pk.data < p || pk.data + pk.data_len > p + n) abort();
        if (pk.eio == EIO_MESSAGE && (pk.sio < SIO_CONNECT || pk.sio > SIO_CONNECT_ERROR)) abort();
        if (pk.eio != EIO_MESSAGE && pk.sio != SIO_NONE) abort();
        if (strlen(pk.event) > SIO_EVENT_MAX || strlen(pk.arg) > SIO_ARG_MAX) abort();
        if (pk.sio == SIO_EVENT && pk.event[0] == '\0' && pk.data_len == 0) abort();
    }
    free(body);
    return 0;
}
