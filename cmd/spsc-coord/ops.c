/*
 * ops: the dispatch of every request, and the data-path requests that
 * write (PUT) and settle (ACK, NACK, TOUCH); GET is deliver.c's, the
 * rest manage.c's and produce.c's.  Handlers change the queues in memory
 * and buffer log records; the server writes the log before any reply
 * leaves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contents.h"
#include "coord.h"
#include "deliver.h"
#include "log.h"
#include "manage.h"
#include "produce.h"
#include "reply.h"
#include "request.h"
#include "units.h"

#define RECEIPTS_MAX 10000	/* per ACK, NACK or TOUCH */

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
			return request_oom(r);
		p = zmq_msg_data(&c->held[c->nheld - 1]);
		/* check_frames checked the payload against f.payload_crc */
		if (store_append_frame(&c->store, q->name, p, f.header_len, f.stored,
				       f.payload_crc, &pos) < 0 ||
		    queue_put(q, &a.id, &pos, len, a.events, wall_ns(), a.tmin) == NULL)
			return request_oom(r);
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
