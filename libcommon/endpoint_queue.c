/*
 * endpoint_queue: reading and writing atoms through a coordinator queue.
 *
 * Reading GETs up to 'prefetch' atoms at a time (long-polling while the
 * queue is empty) and hands them out one by one; each stays leased until
 * the program ACKs it (done), NACKs it (failed) or its lease runs out.
 * Writing PUTs one atom and returns only when the coordinator has it in
 * its log: a program that ACKs its input after writing its outputs gets
 * chain acknowledgement, so an atom leaves a queue only once everything
 * made from it is safe downstream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint_queue.h"
#include "grow.h"
#include "log.h"
#include "qclient.h"
#include "stop.h"
#include "units.h"

#define LONG_POLL_MS 1000
#define FULL_BACKOFF_MAX_MS 2000

struct queue_link {
	struct qclient qc;
	struct qreply rep;	/* the last GET's atoms, handed out in turn */
	size_t next;
	int have_rep;
	int prefetch;
	int drain;
	int64_t vis_ns;
	int64_t lease_ns;	/* what the coordinator granted */
	uint64_t producer;	/* writing: the stage's id, 0: anonymous */
	uint32_t producers;	/* writing: how many the queue should expect */
	uint8_t *frame;		/* encoding buffer for PUT */
	size_t frame_cap;
};

static int producer_call(struct endpoint *ep, int done);

int equeue_open(struct endpoint *ep, const char *spec,
		const struct endpoint_opts *o)
{
	const char *at = strchr(spec, '@');
	struct queue_link *l = calloc(1, sizeof *l);

	if (l == NULL) {
		snprintf(ep->err, sizeof ep->err, "%s: out of memory", spec);
		return -1;
	}
	l->prefetch = o && o->prefetch > 0 ? o->prefetch : 1;
	l->drain = o ? o->drain : 0;
	l->vis_ns = o ? o->visibility_ns : 0;
	l->producer = o && ep->writing ? o->producer : 0;
	l->producers = o && ep->writing ? o->producers : 0;
	if (qclient_open(&l->qc, at ? at + 1 : NULL) < 0) {
		snprintf(ep->err, sizeof ep->err, "%.200s: %.300s", ep->name, l->qc.err);
		free(l);
		return -1;
	}
	ep->link = l;
	if (l->producer && producer_call(ep, 0) < 0) {
		equeue_close(ep);
		return -1;
	}
	return 0;
}

void equeue_close(struct endpoint *ep)
{
	struct queue_link *l = ep->link;

	if (l == NULL)
		return;
	if (l->have_rep)
		qreply_free(&l->rep);
	qclient_close(&l->qc);
	free(l->frame);
	free(l);
	ep->link = NULL;
}

static int call(struct endpoint *ep, struct proto_header *h,
		const struct qpart *parts, size_t n, int64_t wait_ns,
		struct qreply *rep)
{
	struct queue_link *l = ep->link;
	char msg[300];

	snprintf(h->queue, sizeof h->queue, "%.200s", ep->name);
	if (qclient_call(&l->qc, h, parts, n, wait_ns, rep) < 0) {
		snprintf(ep->err, sizeof ep->err, "%.200s: %.300s", ep->name, l->qc.err);
		return -1;
	}
	if (rep->h.code != ST_OK && rep->h.code != ST_FULL &&
	    rep->h.code != ST_NOSPACE && rep->h.code != ST_STALE) {
		snprintf(ep->err, sizeof ep->err, "%s: coordinator says %s: %s",
			 ep->name, proto_status_name(rep->h.code),
			 qreply_message(rep, msg, sizeof msg));
		qreply_free(rep);
		return -1;
	}
	return 0;
}

/* Watermarks only rise: a reply that overtook a later one says less. */
static void note_watermark(struct endpoint *ep, const struct qreply *rep)
{
	int64_t wm;

	if (proto_get(&rep->h, "complete", 0)) {
		ep->wm = ATOM_TIME_END;
	} else if (proto_has(&rep->h, "wm")) {
		wm = (int64_t)proto_get(&rep->h, "wm", 0);
		if (wm > ep->wm)
			ep->wm = wm;
	}
}

/* One GET; 1 if it brought atoms, 0 if not, 2 at the end of input: the
 * queue is complete, or drained when draining was asked for. */
static int fetch(struct endpoint *ep, int64_t wait_ms)
{
	struct queue_link *l = ep->link;
	struct proto_header h = { .code = OP_GET };

	proto_set(&h, "max", (uint64_t)l->prefetch);
	proto_set(&h, "wait", (uint64_t)wait_ms);
	if (l->vis_ns)
		proto_set(&h, "vis", (uint64_t)(l->vis_ns / NS_PER_MS));
	if (call(ep, &h, NULL, 0, wait_ms * NS_PER_MS, &l->rep) < 0)
		return -1;
	l->have_rep = 1;
	l->next = 0;
	l->lease_ns = (int64_t)proto_get(&l->rep.h, "vis", 0) * NS_PER_MS;
	note_watermark(ep, &l->rep);
	if (l->rep.nparts > 0)
		return 1;
	if (proto_get(&l->rep.h, "complete", 0))
		return 2;
	if (l->drain && proto_get(&l->rep.h, "ready", 1) == 0 &&
	    proto_get(&l->rep.h, "inflight", 1) == 0 &&
	    proto_get(&l->rep.h, "delayed", 1) == 0)
		return 2;
	return 0;
}

/*
 * 1: an atom; 0: the end (draining and empty, or a stop was requested);
 * ENDPOINT_AGAIN: nothing within wait_ns (negative: wait for ever);
 * -1: an error in ep->err.
 */
int equeue_read(struct endpoint *ep, struct atom *a, int64_t wait_ns)
{
	struct queue_link *l = ep->link;
	int64_t until = wait_ns < 0 ? INT64_MAX : mono_ns() + wait_ns;
	char why[256];

	for (;;) {
		if (l->have_rep && l->next < l->rep.nparts) {
			zmq_msg_t *m = &l->rep.parts[l->next++];
			if (atom_decode(&ep->codec, zmq_msg_data(m), zmq_msg_size(m),
					a, why, sizeof why) < 0) {
				snprintf(ep->err, sizeof ep->err,
					 "%s: atom from the coordinator: %s", ep->name, why);
				return -1;
			}
			return 1;
		}
		if (l->have_rep) {
			qreply_free(&l->rep);
			l->have_rep = 0;
		}
		if (stop_requested)
			return 0;
		int64_t left = until - mono_ns();
		int64_t ms = left <= 0 ? 0 : left / NS_PER_MS;
		int rc = fetch(ep, ms > LONG_POLL_MS ? LONG_POLL_MS : ms);
		if (rc < 0)
			return -1;
		if (rc == 2)
			return 0;
		if (rc == 0 && mono_ns() >= until)
			return ENDPOINT_AGAIN;
	}
}

static int encode(struct endpoint *ep, const struct atom *a, size_t *len)
{
	struct queue_link *l = ep->link;
	uint8_t hdr[ATOM_HEADER_BUF];
	const void *payload;
	size_t stored;
	int hlen = atom_encode(&ep->codec, a, hdr, &payload, &stored);

	if (hlen < 0) {
		snprintf(ep->err, sizeof ep->err, "%s: cannot encode atom: %s",
			 ep->name, strerror(errno));
		return -1;
	}
	if (grow(&l->frame, &l->frame_cap, (size_t)hlen + stored, 1) < 0) {
		snprintf(ep->err, sizeof ep->err, "%s: out of memory", ep->name);
		return -1;
	}
	memcpy(l->frame, hdr, (size_t)hlen);
	if (stored > 0)		/* an empty atom may have no payload buffer */
		memcpy(l->frame + hlen, payload, stored);
	*len = (size_t)hlen + stored;
	return 0;
}

/* Returns once the coordinator has logged the atom.  A full queue, or a
 * coordinator whose disk is full, is back-pressure, not an error: wait
 * and retry, never drop. */
int equeue_write(struct endpoint *ep, const struct atom *a)
{
	struct queue_link *l = ep->link;
	long backoff = 10;
	int warned = 0;
	struct qpart part;

	if (encode(ep, a, &part.len) < 0)
		return -1;
	part.data = l->frame;
	for (;;) {
		struct proto_header h = { .code = OP_PUT };
		struct qreply rep;
		int code;
		if (l->producer)
			proto_set(&h, "producer", l->producer);
		if (l->producer && a->wm != ATOM_TIME_NONE)
			proto_set(&h, "wm", (uint64_t)a->wm);
		if (call(ep, &h, &part, 1, 0, &rep) < 0)
			return -1;
		code = rep.h.code;
		qreply_free(&rep);
		if (code != ST_FULL && code != ST_NOSPACE)
			return 0;
		if (!warned++)
			log_warn("%s: %s; waiting for consumers", ep->name,
				 code == ST_FULL ? "queue full"
						 : "coordinator's disk is full");
		zmq_poll(NULL, 0, backoff);
		backoff = backoff * 2 > FULL_BACKOFF_MAX_MS ? FULL_BACKOFF_MAX_MS : backoff * 2;
	}
}

/* ACK, NACK (ms: the delay) or TOUCH (ms: the new lease) of one atom; the
 * receipt is its id and the delivery count stamped in its header. */
int equeue_settle(struct endpoint *ep, const struct atom *a, int op,
		  int64_t ms)
{
	struct receipt rc = { .id = a->id, .delivery = a->attempt };
	struct proto_header h = { .code = op };
	uint8_t wire[RECEIPT_WIRE];
	struct qpart part = { wire, sizeof wire };
	struct qreply rep;
	int stale;

	receipt_encode(&rc, wire);
	if (op == OP_NACK && ms > 0)
		proto_set(&h, "delay", (uint64_t)ms);
	if (op == OP_TOUCH)
		proto_set(&h, "vis", (uint64_t)ms);
	if (call(ep, &h, &part, 1, 0, &rep) < 0)
		return -1;
	stale = rep.h.code == ST_STALE;
	qreply_free(&rep);
	if (stale) {
		snprintf(ep->err, sizeof ep->err,
			 "%s: lease lost: the atom was handed to another consumer",
			 ep->name);
		return -1;
	}
	return 0;
}

/* PRODUCER: registers this writer's stage with the queue (done 0), so
 * that the queue waits for it, or says it has finished (done 1). */
static int producer_call(struct endpoint *ep, int done)
{
	struct queue_link *l = ep->link;
	struct proto_header h = { .code = OP_PRODUCER };
	struct qreply rep;

	proto_set(&h, "producer", l->producer);
	if (l->producers)
		proto_set(&h, "expect", l->producers);
	if (done)
		proto_set(&h, "done", 1);
	if (call(ep, &h, NULL, 0, 0, &rep) < 0)
		return -1;
	qreply_free(&rep);
	return 0;
}

/* An anonymous writer (producer 0) cannot finish a queue: only a named
 * stage is counted, so that its restarts are not counted twice. */
int equeue_finish(struct endpoint *ep)
{
	struct queue_link *l = ep->link;

	return l && l->producer ? producer_call(ep, 1) : 0;
}

int64_t equeue_lease_ns(const struct endpoint *ep)
{
	return ep->link ? ep->link->lease_ns : 0;
}
