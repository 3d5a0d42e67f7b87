/* Listening sockets: TCP (optionally shared between loops with
 * SO_REUSEPORT) and Unix (created owner-only, then given its group and
 * mode). One function for every kind, so host parsing lives once. */
#ifndef HERALD_LISTEN_H
#define HERALD_LISTEN_H

#include <stdint.h>
#include <uv.h>

/* A TCP or Unix stream socket, listening or connected: the one handle a
 * listener or a connection owns. A connection with no socket of its own
 * (a long-polling session, conn_virtual_new) holds a timer instead, so it
 * is closed like any other. */
typedef union stream_handle {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_timer_t timer;
} stream_handle_t;

enum {
    LISTEN_REUSEPORT = 1,  /* TCP: several loops bind the same port */
};

/* What a Unix socket gets after bind (emit_socket_mode / _group). */
typedef struct listen_unix_perm {
    uint32_t mode;
    const char *group;     /* "" or NULL: the process's group */
} listen_unix_perm_t;

/* How far listen_open got: what the caller must undo. */
enum {
    LISTEN_NONE = 0,
    LISTEN_INIT = 1,       /* close h */
    LISTEN_BOUND = 2,      /* and unlink the socket */
    LISTEN_BOUND_DIR = 3,  /* and remove its directory: this process made it */
};

/* Listen on addr ("unix:/path" or HOST:PORT; "localhost" is 127.0.0.1)
 * with h initialised on loop; cb gets the connections. 0, or -1 with the
 * reason logged. *state says what to undo either way (LISTEN_*). */
int listen_open(uv_loop_t *loop, stream_handle_t *h, const char *addr, unsigned flags,
                const listen_unix_perm_t *perm, uv_connection_cb cb, int *state);

#endif
