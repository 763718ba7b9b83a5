/* ops: request handlers of spsc-coord serve (ops.c data path, manage.c
 * queue management and status). */
#ifndef SPSC_OPS_H
#define SPSC_OPS_H

#include "coord.h"

struct request {
	struct coord *c;
	zmq_msg_t *identity;
	struct proto_header h;
	zmq_msg_t *body;
	size_t nbody;
	int64_t now;
};

int frame_verify(struct coord *c, const uint8_t *buf, size_t len,
		 int payload_too, struct atom *a, struct atom_frame *f,
		 char *why, size_t whylen);
int frame_check(struct coord *c, const uint8_t *buf, size_t len,
		struct atom *a, char *why, size_t whylen);
void entry_remove(struct coord *c, struct queue *q, struct entry *e,
		  int64_t now, enum ack_reason why);
uint64_t purge_entries(struct coord *c, struct queue *q, int log);
int queue_insert_frame(struct coord *c, struct queue *q, uint8_t *buf,
		       uint32_t len, const struct atom *a);
/* What a GET asks for. */
struct get_args {
	uint64_t reqid;
	uint32_t max;
	int64_t vis_ns;
	int split;		/* large frames may come as header, payload */
};

size_t deliver(struct coord *c, struct queue *q, zmq_msg_t *identity,
	       const struct get_args *g, int may_wait);
struct queue *client_queue(struct request *r, int *created);
void waiters_deleted(struct coord *c, const char *name);

/* produce.c */
int flow_request(struct request *r, struct queue *q, int done);
void flow_header(struct proto_header *h, const struct queue *q);
void op_producer(struct request *r);
void op_seal(struct request *r);

void op_status(struct request *r);
void op_create(struct request *r);
void op_delete(struct request *r);
void op_purge(struct request *r);
void op_redrive(struct request *r);
void op_peek(struct request *r);

#endif
