/*
 * listen: binds the coordinator's ROUTER socket to its endpoints, in the
 * order that decides which of them use CURVE (see listen.c).
 */
#ifndef SPSC_COORD_LISTEN_H
#define SPSC_COORD_LISTEN_H

#include "coord.h"

int listen_all(void *zctx, void *router, const struct serve_opts *o);

#endif
