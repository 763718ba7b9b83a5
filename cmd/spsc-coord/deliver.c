/*
 * deliver: GET.  Atoms ready in a queue are leased and sent at once; a
 * GET that finds none and may wait is parked (waiters.h) and answered
 * when its queue has atoms, closes or completes, or its wait is over.
 * An atom received max-receives times goes to NAME.dlq instead.
 */
#include <stdio.h>
#include <string.h>

#include "contents.h"
#include "deliver.h"
#include "frames.h"
#include "grow.h"
#include "hash.h"
#include "log.h"
#include "produce.h"
#include "qname.h"
#include "reply.h"
#include "units.h"

#define GET_MAX_ATOMS 1000
#define GET_MAX_BYTES ((size_t)16 << 20)
#define WAIT_MAX_MS 60000

/* What a GET asks for. */
struct get_args {
	uint64_t reqid;
	uint32_t max;
	int64_t vis_ns;
	int split;		/* large frames may come as header, payload */
};

/*
 * Moves an atom that was received max-receives times to NAME.dlq, with
 * the reason and the count stamped in its header.  Returns -1 if it could
 * not (no memory, or NAME.dlq would not be a valid name): the atom is then
 * delivered as usual rather than stuck at the head of the queue.
 */
static int dead_letter(struct coord *c, struct queue *q, struct entry *e,
		       int64_t now)
{
	char name[256], hex[ATOMID_HEX_LEN + 1];
	struct queue *dlq = NULL;
	uint8_t *buf;
	struct atom a;
	char why[64];

	atomid_hex(&e->id, hex);
	snprintf(name, sizeof name, "%s.dlq", q->name);
	if (!queue_name_valid(name, strlen(name)) ||
	    (dlq = queue_lookup(c, name, 1)) == NULL) {
		log_error("queue %s: atom %s received %u times, but %s cannot be %s",
			  q->name, hex, e->deliveries, name,
			  queue_name_valid(name, strlen(name)) ? "made (out of memory)"
							       : "a queue (name too long)");
		return -1;
	}
	if ((buf = entry_load(c, q, e, now)) == NULL)
		return 0;	/* corrupt: entry_load removed it */
	atom_header_restamp(buf, e->deliveries, ATOM_FAIL_RECEIVES, 0);
	/* checked by entry_load: only its header is wanted */
	frame_verify(c, buf, e->len, 0, &a, &(struct atom_frame){ 0 }, why, sizeof why);
	if (queue_insert_frame(c, dlq, buf, e->len, &a) < 0) {
		log_error("queue %s: cannot dead-letter atom %s: %s", q->name, hex,
			  c->store.nospace ? "the disk is full" : "out of memory");
		c->store.err[0] = '\0';
		return -1;
	}
	log_warn("queue %s: atom %s received %u times; moved to %s", q->name,
		 hex, e->deliveries, name);
	q->n.dead++;
	entry_remove(c, q, e, now, ACK_DEAD);
	return 0;
}

/*
 * Counts the connection as a consumer of q, for status.  A queue keeps at
 * most CONSUMERS_MAX, each a hash of its routing id (16 bytes, made on
 * the queue's first GET); past that the one seen longest ago is replaced.
 */
static void note_consumer(struct coord *c, struct queue *q, zmq_msg_t *id,
			  int64_t now)
{
	struct queue_extra *x = queue_extra_of(c, q);
	uint64_t h = hash64(zmq_msg_data(id), zmq_msg_size(id), c->seed);
	size_t oldest = 0;

	for (size_t i = 0; i < x->nconsumers; i++) {
		if (x->consumers[i].id == h) {
			x->consumers[i].seen = now;
			return;
		}
		if (x->consumers[i].seen < x->consumers[oldest].seen)
			oldest = i;
	}
	if (x->nconsumers < CONSUMERS_MAX &&
	    grow(&x->consumers, &x->consumers_cap, x->nconsumers + 1,
		 sizeof *x->consumers) == 0)
		oldest = x->nconsumers++;
	else if (x->nconsumers == 0)
		return;		/* no memory for the first: not counted */
	x->consumers[oldest].id = h;
	x->consumers[oldest].seen = now;
}

/* q NULL: a queue that does not exist, which looks empty. */
static void count_header(struct proto_header *h, const struct queue *q)
{
	proto_set(h, "ready", q ? q->n.ready : 0);
	proto_set(h, "inflight", q ? q->n.inflight : 0);
	proto_set(h, "delayed", q ? q->n.delayed : 0);
}

/*
 * Leases up to max ready atoms of q and answers identity with them.
 * Returns how many were sent; with none and may_wait, sends nothing (the
 * caller parks a waiter).  q may be NULL, a queue not made yet: no atoms.
 */
static size_t deliver(struct coord *c, struct queue *q, zmq_msg_t *identity,
	       const struct get_args *g, int may_wait)
{
	struct proto_header h = { .reply = 1, .code = ST_OK, .reqid = g->reqid };
	struct frame_ref frames[GET_MAX_ATOMS];
	uint32_t attempts[GET_MAX_ATOMS];
	size_t n = 0, bytes = 0;
	int64_t now = mono_ns();
	struct entry *e;
	struct reply *r;

	while (q && n < g->max && bytes < GET_MAX_BYTES && (e = queue_next_ready(q))) {
		uint8_t rec[20];
		struct receipt rc;
		if (e->deliveries >= q->conf.max_receives &&
		    dead_letter(c, q, e, now) == 0)
			continue;
		if (frame_get(c, q, e, now, &frames[n]) < 0)
			continue;
		if (e->deliveries > 0)
			q->n.redelivered++;
		queue_lease(q, e, now + g->vis_ns);
		rc.id = e->id;
		rc.delivery = e->deliveries;
		receipt_encode(&rc, rec);
		store_append(&c->store, REC_RECV, q->name, rec, sizeof rec, NULL, 0, NULL);
		attempts[n] = e->deliveries;
		bytes += e->len;
		n++;
	}
	if (n == 0 && may_wait)
		return 0;
	proto_set(&h, "n", n);
	proto_set(&h, "vis", (uint64_t)(g->vis_ns / NS_PER_MS));
	count_header(&h, q);
	flow_header(&h, q);
	r = reply_begin(c, identity, &h);
	for (size_t i = 0; i < n; i++) {
		/* Not sent: the leases run out and the atoms return. */
		if (r == NULL || frame_send(r, &frames[i], attempts[i], g->split) < 0)
			frame_put(&frames[i]);
	}
	return n;
}

/*
 * A GET never makes a queue: on a queue that does not exist it finds
 * nothing, and waits if asked to, so a consumer may start before its
 * producer.  The first PUT makes the queue and serves the waiter.
 */
void op_get(struct request *r)
{
	struct coord *c = r->c;
	struct queue *q = queue_lookup(c, r->h.queue, 0);
	int64_t def_vis = (q ? q->conf : c->opt.defaults).visibility_ns;
	uint64_t max = proto_get(&r->h, "max", 1);
	uint64_t wait = proto_get(&r->h, "wait", 0);
	uint64_t vis = proto_get(&r->h, "vis", (uint64_t)(def_vis / NS_PER_MS));
	struct waiter *w;

	if (max == 0 || max > GET_MAX_ATOMS || wait > WAIT_MAX_MS || vis == 0 ||
	    vis > UINT32_MAX)
		return reply_error(c, r->identity, r->h.reqid, ST_BADREQ,
				   "GET takes max=1..%d wait=0..%d vis=1..%u (ms)",
				   GET_MAX_ATOMS, WAIT_MAX_MS, UINT32_MAX);
	if (q)
		note_consumer(c, q, r->identity, r->now);
	struct get_args g = { r->h.reqid, (uint32_t)max, (int64_t)vis * NS_PER_MS,
			      proto_get(&r->h, "split", 0) == 1 };
	if (deliver(c, q, r->identity, &g, wait > 0) > 0 || wait == 0)
		return;
	if (c->waiters.n >= c->opt.max_waiters)
		return reply_error(c, r->identity, r->h.reqid, ST_LIMIT,
				   "too many waiting GETs (limit %zu); raise --max-waiters",
				   c->opt.max_waiters);
	w = waiters_add(&c->waiters, r->h.queue, r->identity,
			r->now + (int64_t)wait * NS_PER_MS);
	if (w == NULL)
		return request_oom(r);
	w->reqid = r->h.reqid;
	w->max = (uint32_t)max;
	w->vis_ns = proto_has(&r->h, "vis") ? (int64_t)vis * NS_PER_MS : 0;
	w->split = g.split;
}

/* The GET a waiter parked, its lease made whole now that its queue is
 * known: without vis=, the queue's visibility timeout. */
static struct get_args waiter_get(const struct waiter *w, const struct queue *q,
				  const struct coord *c)
{
	struct get_args g = { w->reqid, w->max, w->vis_ns, w->split };

	if (g.vis_ns == 0)
		g.vis_ns = (q ? q->conf : c->opt.defaults).visibility_ns;
	return g;
}

/*
 * Has q just closed (flow_closed: nothing more will be put)?  Its waiters
 * are answered then, once, with what there is and closed=1: a consumer
 * that holds atoms back until it has everything (spsc-reduce, until its
 * checkpoint) learns that it has, and need not wait out its timer.  Only
 * once: a consumer whose fellows hold the rest waits as before.
 */
static int just_closed(struct queue *q)
{
	int closed = flow_closed(&q->flow), news = closed && !q->closed_told;

	q->closed_told = closed;
	return news;
}

/*
 * Answers parked GETs: those on the queues touched in this turn (put,
 * returned, leases run out, made) while atoms are ready, oldest first;
 * then those whose wait is over, with what there is.  Waiters on idle
 * queues are not looked at (waiters.h).
 */
void serve_waiters(struct coord *c, int64_t now)
{
	struct waiter *w;

	/* Dead-lettering may touch more queues meanwhile: index, not pointer.
	 * A queue that has just completed answers all its waiters: there
	 * will never be anything for them; one that has just closed, too. */
	for (size_t i = 0; i < c->ntouched; i++) {
		struct queue *q = c->touched[i]->q;
		int all = just_closed(q);	/* always: it records the news */
		all |= queue_complete(q);
		while ((q->n.ready > 0 || all) &&
		       (w = waiters_first(&c->waiters, q->name)) != NULL) {
			struct get_args g = waiter_get(w, q, c);
			if (deliver(c, q, &w->identity, &g, !all) == 0 && !all)
				break;
			waiters_remove(&c->waiters, w);
		}
	}
	while ((w = waiters_expired(&c->waiters, now)) != NULL) {
		struct queue *q = queue_lookup(c, w->queue, 0);
		struct get_args g = waiter_get(w, q, c);
		deliver(c, q, &w->identity, &g, 0);
		waiters_remove(&c->waiters, w);
	}
}

/* The queue name was deleted: its waiters hear so (NOQUEUE). */
void waiters_deleted(struct coord *c, const char *name)
{
	struct waiter *w;

	while ((w = waiters_first(&c->waiters, name)) != NULL) {
		reply_error(c, &w->identity, w->reqid, ST_NOQUEUE,
			    "queue %s was deleted", name);
		waiters_remove(&c->waiters, w);
	}
}
