/* produce: PRODUCER and SEAL, and the flow keys a PUT carries. */
#ifndef SPSC_PRODUCE_H
#define SPSC_PRODUCE_H

#include "request.h"

int flow_request(struct request *r, struct queue *q, int done);
void flow_header(struct proto_header *h, const struct queue *q);
void op_producer(struct request *r);
void op_seal(struct request *r);

#endif
