/* request: one client request as its handler sees it (ops.c dispatches). */
#ifndef SPSC_REQUEST_H
#define SPSC_REQUEST_H

#include "coord.h"

struct request {
	struct coord *c;
	zmq_msg_t *identity;
	struct proto_header h;
	zmq_msg_t *body;
	size_t nbody;
	int64_t now;
};

struct queue *client_queue(struct request *r, int *created);
void request_oom(struct request *r);

#endif
