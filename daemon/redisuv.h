/* hiredis async contexts on a libuv loop (what hiredis/adapters/libuv.h
 * does), with a bound on what their readers hold. hiredis buffers an
 * answer until it is complete, whatever it declares: a wrong, hostile or
 * SSRF-reached "Redis" answering "$1000000000\r\n" and streaming bytes
 * would be buffered whole. After each read the bytes the reader holds
 * unparsed are checked against a limit; past it the context is dropped
 * with an error, so its disconnect callback runs the link's usual
 * reconnect path. The reader also refuses huge array counts
 * (redisreader.h). Every async context heraldd opens goes through here. */
#ifndef HERALD_REDISUV_H
#define HERALD_REDISUV_H

#include <hiredis/async.h>
#include <stddef.h>
#include <uv.h>

#include "config.h"

/* The unparsed bytes an answer may hold: its largest string (one message
 * of max_emit_body_bytes, or a presence member's data, bounded by
 * max_client_message_bytes), plus 64 KiB for ids, names and framing. */
size_t redisuv_answer_max(const config_t *cfg);

/* Attach ac (just connected, not yet attached) to uv and bound its reader
 * to max_answer unparsed bytes; who names the link in the log line
 * ("redis", "redis cluster 10.0.0.1:7000"). 0, or UV_ENOMEM (or
 * uv_poll_init's error): the caller still owns ac and frees it. The
 * attachment lives as long as ac and goes with it. */
int redisuv_attach(redisAsyncContext *ac, uv_loop_t *uv, size_t max_answer, const char *who);

#endif
