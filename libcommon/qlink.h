/*
 * qlink: one endpoint's pipelined connection to a coordinator queue
 * (private to endpoint_queue.c).
 *
 * Writes and ACKs are batched, so that a stage pays one round trip for
 * many atoms, never one each, and pipelined, so that it does not wait a
 * round trip per batch either:
 *
 *  - a write joins the link's open PUT batch (up to QLINK_PUT_ATOMS atoms
 *    or QLINK_PUT_BYTES); a full batch is sent at once without waiting
 *    for its answer, and up to QLINK_PUT_WINDOW batches may be on their
 *    way;
 *  - an ACK joins the link's ACK batch (up to QLINK_ACK_BATCH receipts);
 *  - qlink_flush_all sends every link's open PUT batch, waits until every
 *    PUT of every link is answered (the atoms are then in the
 *    coordinator's log), and only then sends the ACK batches.  That order
 *    is chain acknowledgement: an input leaves its queue only once
 *    everything made from it is stored.  The ACKs' own answers are read
 *    later, before the next call that needs the link quiet, and at close.
 *  - qlink_progress_all waits for nothing: it sends an ACK batch once the
 *    PUT batches its receipts wait for are answered.  Those are the ones
 *    begun, on any link, before its last receipt joined (an input's
 *    outputs are written before it is acknowledged); a producer that
 *    always has a PUT on its way does not hold its ACKs back with it.
 *
 * A batch a full queue (or a full disk) refuses goes again an atom at a
 * time, waiting for room: back-pressure, never a drop.  A batch refused
 * FINISHED is dropped only where it can only repeat stored work
 * (late_is_redundant).
 *
 * Replies are read as they come and matched to their requests by id, so
 * a GET may be on its way while PUTs and ACKs are answered.
 */
#ifndef SPSC_QLINK_H
#define SPSC_QLINK_H

#include <stddef.h>
#include <stdint.h>

struct pollfd;

#include "proto.h"
#include "qclient.h"

#define QLINK_PUT_ATOMS 64
#define QLINK_PUT_BYTES ((size_t)1 << 20)
#define QLINK_PUT_WINDOW 4
#define QLINK_ACK_BATCH 512

struct put_batch {
	uint8_t *buf;		/* the frames, end to end */
	size_t len, cap;
	struct qpart parts[QLINK_PUT_ATOMS];	/* into buf, once sent */
	size_t nframes;
	int64_t wm;		/* the latest watermark among them */
	uint64_t reqid;		/* on its way; 0: being filled or idle */
	int refused;		/* answered FULL or NOSPACE: to go again */
	uint64_t seq;		/* begun as the process's seq'th batch */
};

struct ack_batch {
	uint8_t wire[QLINK_ACK_BATCH * RECEIPT_WIRE];
	size_t n;
	struct qpart part;
	uint64_t reqid;		/* on its way; 0: being filled */
	uint64_t after[QLINK_ACK_BATCH]; /* each receipt's PUT batches, by
					    seq, that must be stored first */
};

struct queue_link {
	struct qclient qc;
	char name[256];		/* the queue, for messages */
	char err[600];		/* why the last call failed */
	uint64_t producer;	/* writing: the stage's id, 0: anonymous */
	uint32_t producers;	/* writing: how many the queue should expect */
	int late_is_redundant;	/* see endpoint_opts */
	int warned_late;
	/* writing: the PUT window; puts[fill] is being filled */
	struct put_batch puts[QLINK_PUT_WINDOW];
	size_t fill;
	/* reading: ACKs being gathered, and the batch on its way */
	struct ack_batch acks[2];
	size_t ack_fill;
	/* reading: a GET on its way, and the last GET's reply */
	uint64_t get_reqid;
	int got;		/* a GET's reply came in */
	struct qreply *rep;	/* the atoms handed out in turn */
	struct qreply *in;	/* where the next reply lands */
	/* a request qlink_request waits for, and where its reply goes */
	uint64_t call_reqid;
	struct qreply *call_rep;
	struct queue_link *next_open;	/* every open link, for the flush */
};

struct queue_link *qlink_open(const char *queue, const char *url,
			      char *err, size_t errlen);
void qlink_close(struct queue_link *l);
int qlink_call(struct queue_link *l, struct proto_header *h,
	       const struct qpart *parts, size_t n, struct qreply *rep);
int qlink_request(struct queue_link *l, struct proto_header *h,
		  const struct qpart *parts, size_t n, struct qreply *rep);
int qlink_get_send(struct queue_link *l, struct proto_header *h,
		   int64_t wait_ns);
int qlink_get_poll(struct queue_link *l);
int qlink_get_wait(struct queue_link *l);
int qlink_write(struct queue_link *l, const uint8_t *hdr, size_t hlen,
		const void *payload, size_t stored, int64_t wm);
int qlink_ack(struct queue_link *l, const uint8_t receipt[RECEIPT_WIRE]);
int qlink_quiet(struct queue_link *l);
int qlink_flush_all(char *err, size_t errlen);
void qlink_before_acks(int (*fn)(char *err, size_t errlen));
int qlink_progress_all(char *err, size_t errlen);
int qlink_pollfds_all(struct pollfd *p, size_t max, int *now);

#endif
