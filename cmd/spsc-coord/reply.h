/*
 * reply: the replies of one event-loop turn, and what they point into.
 *
 * Handlers (ops.c, manage.c) build replies here but send nothing: the
 * server (server.c) writes the turn's log records first, then calls
 * replies_send, then replies_release.  Request parts the log still points
 * into (coord_hold) and frames read for moves (coord_keep_buffer) live
 * until that release.
 *
 * This file sits below both the handlers and the event loop: it calls
 * neither, so neither calls back into the other through it.
 */
#ifndef SPSC_REPLY_H
#define SPSC_REPLY_H

#include <stddef.h>
#include <zmq.h>

#include "proto.h"

struct coord;
struct segview;

/* A request being answered: the client's identity, then our parts. */
struct reply {
	zmq_msg_t *parts;
	size_t nparts, cap;
	size_t bytes;		/* in the parts */
};

struct reply *reply_begin(struct coord *c, zmq_msg_t *identity,
			  const struct proto_header *h);
int reply_add(struct reply *r, const void *data, size_t len);
int reply_add2(struct reply *r, const void *a, size_t alen, const void *b,
	       size_t blen);
int reply_add_owned(struct reply *r, void *data, size_t len);
int reply_add_view(struct reply *r, const void *data, size_t len,
		   struct segview *view);
void reply_error(struct coord *c, zmq_msg_t *identity, uint64_t reqid,
		 int status, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int coord_hold(struct coord *c, zmq_msg_t *msg);
int coord_keep_buffer(struct coord *c, void *buf);

void replies_send(struct coord *c);
void replies_release(struct coord *c);
void replies_free(struct coord *c);
size_t replies_bytes(const struct coord *c);

#endif
