/*
 * endpoint_queue: reading and writing atoms through a coordinator queue.
 *
 * Reading GETs up to 'prefetch' atoms at a time (long-polling while the
 * queue is empty) and hands them out one by one; each stays leased until
 * the program ACKs it (done), NACKs it (failed) or its lease runs out.
 * Atoms fetched but not yet handed out go back (NACK, no delay) when the
 * endpoint closes, and are fetched afresh once half their lease has passed.
 *
 * Writes and ACKs are batched, so that a stage pays one round trip for
 * many atoms, never one each:
 *
 *  - a write joins the endpoint's PUT batch (up to PUT_BATCH_ATOMS atoms
 *    or PUT_BATCH_BYTES);
 *  - an ACK joins its ACK batch (up to ACK_BATCH receipts);
 *  - equeue_flush_all sends every open endpoint's PUT batch, waiting for
 *    each answer (the atoms are then in the coordinator's log), and only
 *    then the ACK batches.  That order is chain acknowledgement: an input
 *    leaves its queue only once everything made from it is stored.
 *
 * Nothing waits to fill a batch.  Every batch goes before the endpoint
 * asks for more input (a GET), when a batch is full, at sync, finish and
 * close, and when a program is about to wait on anything else
 * (endpoints_flush): so at a low rate every atom goes at once, and at a
 * high rate batches fill by themselves.  A process that dies with batches
 * unsent loses nothing: its unacknowledged inputs come back, and the
 * outputs made again have the same ids.
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
#define PUT_BATCH_ATOMS 64
#define PUT_BATCH_BYTES ((size_t)1 << 20)
#define ACK_BATCH 512

struct queue_link {
	struct qclient qc;
	char name[256];		/* the queue, for messages */
	char err[600];		/* why the last call failed */
	struct qreply rep;	/* the last GET's atoms, handed out in turn */
	size_t next;
	int have_rep;
	int64_t fetched;	/* mono ns of that GET */
	int prefetch;
	int drain;
	int64_t vis_ns;
	int64_t lease_ns;	/* what the coordinator granted */
	uint64_t producer;	/* writing: the stage's id, 0: anonymous */
	uint32_t producers;	/* writing: how many the queue should expect */
	/* writing: the PUT batch, its frames end to end */
	uint8_t *batch;
	size_t batch_len, batch_cap;
	size_t lens[PUT_BATCH_ATOMS];
	size_t nframes;
	int64_t batch_wm;	/* the latest watermark among them */
	/* reading: the ACK batch */
	uint8_t acks[ACK_BATCH * RECEIPT_WIRE];
	size_t nacks;
	struct queue_link *next_open;	/* every open link, for the flush */
};

/* Every open queue endpoint of the process: a flush covers them all,
 * since an input's outputs may go to any of them. */
static struct queue_link *open_links;

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
	snprintf(l->name, sizeof l->name, "%s", ep->name);
	l->batch_wm = ATOM_TIME_NONE;
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
	l->next_open = open_links;
	open_links = l;
	if (l->producer && producer_call(ep, 0) < 0) {
		equeue_close(ep);
		return -1;
	}
	return 0;
}

static int link_call(struct queue_link *l, struct proto_header *h,
		     const struct qpart *parts, size_t n, int64_t wait_ns,
		     struct qreply *rep)
{
	char msg[300];

	snprintf(h->queue, sizeof h->queue, "%.200s", l->name);
	if (qclient_call(&l->qc, h, parts, n, wait_ns, rep) < 0) {
		snprintf(l->err, sizeof l->err, "%.200s: %.300s", l->name, l->qc.err);
		return -1;
	}
	if (rep->h.code != ST_OK && rep->h.code != ST_FULL &&
	    rep->h.code != ST_NOSPACE && rep->h.code != ST_STALE) {
		snprintf(l->err, sizeof l->err, "%s: coordinator says %s: %s",
			 l->name, proto_status_name(rep->h.code),
			 qreply_message(rep, msg, sizeof msg));
		qreply_free(rep);
		return -1;
	}
	return 0;
}

static int call(struct endpoint *ep, struct proto_header *h,
		const struct qpart *parts, size_t n, int64_t wait_ns,
		struct qreply *rep)
{
	if (link_call(ep->link, h, parts, n, wait_ns, rep) == 0)
		return 0;
	snprintf(ep->err, sizeof ep->err, "%s", ep->link->err);
	return -1;
}

/* One PUT of N frames; the reply's status (ST_OK, ST_FULL, ST_NOSPACE),
 * or -1. */
static int put_frames(struct queue_link *l, const struct qpart *parts,
		      size_t n)
{
	struct proto_header h = { .code = OP_PUT };
	struct qreply rep;
	int code;

	if (l->producer)
		proto_set(&h, "producer", l->producer);
	if (l->producer && l->batch_wm != ATOM_TIME_NONE)
		proto_set(&h, "wm", (uint64_t)l->batch_wm);
	if (link_call(l, &h, parts, n, 0, &rep) < 0)
		return -1;
	code = rep.h.code;
	qreply_free(&rep);
	return code;
}

/* A full queue, or a coordinator whose disk is full, is back-pressure,
 * not an error: wait and retry the same request (PUT is all or nothing),
 * never drop. */
static int put_waiting(struct queue_link *l, const struct qpart *parts,
		       size_t n)
{
	long backoff = 10;
	int warned = 0, code;

	while ((code = put_frames(l, parts, n)) == ST_FULL || code == ST_NOSPACE) {
		if (!warned++)
			log_warn("%s: %s; waiting for consumers", l->name,
				 code == ST_FULL ? "queue full"
						 : "coordinator's disk is full");
		zmq_poll(NULL, 0, backoff);
		backoff = backoff * 2 > FULL_BACKOFF_MAX_MS ? FULL_BACKOFF_MAX_MS : backoff * 2;
	}
	return code < 0 ? -1 : 0;
}

/*
 * The PUT batch in one request; returns once the coordinator has logged
 * every atom of it.  A batch a full queue cannot take whole (it may be
 * larger than the queue's max depth) goes an atom at a time.
 */
static int flush_puts(struct queue_link *l)
{
	struct qpart parts[PUT_BATCH_ATOMS];
	size_t off = 0;
	int code;

	if (l->nframes == 0)
		return 0;
	for (size_t i = 0; i < l->nframes; i++) {
		parts[i] = (struct qpart){ l->batch + off, l->lens[i] };
		off += l->lens[i];
	}
	code = put_frames(l, parts, l->nframes);
	if (code < 0)
		return -1;
	if (code == ST_FULL || code == ST_NOSPACE)
		for (size_t i = 0; i < l->nframes; i++)
			if (put_waiting(l, &parts[i], 1) < 0)
				return -1;
	l->nframes = 0;
	l->batch_len = 0;
	l->batch_wm = ATOM_TIME_NONE;
	return 0;
}

/* Receipts in one request of OP: ACK (the ACK batch) or NACK. */
static int send_receipts(struct queue_link *l, int op, const uint8_t *wire,
			 size_t n)
{
	struct proto_header h = { .code = op };
	struct qpart part = { wire, n * RECEIPT_WIRE };
	struct qreply rep;

	if (n == 0)
		return 0;
	if (link_call(l, &h, &part, 1, 0, &rep) < 0)
		return -1;
	qreply_free(&rep);
	return 0;
}

/*
 * Every open endpoint's PUT batch, then every ACK batch (see the top).
 * On an error, err names the queue and says what is wrong.
 */
int equeue_flush_all(char *err, size_t errlen)
{
	struct queue_link *l;

	for (l = open_links; l; l = l->next_open)
		if (flush_puts(l) < 0)
			goto fail;
	for (l = open_links; l; l = l->next_open) {
		if (send_receipts(l, OP_ACK, l->acks, l->nacks) < 0)
			goto fail;
		l->nacks = 0;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s", l->err);
	return -1;
}

static int flush_for(struct endpoint *ep)
{
	return equeue_flush_all(ep->err, sizeof ep->err);
}

/* Fetched, not handed out: back to the queue at once, for anyone. */
static void give_back(struct queue_link *l)
{
	uint8_t wire[ACK_BATCH * RECEIPT_WIRE];
	size_t n = 0;
	char why[8];

	while (l->have_rep && l->next < l->rep.nparts) {
		zmq_msg_t *m = &l->rep.parts[l->next++];
		struct atom a;
		struct receipt rc;

		if (atom_parse_header(zmq_msg_data(m), zmq_msg_size(m), SIZE_MAX,
				      &a, &(struct atom_frame){ 0 }, why,
				      sizeof why) < 0)
			continue;	/* it comes back when its lease ends */
		rc = (struct receipt){ .id = a.id, .delivery = a.attempt };
		receipt_encode(&rc, wire + n * RECEIPT_WIRE);
		if (++n == ACK_BATCH) {
			(void)send_receipts(l, OP_NACK, wire, n);
			n = 0;
		}
	}
	(void)send_receipts(l, OP_NACK, wire, n);
	if (l->have_rep)
		qreply_free(&l->rep);
	l->have_rep = 0;
}

/* Flushes what is held back and gives back what was fetched in advance.
 * -1 (ep->err) when what was written could not be stored: the caller must
 * fail, never take the writes for done.  The endpoint is closed anyway. */
int equeue_close(struct endpoint *ep)
{
	struct queue_link *l = ep->link, **pp;
	int rc;

	if (l == NULL)
		return 0;
	rc = flush_for(ep);
	give_back(l);
	for (pp = &open_links; *pp; pp = &(*pp)->next_open)
		if (*pp == l) {
			*pp = l->next_open;
			break;
		}
	qclient_close(&l->qc);
	free(l->batch);
	free(l);
	ep->link = NULL;
	return rc;
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
	l->fetched = mono_ns();
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
		/* asked to stop: what was fetched ahead is not started on,
		 * and goes back at close */
		if (stop_requested)
			return 0;
		/* prefetched atoms whose lease is half gone: not worth
		 * starting on; back with them, and ask again */
		if (l->have_rep && l->next < l->rep.nparts && l->next > 0 &&
		    mono_ns() - l->fetched > l->lease_ns / 2)
			give_back(l);
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
		/* about to wait for input: nothing may wait with us */
		if (flush_for(ep) < 0)
			return -1;
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

/* The atom, encoded, at the end of the PUT batch. */
static int append(struct endpoint *ep, const struct atom *a)
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
	if (grow(&l->batch, &l->batch_cap, l->batch_len + (size_t)hlen + stored,
		 1) < 0) {
		snprintf(ep->err, sizeof ep->err, "%s: out of memory", ep->name);
		return -1;
	}
	memcpy(l->batch + l->batch_len, hdr, (size_t)hlen);
	if (stored > 0)		/* an empty atom may have no payload buffer */
		memcpy(l->batch + l->batch_len + hlen, payload, stored);
	l->lens[l->nframes++] = (size_t)hlen + stored;
	l->batch_len += (size_t)hlen + stored;
	if (a->wm != ATOM_TIME_NONE &&
	    (l->batch_wm == ATOM_TIME_NONE || a->wm > l->batch_wm))
		l->batch_wm = a->wm;
	return 0;
}

/* Joins the PUT batch, which goes when full or at the next flush. */
int equeue_write(struct endpoint *ep, const struct atom *a)
{
	struct queue_link *l = ep->link;

	if (l->nframes == PUT_BATCH_ATOMS ||
	    (l->nframes > 0 && l->batch_len + a->len > PUT_BATCH_BYTES))
		if (flush_puts(l) < 0) {
			snprintf(ep->err, sizeof ep->err, "%s", l->err);
			return -1;
		}
	return append(ep, a);
}

/* ACK, NACK (ms: the delay) or TOUCH (ms: the new lease) of one atom; the
 * receipt is its id and the delivery count stamped in its header. */
int equeue_settle(struct endpoint *ep, const struct atom *a, int op,
		  int64_t ms)
{
	struct queue_link *l = ep->link;
	struct receipt rc = { .id = a->id, .delivery = a->attempt };
	struct proto_header h = { .code = op };
	uint8_t wire[RECEIPT_WIRE];
	struct qpart part = { wire, sizeof wire };
	struct qreply rep;
	int stale;

	if (op == OP_ACK) {	/* batched: see the top */
		receipt_encode(&rc, l->acks + l->nacks * RECEIPT_WIRE);
		return ++l->nacks == ACK_BATCH ? flush_for(ep) : 0;
	}
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

	if (l == NULL || flush_for(ep) < 0)
		return l ? -1 : 0;
	return l->producer ? producer_call(ep, 1) : 0;
}

int64_t equeue_lease_ns(const struct endpoint *ep)
{
	return ep->link ? ep->link->lease_ns : 0;
}
