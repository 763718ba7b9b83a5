/*
 * conns: the coordinator's unix:// listeners and their connections, which
 * carry the same requests and replies as the ROUTER socket over plain
 * stream sockets (msgwire.h says why).
 *
 * Each connection has a routing id of the same kind as ZeroMQ's, made
 * here, so that the handlers, the waiters and the replies treat both
 * transports alike: server.c takes requests from conns_next as it does
 * from the ROUTER, and reply.c hands a reply whose id conns_owns to
 * conns_send.  Nothing here calls back into the coordinator.
 */
#ifndef SPSC_COORD_CONNS_H
#define SPSC_COORD_CONNS_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "msgwire.h"

struct conn {
	int fd;
	uint32_t id;
	int readable;		/* polled readable, not yet drained */
	int want_out;		/* epoll says when it can take more */
	struct msgwire_in in;
	struct msgwire_out out;
	zmq_msg_t *parts;	/* the request msgwire_in puts together */
};

/* $SPSC_HOME/coord.unix, and a unix:// address for each --bind. */
#define CONNS_LISTEN_MAX 9

struct listener {
	int fd;
	char path[108];
};

struct conns {
	struct listener l[CONNS_LISTEN_MAX];
	size_t nl;
	struct conn *v;
	size_t n, cap;
	uint32_t next_id;
	size_t next;		/* where conns_next looks first */
	size_t max_bytes;	/* of one request */
	int ep;			/* epoll: the ROUTER, listeners, connections */
	void *router;		/* the ROUTER whose ZMQ_FD is in ep */
};

void conns_init(struct conns *cs);
int conns_listen(struct conns *cs, const char *path, size_t max_bytes,
		 int ours);
int conns_wait(struct conns *cs, void *router, long timeout_ms);
int conns_next(struct conns *cs, zmq_msg_t *parts, size_t *n);
int conns_busy(const struct conns *cs);
int conns_owns(const zmq_msg_t *identity);
void conns_send(struct conns *cs, zmq_msg_t *parts, size_t n);
void conns_flush(struct conns *cs);
void conns_close(struct conns *cs);

#endif
