/*
 * listen: binds the coordinator's ROUTER socket to its endpoints, in the
 * order that decides which of them use CURVE (see listen.c), and opens
 * its unix:// socket, $SPSC_HOME/coord.unix (conns.h).
 */
#ifndef SPSC_COORD_LISTEN_H
#define SPSC_COORD_LISTEN_H

#include "coord.h"

/* What was bound, as logged ("ipc://HOME/coord.sock, tcp://127.0.0.1:7878"),
 * with the ports the system chose for "*". */
struct listen_urls {
	char list[1024];
};

int listen_all(void *zctx, void *router, struct conns *cs, size_t max_request,
	       const struct serve_opts *o, struct listen_urls *u);

#endif
