/*
 * endpoint_queue: reading and writing atoms through a coordinator queue.
 *
 * Reading GETs up to 'prefetch' atoms at a time (long-polling while the
 * queue is empty) and hands them out one by one; each stays leased until
 * the program ACKs it (done), NACKs it (failed) or its lease runs out.
 * A reader that takes atoms as they come (endpoint_opts.read_ahead) sends
 * its next GET once half of a GET's atoms are handed out, if the queue
 * said it had more, without waiting in the coordinator, so that its round
 * trip overlaps the work on the rest; a reader that only looks (wait 0)
 * is not held up by its answer.  A reader that looks while it polls
 * other things (endpoint_opts.look_wait_ns: spsc-op, between its
 * children's output) has each look that finds nothing leave a GET
 * waiting in the coordinator: the atom that arrives is sent at once,
 * endpoints_pollfds wakes the reader, and its next look takes it.  So an
 * atom never waits for the reader's next look; and close waits for the
 * GET's answer (look_wait_ns at most) and gives its atoms back.
 * Atoms fetched but not yet handed out go back (NACK, no delay) when the
 * endpoint closes, and are fetched afresh once half their lease has passed.
 *
 * Writes and ACKs are batched and pipelined by the endpoint's link
 * (qlink.h), with chain acknowledgement across every open endpoint.
 * Nothing waits to fill a batch.  Every batch goes before the endpoint
 * waits for more input (a GET), when a batch is full, at sync, finish and
 * close, and when a program is about to wait on anything else
 * (endpoints_flush): so at a low rate every atom goes at once, and at a
 * high rate batches fill by themselves.  A GET goes out before the flush
 * waits for the PUTs' answers, so the two round trips overlap.  A process
 * that dies with batches unsent loses nothing: its unacknowledged inputs
 * come back, and the outputs made again have the same ids.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbackend.h"
#include "qclient.h"
#include "qlink.h"
#include "stop.h"
#include "units.h"

#define LONG_POLL_MS 1000

/* A queue endpoint: its link, and the reading side's state. */
struct equeue {
	struct queue_link *link;
	struct qreply *cur;	/* the GET reply whose atoms are handed out */
	size_t next;		/* its next part to hand out */
	int have_cur;
	int64_t fetched;	/* mono ns its GET was answered, or sent ahead */
	int fetched_ahead;	/* that GET went ahead */
	int ahead;		/* a GET sent ahead: its reply lands in link->rep */
	int64_t ahead_sent;
	int read_ahead;		/* endpoint_opts */
	int64_t look_wait_ms;	/* endpoint_opts.look_wait_ns */
	int prefetch;
	int drain;
	int64_t vis_ns;
	int64_t lease_ns;	/* what the coordinator granted */
};

static int producer_call(struct endpoint *ep, int done);

static struct equeue *EQ(const struct endpoint *ep)
{
	return ep->qs;
}

static int equeue_close(struct endpoint *ep);

/* URL: the coordinator's; NULL for the default. */
static int equeue_open(struct endpoint *ep, const char *url,
		       const struct endpoint_opts *o)
{
	struct equeue *q = calloc(1, sizeof *q);

	if (q == NULL) {
		snprintf(ep->err, sizeof ep->err, "%s: out of memory", ep->name);
		return -1;
	}
	if ((q->cur = calloc(1, sizeof *q->cur)) == NULL) {
		free(q);
		snprintf(ep->err, sizeof ep->err, "%s: out of memory", ep->name);
		return -1;
	}
	q->prefetch = o && o->prefetch > 0 ? o->prefetch : 1;
	q->drain = o ? o->drain : 0;
	q->read_ahead = o ? o->read_ahead : 0;
	q->look_wait_ms = o ? o->look_wait_ns / NS_PER_MS : 0;
	q->vis_ns = o ? o->visibility_ns : 0;
	q->link = qlink_open(ep->name, url, ep->err, sizeof ep->err);
	if (q->link == NULL) {
		free(q->cur);
		free(q);
		return -1;
	}
	q->link->producer = o && ep->writing ? o->producer : 0;
	q->link->producers = o && ep->writing ? o->producers : 0;
	q->link->late_is_redundant = o && ep->writing ? o->late_is_redundant : 0;
	ep->qs = q;
	if (q->link->producer && producer_call(ep, 0) < 0) {
		equeue_close(ep);
		return -1;
	}
	return 0;
}

static int failed(struct endpoint *ep)
{
	snprintf(ep->err, sizeof ep->err, "%s", EQ(ep)->link->err);
	return -1;
}

static int equeue_flush_all(char *err, size_t errlen)
{
	return qlink_flush_all(err, errlen);
}

static int equeue_progress_all(char *err, size_t errlen)
{
	return qlink_progress_all(err, errlen);
}

static int flush_for(struct endpoint *ep)
{
	return qlink_flush_all(ep->err, sizeof ep->err);
}

/* Receipts in one request of OP: NACK, or TOUCH of one atom. */
static int send_receipts(struct endpoint *ep, struct proto_header *h,
			 const uint8_t *wire, size_t n)
{
	struct qpart part = { wire, n * RECEIPT_WIRE };
	struct qreply rep;
	int stale;

	if (n == 0)
		return 0;
	if (qlink_request(EQ(ep)->link, h, &part, 1, &rep) < 0)
		return failed(ep);
	stale = rep.h.code == ST_STALE;
	qreply_free(&rep);
	return stale;
}

static void drop_cur(struct equeue *q)
{
	if (q->have_cur)
		qreply_free(q->cur);
	q->have_cur = 0;
}

/* Fetched, not handed out: the parts of rep from 'next' on go back to the
 * queue at once, for anyone. */
static void give_back(struct endpoint *ep, struct qreply *rep, size_t next)
{
	uint8_t wire[QLINK_ACK_BATCH * RECEIPT_WIRE];
	size_t n = 0;
	char why[8];

	while (next < rep->nparts) {
		zmq_msg_t *m = &rep->parts[next++];
		const void *data = zmq_msg_data(m);
		size_t len = zmq_msg_size(m);
		struct atom a;
		struct receipt rc;

		if (atom_frame_is_head(data, len))
			next++;		/* its payload part */
		if (atom_parse_header(data, len, SIZE_MAX, &a,
				      &(struct atom_frame){ 0 }, why,
				      sizeof why) < 0)
			continue;	/* it comes back when its lease ends */
		rc = (struct receipt){ .id = a.id, .delivery = a.attempt };
		receipt_encode(&rc, wire + n * RECEIPT_WIRE);
		if (++n == QLINK_ACK_BATCH) {
			(void)send_receipts(ep, &(struct proto_header){ .code = OP_NACK },
					    wire, n);
			n = 0;
		}
	}
	(void)send_receipts(ep, &(struct proto_header){ .code = OP_NACK }, wire, n);
}

static void give_back_cur(struct endpoint *ep)
{
	struct equeue *q = EQ(ep);

	if (q->have_cur)
		give_back(ep, q->cur, q->next);
	drop_cur(q);
}

/* The reply to a GET sent ahead goes back whole.  Close has waited for
 * every answer; one that did not come is not waited for again, and its
 * atoms come back when their leases end. */
static void give_back_ahead(struct endpoint *ep)
{
	struct equeue *q = EQ(ep);

	if (!q->ahead)
		return;
	q->ahead = 0;
	if (q->link->get_reqid || !q->link->got)
		return;
	give_back(ep, q->link->rep, 0);
	qreply_free(q->link->rep);
}

/* Flushes what is held back, waits for the answers, and gives back what
 * was fetched in advance.  -1 (ep->err) when what was written could not
 * be stored: the caller must fail, never take the writes for done.  The
 * endpoint is closed anyway. */
static int equeue_close(struct endpoint *ep)
{
	struct equeue *q = EQ(ep);
	int rc;

	if (q == NULL)
		return 0;
	rc = flush_for(ep);
	if (rc == 0 && qlink_quiet(q->link) < 0)
		rc = failed(ep);
	give_back_cur(ep);
	give_back_ahead(ep);
	qlink_close(q->link);
	free(q->cur);
	free(q);
	ep->qs = NULL;
	return rc;
}

/* What a GET reply says of the queue's producers.  Watermarks only rise:
 * a reply that overtook a later one says less. */
static void note_flow(struct endpoint *ep, const struct qreply *rep)
{
	int64_t wm;

	ep->closed = proto_get(&rep->h, "closed", 0) == 1 ||
		     proto_get(&rep->h, "complete", 0) == 1;

	if (proto_get(&rep->h, "complete", 0)) {
		ep->wm = ATOM_TIME_END;
	} else if (proto_has(&rep->h, "wm")) {
		wm = (int64_t)proto_get(&rep->h, "wm", 0);
		if (wm > ep->wm)
			ep->wm = wm;
	}
}

static int send_get(struct endpoint *ep, int64_t wait_ms)
{
	struct equeue *q = EQ(ep);
	struct proto_header h = { .code = OP_GET };

	proto_set(&h, "max", (uint64_t)q->prefetch);
	proto_set(&h, "wait", (uint64_t)wait_ms);
	proto_set(&h, "split", 1);	/* large payloads come uncopied */
	if (q->vis_ns)
		proto_set(&h, "vis", (uint64_t)(q->vis_ns / NS_PER_MS));
	return qlink_get_send(q->link, &h, wait_ms * NS_PER_MS) < 0 ? failed(ep) : 0;
}

/* A GET whose reply is read when it is needed, or looked for. */
static int send_ahead(struct endpoint *ep, int64_t wait_ms)
{
	struct equeue *q = EQ(ep);

	q->ahead_sent = mono_ns();
	if (send_get(ep, wait_ms) < 0)
		return -1;
	q->ahead = 1;
	return 0;
}

/*
 * Half of what the last GET brought is handed out and the queue had more:
 * the next GET goes now, not waiting in the coordinator.  A GET that
 * cannot go now is simply not sent ahead.
 */
static void read_ahead(struct endpoint *ep)
{
	struct equeue *q = EQ(ep);

	if (!q->read_ahead || q->ahead || !q->have_cur || stop_requested ||
	    q->next * 2 < q->cur->nparts ||
	    proto_get(&q->cur->h, "ready", 0) == 0)
		return;
	(void)send_ahead(ep, 0);
}

/*
 * One GET, sent (unless it went ahead) before the flush waits for the
 * PUTs' answers, so the two round trips overlap; a reply already in
 * needs no wait, and then only what can go without one goes.  1 if it
 * brought atoms, 0 if not, 2 at the end of input: the queue is complete,
 * or drained when draining was asked for.
 */
static int fetch(struct endpoint *ep, int64_t wait_ms)
{
	struct equeue *q = EQ(ep);
	struct qreply *rep;
	int ahead = q->ahead, in;

	if (!ahead && send_get(ep, wait_ms) < 0)
		return -1;
	q->ahead = 0;
	/* About to wait for input: nothing may wait with us.  A reply that
	 * came while we worked (one sent ahead) needs no wait, and so no
	 * wait for the PUTs' answers either. */
	if ((in = qlink_get_poll(q->link)) < 0)
		return failed(ep);
	if (in == 0 ? flush_for(ep) < 0
		    : equeue_progress_all(ep->err, sizeof ep->err) < 0)
		return -1;
	if (qlink_get_wait(q->link) < 0)
		return failed(ep);
	rep = q->link->rep;		/* the atoms to hand out: ours now */
	q->link->rep = q->cur;		/* emptied by drop_cur */
	q->cur = rep;
	q->have_cur = 1;
	q->next = 0;
	/* a GET sent ahead was answered at once: its leases began about
	 * when it was sent; another may have waited in the coordinator */
	q->fetched_ahead = ahead;
	q->fetched = ahead ? q->ahead_sent : mono_ns();
	q->lease_ns = (int64_t)proto_get(&rep->h, "vis", 0) * NS_PER_MS;
	note_flow(ep, rep);
	if (rep->nparts > 0)
		return 1;
	if (proto_get(&rep->h, "complete", 0))
		return 2;
	if (q->drain && proto_get(&rep->h, "ready", 1) == 0 &&
	    proto_get(&rep->h, "inflight", 1) == 0 &&
	    proto_get(&rep->h, "delayed", 1) == 0)
		return 2;
	return 0;
}

/* The atom at part q->next of the reply, whole in one part or, if large,
 * its header in one and its payload in the next (GET split=1). */
static int decode_next(struct endpoint *ep, struct atom *a, char *why,
		       size_t whylen)
{
	struct equeue *q = EQ(ep);
	struct qreply *rep = q->cur;
	zmq_msg_t *m = &rep->parts[q->next++];
	const void *head = zmq_msg_data(m), *payload = NULL;
	size_t len = zmq_msg_size(m), plen = 0;

	if (atom_frame_is_head(head, len) && q->next < rep->nparts) {
		payload = zmq_msg_data(&rep->parts[q->next]);
		plen = zmq_msg_size(&rep->parts[q->next++]);
	}
	return atom_decode_parts(&ep->codec, head, len, payload, plen, a, why, whylen);
}

/*
 * 1: an atom; 0: the end (draining and empty, or a stop was requested);
 * ENDPOINT_AGAIN: nothing within wait_ns (negative: wait for ever);
 * -1: an error in ep->err.
 */
static int equeue_read(struct endpoint *ep, struct atom *a, int64_t wait_ns)
{
	struct equeue *q = EQ(ep);
	int64_t until = wait_ns < 0 ? INT64_MAX : mono_ns() + wait_ns;
	char why[256];

	for (;;) {
		struct qreply *rep = q->cur;
		/* asked to stop: what was fetched ahead is not started on,
		 * and goes back at close */
		if (stop_requested)
			return 0;
		/* prefetched atoms whose lease is half gone: not worth
		 * starting on; back with them, and ask again.  The first of a
		 * GET's is started on, unless the GET went ahead and waited
		 * here that long. */
		if (q->have_cur && q->next < rep->nparts &&
		    (q->next > 0 || q->fetched_ahead) && q->lease_ns > 0 &&
		    mono_ns() - q->fetched > q->lease_ns / 2)
			give_back_cur(ep);
		if (q->have_cur && q->next < rep->nparts) {
			if (decode_next(ep, a, why, sizeof why) < 0) {
				snprintf(ep->err, sizeof ep->err,
					 "%s: atom from the coordinator: %s", ep->name, why);
				return -1;
			}
			read_ahead(ep);
			return 1;
		}
		drop_cur(q);
		/* a look does not wait for the GET sent ahead */
		if (q->ahead && wait_ns == 0) {
			int in = qlink_get_poll(q->link);
			if (in < 0)
				return failed(ep);
			if (in == 0)
				return ENDPOINT_AGAIN;
		}
		/* nor, if it may, for a new one: that waits in the
		 * coordinator, and its answer wakes the reader's poll */
		if (!q->ahead && wait_ns == 0 && q->look_wait_ms > 0)
			return send_ahead(ep, q->look_wait_ms) < 0 ? -1 : ENDPOINT_AGAIN;
		int64_t left = until - mono_ns();
		int64_t ms = left <= 0 ? 0 : left / NS_PER_MS;
		int rc = fetch(ep, ms > LONG_POLL_MS ? LONG_POLL_MS : ms);
		if (rc < 0)
			return -1;
		if (rc == 2)
			return 0;
		/* A look whose waiting GET came back empty leaves the next
		 * one waiting, above, so that there is never a gap. */
		if (rc == 0 && wait_ns == 0 && q->look_wait_ms > 0)
			continue;
		/* A bounded wait also ends when the input closes: a reader
		 * holding atoms back learns it has all it will get. */
		if (rc == 0 && (mono_ns() >= until || (wait_ns >= 0 && ep->closed)))
			return ENDPOINT_AGAIN;
	}
}

/* Joins the PUT batch, which goes when full or at the next flush. */
static int equeue_write(struct endpoint *ep, const struct atom *a)
{
	uint8_t hdr[ATOM_HEADER_BUF];
	const void *payload;
	size_t stored;
	int hlen = atom_encode(&ep->codec, a, hdr, &payload, &stored);

	if (hlen < 0) {
		snprintf(ep->err, sizeof ep->err, "%s: cannot encode atom: %s",
			 ep->name, strerror(errno));
		return -1;
	}
	if (qlink_write(EQ(ep)->link, hdr, (size_t)hlen, payload, stored, a->wm) < 0)
		return failed(ep);
	return 0;
}

/* ACK, NACK (ms: the delay) or TOUCH (ms: the new lease) of one atom; the
 * receipt is its id and the delivery count stamped in its header. */
static int equeue_settle(struct endpoint *ep, const struct atom *a, int op,
			 int64_t ms)
{
	struct receipt rc = { .id = a->id, .delivery = a->attempt };
	struct proto_header h = { .code = op };
	uint8_t wire[RECEIPT_WIRE];
	int stale;

	receipt_encode(&rc, wire);
	if (op == OP_ACK)	/* batched: see qlink.h */
		return qlink_ack(EQ(ep)->link, wire) ? flush_for(ep) : 0;
	if (op == OP_NACK && ms > 0)
		proto_set(&h, "delay", (uint64_t)ms);
	if (op == OP_TOUCH)
		proto_set(&h, "vis", (uint64_t)ms);
	if ((stale = send_receipts(ep, &h, wire, 1)) < 0)
		return -1;
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
	struct queue_link *l = EQ(ep)->link;
	struct proto_header h = { .code = OP_PRODUCER };
	struct qreply rep;

	proto_set(&h, "producer", l->producer);
	if (l->producers)
		proto_set(&h, "expect", l->producers);
	if (done)
		proto_set(&h, "done", 1);
	if (qlink_call(l, &h, NULL, 0, &rep) < 0)
		return failed(ep);
	qreply_free(&rep);
	return 0;
}

/* An anonymous writer (producer 0) cannot finish a queue: only a named
 * stage is counted, so that its restarts are not counted twice. */
static int equeue_finish(struct endpoint *ep)
{
	struct equeue *q = EQ(ep);

	if (q == NULL || flush_for(ep) < 0)
		return q ? -1 : 0;
	return q->link->producer ? producer_call(ep, 1) : 0;
}

/* Atoms to hand out without waiting: fetched, or the GET ahead answered. */
static int equeue_pending(const struct endpoint *ep)
{
	struct equeue *q = EQ(ep);

	if (q->have_cur && q->next < q->cur->nparts)
		return 1;
	return q->ahead && qlink_get_poll(q->link) != 0;	/* -1: the read says why */
}

static int equeue_looks_wait(const struct endpoint *ep)
{
	return EQ(ep)->look_wait_ms > 0;
}

static int64_t equeue_lease_ns(const struct endpoint *ep)
{
	return EQ(ep) ? EQ(ep)->lease_ns : 0;
}

static int equeue_sync(struct endpoint *ep)
{
	return flush_for(ep);
}

const struct queue_backend queue_coord = {
	.open = equeue_open,
	.read = equeue_read,
	.write = equeue_write,
	.settle = equeue_settle,
	.finish = equeue_finish,
	.sync = equeue_sync,
	.lease_ns = equeue_lease_ns,
	.close = equeue_close,
	.flush_all = equeue_flush_all,
	.progress_all = equeue_progress_all,
	.pollfds_all = qlink_pollfds_all,
	.pending = equeue_pending,
	.looks_wait = equeue_looks_wait,
};
