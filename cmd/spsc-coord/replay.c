/*
 * replay: rebuilds the queues from the log at start-up.  store.c walks the
 * records in order; this file applies each one, and brings the counters
 * that queues.json saved up to date with the records written after that
 * save, so that put, acked and the rest agree with the log after a crash.
 */
#include <stdlib.h>

#include "coord.h"
#include "le.h"
#include "contents.h"
#include "units.h"

/* Was this record written after queues.json saved the totals?  Then the
 * totals have not counted it yet. */
static int unsaved(const struct coord *c, const struct record_pos *pos)
{
	const struct record_pos *at = &c->totals_at;

	return pos->seq > at->seq || (pos->seq == at->seq && pos->off > at->off);
}

/* A PUT, or a MOVE (an atom copied forward by compaction, with the
 * delivery count it had): the atom is in q from here on. */
static void replay_put(struct coord *c, struct queue *q, const uint8_t *frame,
		       size_t len, const struct record_pos *pos,
		       uint32_t deliveries, int count)
{
	struct entry *e;
	struct atom a;
	char why[128];

	if (frame_check(c, frame, len, &a, why, sizeof why) != 0 &&
	    atom_parse_header(frame, len, SIZE_MAX, &a, &(struct atom_frame){ 0 },
			      why, sizeof why) != 0)
		return;
	if ((e = queue_find(q, &a.id)) != NULL) {
		if (e->state != E_GONE)
			return;
		queue_drop(q, e);
	}
	e = queue_put(q, &a.id, pos, (uint32_t)len, a.events, a.created_ns,
		      a.tmin);
	if (e == NULL)
		return;
	store_ref(&c->store, pos->seq, len);
	if (deliveries > e->deliveries)
		e->deliveries = deliveries;
	if (!count)
		q->n.put--;	/* queue_put counted it; the totals already had */
}

static void count_ack(struct queue *q, int reason)
{
	switch (reason) {
	case ACK_CONSUMED:
	case ACK_MOVED: q->n.acked++; break;
	case ACK_DEAD: q->n.dead++; break;
	case ACK_EXPIRED: q->n.expired++; break;
	}
}

/* ACK and RECV name an atom by id; one whose PUT is gone is ignored. */
static void replay_settle(struct coord *c, struct queue *q, int type,
			  const uint8_t *body, size_t len, int count)
{
	struct entry *e;
	struct receipt rc;

	if (len < 16)
		return;
	if (type == REC_RECV && len >= RECEIPT_WIRE) {
		receipt_decode(body, &rc);
		if (count && rc.delivery > 1)
			q->n.redelivered++;
	}
	if (type == REC_ACK && count)
		count_ack(q, len > 16 ? body[16] : ACK_CONSUMED);
	e = queue_find(q, (const struct atom_id *)body);
	if (e == NULL || e->state == E_GONE)
		return;
	if (type == REC_ACK) {
		store_unref(&c->store, e->pos.seq, e->len);
		queue_forget(q, e, mono_ns());
	} else if (len >= RECEIPT_WIRE && rc.delivery > e->deliveries) {
		e->deliveries = rc.delivery;
	}
}

void replay_record(void *ctx, int type, const char *name, const uint8_t *body,
		   size_t len, const struct record_pos *pos)
{
	struct coord *c = ctx;
	struct queue *q = queue_lookup(c, name, 1);
	int count = unsaved(c, pos);
	struct record_pos frame_pos = { pos->seq, pos->off + 4 };

	if (q == NULL)
		return;
	switch (type) {
	case REC_PUT:
		replay_put(c, q, body, len, pos, 0, count);
		break;
	case REC_MOVE:
		if (len > 4)
			replay_put(c, q, body + 4, len - 4, &frame_pos,
				   le_get32(body), 0);
		break;
	case REC_ACK:
	case REC_RECV:
		replay_settle(c, q, type, body, len, count);
		break;
	case REC_PURGE:
		purge_entries(c, q, 0);
		break;
	}
}
