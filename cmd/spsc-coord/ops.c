/*
 * ops: the data-path requests (PUT, GET, ACK, NACK, TOUCH) and the
 * dispatch of every request.  Handlers change the queues in memory and
 * buffer log records; the server writes the log before any reply leaves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "endpoint.h"
#include "frames.h"
#include "crc32c.h"
#include "grow.h"
#include "hash.h"
#include "log.h"
#include "ops.h"
#include "reply.h"
#include "units.h"

#define GET_MAX_ATOMS 1000
#define GET_MAX_BYTES ((size_t)16 << 20)
#define WAIT_MAX_MS 60000
#define RECEIPTS_MAX 10000	/* per ACK, NACK or TOUCH */

static void oom(struct request *r)
{
	reply_error(r->c, r->identity, r->h.reqid, ST_ERROR, "out of memory");
}

/*
 * The queue a request writes to (PUT, CREATE, REDRIVE), made with the
 * defaults if there is none and clients may still make queues: at most
 * --max-queues, counting every queue (those of queues.json and the
 * dead-letter queues too).  NULL once the reply (LIMIT, or ERROR) is
 * built.  Dead-lettering does not come here: it makes NAME.dlq whatever
 * the count, because refusing it would leave an exhausted atom nowhere to
 * go.  So the dead-letter queues may take the count past the limit, at
 * most one for each queue clients made, and then clients make no more
 * until some are deleted.
 */
struct queue *client_queue(struct request *r, int *created)
{
	struct coord *c = r->c;
	struct queue *q = queue_lookup(c, r->h.queue, 0);

	if (created)
		*created = q == NULL;
	if (q)
		return q;
	if (c->nqueues >= c->opt.max_queues) {
		reply_error(c, r->identity, r->h.reqid, ST_LIMIT,
			    "too many queues (limit %zu); raise --max-queues or delete queues",
			    c->opt.max_queues);
		return NULL;
	}
	if ((q = queue_lookup(c, r->h.queue, 1)) == NULL)
		oom(r);
	return q;
}

/* A PUT that the log has no room for: back-pressure while the disk is
 * full (consumers can still ACK and free it), an error otherwise. */
static void no_room(struct request *r)
{
	struct store *s = &r->c->store;

	/* No space for this request (a batch needing a segment of its own,
	 * say) is back-pressure too, like a full disk: the client waits, or
	 * sends its atoms one by one. */
	if (s->nospace || errno == ENOSPC || errno == EDQUOT)
		reply_error(r->c, r->identity, r->h.reqid, ST_NOSPACE,
			    "the coordinator's disk is full (%s); retry once consumers free space",
			    s->dir);
	else
		reply_error(r->c, r->identity, r->h.reqid, ST_ERROR, "%s", s->err);
	s->err[0] = '\0';
}

/*
 * Checks a frame from a client or from the log: its header, its length,
 * its size against the limit and, if payload_too, its payload's CRC.  0 if
 * it may be stored or handed out, with its header in a and f; else the
 * status to answer with and why.
 */
int frame_verify(struct coord *c, const uint8_t *buf, size_t len,
		 int payload_too, struct atom *a, struct atom_frame *f,
		 char *why, size_t whylen)
{
	int rc = atom_parse_header(buf, len, SIZE_MAX, a, f, why, whylen);

	if (rc == 1) {
		snprintf(why, whylen, "truncated frame (%zu bytes)", len);
		return ST_BADATOM;
	}
	if (rc < 0)
		return ST_BADATOM;
	if (f->stored > c->opt.limit || f->raw > c->opt.limit) {
		snprintf(why, whylen, "frame of %u bytes is over the limit of %zu",
			 f->raw > f->stored ? f->raw : f->stored, c->opt.limit);
		return ST_TOOBIG;
	}
	if (len != f->header_len + f->stored) {
		snprintf(why, whylen, "frame length %zu != header %zu + payload %u",
			 len, f->header_len, f->stored);
		return ST_BADATOM;
	}
	if (payload_too && crc32c(0, buf + f->header_len, f->stored) != f->payload_crc) {
		snprintf(why, whylen, "payload CRC mismatch");
		return ST_BADATOM;
	}
	return 0;
}

/* frame_verify, payload and all. */
int frame_check(struct coord *c, const uint8_t *buf, size_t len,
		struct atom *a, char *why, size_t whylen)
{
	struct atom_frame f;

	return frame_verify(c, buf, len, 1, a, &f, why, whylen);
}

/* The atom has left q for good: log it and why (the counters rebuilt
 * after a crash need the reason), release its segment, remember its id
 * for the de-duplication window. */
void entry_remove(struct coord *c, struct queue *q, struct entry *e,
		  int64_t now, enum ack_reason why)
{
	uint8_t reason = (uint8_t)why;

	store_append(&c->store, REC_ACK, q->name, e->id.b, 16, &reason, 1, NULL);
	store_unref(&c->store, e->pos.seq, e->len);
	queue_forget(q, e, now);
}

/* Stores a frame (owned by buf, kept until the flush) in q under id,
 * replacing a forgotten id, skipping one still queued.  For moves between
 * queues: dead-lettering and redrive.  Like a PUT, a move needs room in
 * the log; -1 (buf freed) if the disk is full or memory runs out. */
int queue_insert_frame(struct coord *c, struct queue *q, uint8_t *buf,
		       uint32_t len, const struct atom *a)
{
	struct entry *old = queue_find(q, &a->id);
	struct record_pos pos;

	if (old && old->state != E_GONE) {
		free(buf);
		return 0;
	}
	if (store_room(&c->store, store_record_size(q->name, len), 1) < 0) {
		free(buf);
		return -1;
	}
	if (old)
		queue_drop(q, old);
	if (coord_keep_buffer(c, buf) < 0 ||
	    store_append(&c->store, REC_PUT, q->name, buf, len, NULL, 0, &pos) < 0 ||
	    queue_put(q, &a->id, &pos, len, a->events, wall_ns(), a->tmin) == NULL)
		return -1;
	store_ref(&c->store, pos.seq, len);
	return 0;
}

/* Moves an atom that was received max-receives times to NAME.dlq, with
 * the reason and the count stamped in its header. */
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
size_t deliver(struct coord *c, struct queue *q, zmq_msg_t *identity,
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
static void op_get(struct request *r)
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
		return oom(r);
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

/* Each frame's map slot, on its way into the cache (queue_prefetch).  A
 * frame too short to hold an id is refused later; its bytes, whatever
 * they are, only pick a slot to load here. */
static void prefetch_frames(const struct request *r, const struct queue *q)
{
	for (size_t i = 0; q && i < r->nbody; i++) {
		const uint8_t *p = zmq_msg_data(&r->body[i]);
		if (zmq_msg_size(&r->body[i]) >= ATOM_HEADER_ID + sizeof(struct atom_id))
			queue_prefetch(q, (const struct atom_id *)(p + ATOM_HEADER_ID));
	}
}

/* q NULL: a queue not made yet, where every frame is fresh. */
static int check_frames(struct request *r, struct queue *q, uint64_t *fresh,
			uint64_t *bytes)
{
	char why[256];
	struct atom a;

	*fresh = *bytes = 0;
	prefetch_frames(r, q);
	for (size_t i = 0; i < r->nbody; i++) {
		const uint8_t *p = zmq_msg_data(&r->body[i]);
		size_t len = zmq_msg_size(&r->body[i]);
		int st = frame_check(r->c, p, len, &a, why, sizeof why);
		if (st) {
			reply_error(r->c, r->identity, r->h.reqid, st,
				    "part %zu: %s", i + 2, why);
			return -1;
		}
		if (q == NULL || queue_find(q, &a.id) == NULL) {
			(*fresh)++;
			*bytes += len;
		}
	}
	return 0;
}

/* A producer that said it was done cannot add to the queue: its output
 * is whole, and consumers may have ended on it.  (A replica that wakes
 * after another finished for the stage lands here; what it writes repeats
 * stored work, and it drops it: spsc-protocol(7), FINISHED.) */
static int finished(struct request *r, const struct queue *q)
{
	uint64_t id = proto_get(&r->h, "producer", 0);
	const struct producer *p = q && id ? flow_find(&q->flow, id) : NULL;

	if (p == NULL || !p->done)
		return 0;
	reply_error(r->c, r->identity, r->h.reqid, ST_FINISHED,
		    "producer %016llx has finished queue %s; it accepts nothing more from it (spsc-coord reopen %s starts it afresh)",
		    (unsigned long long)id, q->name, q->name);
	return 1;
}

/*
 * PUT is all or nothing: every frame is checked and the capacity tested
 * before anything is stored, so a producer that gets FULL or an error can
 * retry the same message as it is.  Ids already queued (or acked within
 * the de-duplication window) are counted as duplicates and skipped.
 * producer=ID wm=NS say who sends it and how far its event time has come.
 */
static void op_put(struct request *r)
{
	struct coord *c = r->c;
	struct proto_header h = { .reply = 1, .code = ST_OK, .reqid = r->h.reqid };
	struct queue *q = queue_lookup(c, r->h.queue, 0);
	uint64_t fresh, bytes, dups = 0;

	if (r->nbody == 0)
		return reply_error(c, r->identity, r->h.reqid, ST_BADREQ,
				   "PUT needs at least one atom frame");
	if (check_frames(r, q, &fresh, &bytes) < 0 || finished(r, q))
		return;
	if (q == NULL && (q = client_queue(r, NULL)) == NULL)
		return;
	if ((q->conf.max_depth && queue_depth(q) + fresh > q->conf.max_depth) ||
	    (q->conf.max_bytes && q->n.bytes + bytes > q->conf.max_bytes))
		return reply_error(c, r->identity, r->h.reqid, ST_FULL,
				   "queue %s is full (%llu atoms, %llu bytes)",
				   q->name, (unsigned long long)queue_depth(q),
				   (unsigned long long)q->n.bytes);
	if (fresh && store_room(&c->store, bytes + fresh * store_record_size(q->name, 0), 1) < 0)
		return no_room(r);
	if (flow_request(r, q, 0) < 0)
		return;
	for (size_t i = 0; i < r->nbody; i++) {
		const uint8_t *p = zmq_msg_data(&r->body[i]);
		uint32_t len = (uint32_t)zmq_msg_size(&r->body[i]);
		struct record_pos pos;
		struct atom_frame f;
		struct atom a;
		char why[8];
		atom_parse_header(p, len, SIZE_MAX, &a, &f, why, sizeof why);
		if (queue_find(q, &a.id)) {
			dups++;
			continue;
		}
		if (coord_hold(c, &r->body[i]) < 0)
			return oom(r);
		p = zmq_msg_data(&c->held[c->nheld - 1]);
		/* check_frames checked the payload against f.payload_crc */
		if (store_append_frame(&c->store, q->name, p, f.header_len, f.stored,
				       f.payload_crc, &pos) < 0 ||
		    queue_put(q, &a.id, &pos, len, a.events, wall_ns(), a.tmin) == NULL)
			return oom(r);
		store_ref(&c->store, pos.seq, len);
	}
	proto_set(&h, "stored", r->nbody - dups);
	proto_set(&h, "dups", dups);
	reply_begin(c, r->identity, &h);
}

/* ACK, NACK and TOUCH: one body part of 20-byte receipts. */
static int receipts(struct request *r, struct queue **q)
{
	size_t len = r->nbody == 1 ? zmq_msg_size(&r->body[0]) : 0;

	if (len == 0 || len % RECEIPT_WIRE != 0) {
		reply_error(r->c, r->identity, r->h.reqid, ST_BADREQ,
			    "%s needs one part of 20-byte receipts",
			    proto_op_name(r->h.code));
		return -1;
	}
	/* A bound on the work of one request, so that no client holds up
	 * the loop for long: 10000 receipts take about a millisecond. */
	if (len / RECEIPT_WIRE > RECEIPTS_MAX) {
		reply_error(r->c, r->identity, r->h.reqid, ST_BADREQ,
			    "%s takes at most %d receipts", proto_op_name(r->h.code),
			    RECEIPTS_MAX);
		return -1;
	}
	if ((*q = queue_lookup(r->c, r->h.queue, 0)) == NULL) {
		reply_error(r->c, r->identity, r->h.reqid, ST_NOQUEUE,
			    "no queue %s", r->h.queue);
		return -1;
	}
	return (int)(len / RECEIPT_WIRE);
}

static struct entry *receipt_at(struct request *r, struct queue *q, int i,
				struct receipt *rc)
{
	receipt_decode((const uint8_t *)zmq_msg_data(&r->body[0]) + i * RECEIPT_WIRE, rc);
	return queue_find(q, &rc->id);
}

/* Each receipt's map slot, on its way into the cache (queue_prefetch). */
static void prefetch_receipts(const struct request *r, const struct queue *q, int n)
{
	const uint8_t *p = zmq_msg_data(&r->body[0]);

	for (int i = 0; i < n; i++) {
		struct receipt rc;
		receipt_decode(p + (size_t)i * RECEIPT_WIRE, &rc);
		queue_prefetch(q, &rc.id);
	}
}

/* Any delivery's receipt may ACK: the work was done, whoever did it. */
static void op_ack(struct request *r)
{
	struct proto_header h = { .reply = 1, .code = ST_OK, .reqid = r->h.reqid };
	uint64_t acked = 0;
	struct queue *q;
	int n = receipts(r, &q);

	if (n < 0)
		return;
	prefetch_receipts(r, q, n);
	for (int i = 0; i < n; i++) {
		struct receipt rc;
		struct entry *e = receipt_at(r, q, i, &rc);
		if (e == NULL || e->state == E_GONE)
			continue;
		entry_remove(r->c, q, e, r->now, ACK_CONSUMED);
		q->n.acked++;
		acked++;
	}
	proto_set(&h, "acked", acked);
	proto_set(&h, "missing", (uint64_t)n - acked);
	reply_begin(r->c, r->identity, &h);
}

/* NACK and TOUCH act only on the current delivery of an atom in flight. */
static void op_lease(struct request *r)
{
	struct proto_header h = { .reply = 1, .code = ST_OK, .reqid = r->h.reqid };
	uint64_t done = 0;
	struct queue *q;
	int n = receipts(r, &q);
	int64_t ms;

	if (n < 0)
		return;
	ms = (int64_t)proto_get(&r->h, r->h.code == OP_TOUCH ? "vis" : "delay",
				r->h.code == OP_TOUCH ? (uint64_t)(q->conf.visibility_ns / NS_PER_MS) : 0);
	if (ms < 0 || ms > INT32_MAX)
		return reply_error(r->c, r->identity, r->h.reqid, ST_BADREQ,
				   "time out of range");
	for (int i = 0; i < n; i++) {
		struct receipt rc;
		struct entry *e = receipt_at(r, q, i, &rc);
		if (e == NULL || e->state != E_INFLIGHT || e->deliveries != rc.delivery)
			continue;
		if (r->h.code == OP_TOUCH)
			queue_touch(q, e, r->now + ms * NS_PER_MS);
		else
			queue_release(q, e, ms ? r->now + ms * NS_PER_MS : 0);
		done++;
	}
	if (done == 0)
		return reply_error(r->c, r->identity, r->h.reqid, ST_STALE,
				   "no receipt names a current delivery");
	proto_set(&h, r->h.code == OP_TOUCH ? "touched" : "nacked", done);
	proto_set(&h, "stale", (uint64_t)n - done);
	reply_begin(r->c, r->identity, &h);
}

static void (*const handlers[OP_COUNT])(struct request *) = {
	[OP_PUT] = op_put, [OP_GET] = op_get, [OP_ACK] = op_ack,
	[OP_NACK] = op_lease, [OP_TOUCH] = op_lease,
	[OP_STATUS] = op_status, [OP_CREATE] = op_create,
	[OP_DELETE] = op_delete, [OP_PURGE] = op_purge,
	[OP_REDRIVE] = op_redrive, [OP_PEEK] = op_peek,
	[OP_PRODUCER] = op_producer, [OP_SEAL] = op_seal,
};

/* parts[0] is the client's identity (added by ROUTER), parts[1] the
 * header, the rest bodies.  Nothing a client sends can crash or stall the
 * loop: every malformed message gets a BADREQ reply naming the fault. */
void handle_request(struct coord *c, zmq_msg_t *parts, size_t nparts)
{
	struct request r = { .c = c, .identity = &parts[0], .now = mono_ns() };
	char err[256];

	if (nparts < 2)
		return reply_error(c, &parts[0], 0, ST_BADREQ,
				   "message has no header part");
	if (nparts > PROTO_PARTS_MAX + 1)
		return reply_error(c, &parts[0], 0, ST_BADREQ,
				   "message has more than %d parts", PROTO_PARTS_MAX + 1);
	if (proto_parse(zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), &r.h,
			err, sizeof err) < 0)
		return reply_error(c, &parts[0], r.h.reqid, ST_BADREQ, "%s", err);
	if (r.h.reply)
		return reply_error(c, &parts[0], r.h.reqid, ST_BADREQ,
				   "a reply is not a request");
	r.body = &parts[2];
	r.nbody = nparts - 2;
	handlers[r.h.code](&r);
}
