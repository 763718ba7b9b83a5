/*
 * produce: the requests that tell a queue about its producers (PRODUCER)
 * and that seal or reopen it by hand (SEAL); flow.c keeps the books.
 *
 * What they change is saved in queues.json and synced before the reply
 * leaves (conf_dirty), like any setting: a producer told "done" must stay
 * done across a kill -9 of the coordinator, or the queue would never
 * complete.  Watermarks ride on PUTs and are saved with the totals: one
 * lost in a crash only makes the watermark lag until the next PUT.
 */
#include <errno.h>

#include "coord.h"
#include "produce.h"
#include "request.h"
#include "reply.h"

/* The flow keys a request may carry: producer=ID [wm=NS] [done=1]. */
int flow_request(struct request *r, struct queue *q, int done)
{
	uint64_t id = proto_get(&r->h, "producer", 0);
	int64_t wm = proto_has(&r->h, "wm") ? (int64_t)proto_get(&r->h, "wm", 0)
					      : ATOM_TIME_NONE;
	int rc;

	if (id == 0)
		return 0;
	rc = flow_note(&q->flow, id, wm, done);
	if (rc < 0) {
		reply_error(r->c, r->identity, r->h.reqid,
			    errno == ENOSPC ? ST_LIMIT : ST_ERROR,
			    errno == ENOSPC ? "queue %s has %d producers already"
					    : "queue %s: out of memory",
			    q->name, FLOW_PRODUCERS_MAX);
		return -1;
	}
	if (rc == FLOW_CHANGED)
		r->c->conf_dirty = 1;
	else if (rc == FLOW_WATERMARK)
		r->c->totals_dirty = 1;
	return 0;
}

static void reply_flow(struct request *r, const struct queue *q)
{
	struct proto_header h = { .reply = 1, .code = ST_OK, .reqid = r->h.reqid };

	flow_header(&h, q);
	reply_begin(r->c, r->identity, &h);
}

/*
 * PRODUCER producer=ID [expect=N] [done=1] [wm=NS]: registers a producer
 * when it opens the queue (so that the queue waits for it), and marks it
 * done when it has finished.  expect sets how many producers the queue
 * waits for, as CREATE producers=N does.
 */
void op_producer(struct request *r)
{
	struct queue *q;
	uint64_t expect = proto_get(&r->h, "expect", 0);

	if (proto_get(&r->h, "producer", 0) == 0 || expect > FLOW_PRODUCERS_MAX)
		return reply_error(r->c, r->identity, r->h.reqid, ST_BADREQ,
				   "PRODUCER takes producer=ID (not 0), expect=0..%d, done=0|1, wm=NS",
				   FLOW_PRODUCERS_MAX);
	if ((q = client_queue(r, NULL)) == NULL)
		return;
	if (expect && expect != q->flow.expect) {
		q->flow.expect = (uint32_t)expect;
		r->c->conf_dirty = 1;
	}
	if (flow_request(r, q, proto_get(&r->h, "done", 0) != 0) == 0)
		reply_flow(r, q);
}

/* SEAL: nothing more comes in; complete once empty.  SEAL open=1
 * reopens: forgets the seal and every producer, so a new run may fill
 * the queue again. */
void op_seal(struct request *r)
{
	struct queue *q = queue_lookup(r->c, r->h.queue, 0);

	if (q == NULL)
		return reply_error(r->c, r->identity, r->h.reqid, ST_NOQUEUE,
				   "no queue %s", r->h.queue);
	if (proto_get(&r->h, "open", 0))
		flow_reset(&q->flow);
	else
		q->flow.sealed = 1;
	r->c->conf_dirty = 1;
	reply_flow(r, q);
}

/* What a consumer learns with every GET reply and a producer with its
 * PRODUCER reply: the queue's watermark, if known, and completion. */
void flow_header(struct proto_header *h, const struct queue *q)
{
	int64_t wm;

	if (q == NULL)
		return;
	wm = queue_watermark(q);
	if (wm != ATOM_TIME_NONE)
		proto_set(h, "wm", (uint64_t)wm);
	if (queue_complete(q))
		proto_set(h, "complete", 1);
	else if (flow_closed(&q->flow))
		proto_set(h, "closed", 1);
}
