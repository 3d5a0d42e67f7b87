/* libFuzzer target for heraldd.conf (daemon/config.c): config_parse_ini on
 * any text either applies it or fails with a sentence naming the file and
 * line; a configuration it accepts survives config_validate. The API takes
 * NUL-terminated text, so the input is cut at its first NUL (config_load
 * reads files the same way). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    config_t *cfg = malloc(sizeof *cfg);
    config_defaults(cfg);
    char err[512];
    memset(err, 0x7f, sizeof err);
    int rc = config_parse_ini(cfg, "fuzz.conf", text, err, sizeof err);
    if (rc != 0 && rc != -1) abort();
    if (rc == -1) {
        if (memchr(err, '\0', sizeof err) == NULL) abort();
        if (strncmp(err, "fuzz.conf", 9) != 0 && strstr(err, "fuzz.conf") == NULL) abort();
    } else {
        char verr[512];
        int v = config_validate(cfg, verr, sizeof verr);
        if (v != 0 && v != -1) abort();
    }
    free(cfg);
    free(text);
    return 0;
}
