/* libFuzzer target for the opening-handshake checks of daemon/ws.c:
 * ws_upgrade_check, ws_header_has_token and ws_accept_key. The input is
 * cut at '\n' into Sec-WebSocket-Key, -Version, Upgrade and Connection;
 * each field gets its own exact-size allocation so any read past a value's
 * length is caught. */
#include "ws.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char fuzz_hs_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* A token can only be found if it occurs somewhere, case-insensitively. */
static int fuzz_hs_contains(const char *v, size_t len, const char *tok) {
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= len; i++) {
        size_t k = 0;
        while (k < tl && fuzz_hs_lower(v[i + k]) == tok[k]) k++;
        if (k == tl) return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *field[4] = {0};
    size_t flen[4] = {0};
    size_t at = 0;
    for (int f = 0; f < 4; f++) {
        if (at > size) break;               /* fewer than four fields */
        size_t end = at;
        while (end < size && data[end] != '\n') end++;
        flen[f] = end - at;
        field[f] = malloc(flen[f] ? flen[f] : 1);
        if (flen[f]) memcpy(field[f], data + at, flen[f]);
        at = end + 1;
    }
    ws_upgrade_t u = {field[0], flen[0], field[1], flen[1],
                      field[2], flen[2], field[3], flen[3]};
    int rc = ws_upgrade_check(&u);
    if (rc != 0 && rc != WS_EBADKEY && rc != WS_EVERSION && rc != WS_ENOTUPGRADE) abort();
    if (rc == 0) {
        if (!fuzz_hs_contains(field[2], flen[2], "websocket")) abort();
        if (!fuzz_hs_contains(field[3], flen[3], "upgrade")) abort();
        char out[WS_ACCEPT_LEN + 1];
        if (ws_accept_key(field[0], flen[0], out) != 0) abort();
        if (strlen(out) != WS_ACCEPT_LEN || out[WS_ACCEPT_LEN - 1] != '=') abort();
    }
    for (int f = 2; f < 4; f++) {
        if (field[f] == NULL) continue;
        if (ws_header_has_token(field[f], flen[f], "upgrade") &&
            !fuzz_hs_contains(field[f], flen[f], "upgrade"))
            abort();
    }
    for (int f = 0; f < 4; f++) free(field[f]);
    return 0;
}
