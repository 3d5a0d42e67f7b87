/* One sharded pub/sub connection to a Redis Cluster master (rediscluster.c
 * keeps one per master): our own uv_tcp_t, commands built with hiredis's
 * redisFormatCommandArgv and answers read with its redisReader. Why not
 * hiredis's async API, as the rest of the link: hiredis 0.14 (Debian 12)
 * enters subscribed mode only for (P)SUBSCRIBE (async.c, __redisAsyncCommand),
 * so SSUBSCRIBE is an ordinary command to it: an smessage or a sunsubscribe
 * that Redis pushes on its own would be taken as the answer to the next
 * command, or, with none pending, trip its assert that the context is
 * subscribed (redisProcessCallbacks). Here every answer and push goes to
 * one callback, which knows them apart by their first element. */
#ifndef HERALD_REDISSHARD_H
#define HERALD_REDISSHARD_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <uv.h>

#include "rediswire.h"

typedef struct redisshard redisshard_t;

/* The connection is ready (ok 1: connected and, with a password,
 * authenticated), or lost or refused (ok 0, why says it). After a loss
 * the owner calls redisshard_close; nothing else is called back. */
typedef void (*redisshard_state_cb)(void *arg, int ok, const char *why);

/* Every answer and push after the handshake (r is freed after it). */
typedef void (*redisshard_reply_cb)(void *arg, const redisReply *r);

/* Connect to host:port (a name or an address), authenticate as auth says,
 * and name the connection (CLIENT SETNAME name). An answer still
 * incomplete past max_answer bytes (larger than any message: a broken or
 * hostile peer) loses the connection. NULL when out of memory. */
redisshard_t *redisshard_open(uv_loop_t *uv, const char *host, int port,
                              const rediswire_addr_t *auth, const char *name, size_t max_answer,
                              redisshard_state_cb on_state, redisshard_reply_cb on_reply,
                              void *arg);

/* Send one command (written in order, even before the connection is
 * ready). 0, or -1 (out of memory or closing). */
int redisshard_send(redisshard_t *s, int argc, const char **argv, const size_t *lens);

/* Close: no callback follows; the memory goes once libuv is done. Safe
 * from inside this connection's callbacks. */
void redisshard_close(redisshard_t *s);

#endif
