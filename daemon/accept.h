/* Connections arriving: admission by count (max_connections, the
 * open-file limit) and by client address (max_connections_per_ip), naming
 * the peer; connections without a socket of their own (a long-polling
 * session); and connections handed to the loop where their session lives. */
#ifndef HERALD_ACCEPT_H
#define HERALD_ACCEPT_H

#include "conn.h"
#include "hub.h"
#include "loop.h"

/* A listener has a connection waiting (the listener's on_connection). */
void accept_connection(listener_t *l);

/* max_connections_per_ip (README): count c under address a, or answer 503
 * and return -1. */
int conn_admit(conn_t *c, const peer_addr_t *a);

/* A connection without a socket of its own, for a session that outlives
 * the HTTP requests carrying it (socket.io long-polling): its queue leaves
 * through proto->flush. Counted and limited as a browser connection of
 * the client via names (max_connections, max_connections_per_ip). NULL
 * when refused or out of memory. */
conn_t *conn_virtual_new(conn_t *via, const conn_proto_t *proto);

/* Move c, which just read req, to loop `to` (with workers, the kernel may
 * deliver a client's requests to any loop; its session lives on one):
 * there req is routed again. c is closed here. 0, or -1 (c untouched). */
int accept_handoff(conn_t *c, http_req_t *req, unsigned to);

/* A connection handed over from another loop (loop_conn_ops_t.adopt). */
void accept_adopt(loop_t *loop, hub_handoff_t *h);

#endif
