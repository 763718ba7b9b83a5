/*
 * compact: copies the live atoms of the oldest log segment forward, so
 * that the segment can be deleted.
 *
 * Segments are deleted oldest first (store.h says why), so without this
 * one atom left unacknowledged would keep every later segment on disk.
 * store_compact_victim picks the oldest segment only while the log holds
 * more than twice its live bytes; each of its live atoms is written again
 * as a MOVE record (its delivery count, then its frame) in the newest
 * segment, and its entry now points there.  A crash between the two
 * leaves both records in the log; replay keeps the first and skips the
 * duplicate, as it does for any PUT of an id already queued.
 */
#include <stdlib.h>

#include "coord.h"
#include "le.h"
#include "log.h"
#include "reply.h"

/* Bytes copied per loop turn at most, so that compaction never stalls
 * the requests waiting behind it. */
#define COMPACT_TURN_BYTES ((uint64_t)16 << 20)
#define COMPACT_TURN_SLOTS ((size_t)1 << 16)

static int move_entry(struct coord *c, struct queue *q, struct entry *e)
{
	struct record_pos old = e->pos, pos;
	uint8_t count[4];
	uint8_t *buf;

	if (store_room(&c->store, store_record_size(q->name, 4 + (size_t)e->len), 1) < 0) {
		c->store.err[0] = '\0';
		return -1;	/* the disk is full: try again later */
	}
	if ((buf = malloc(e->len)) == NULL)
		return -1;
	if (store_read(&c->store, &e->pos, buf, e->len) < 0) {
		log_error("queue %s: compaction: %s", q->name, c->store.err);
		c->store.err[0] = '\0';
		free(buf);
		return -1;
	}
	le_put32(count, e->deliveries);
	/* Kept first: the record points into buf until the flush. */
	if (coord_keep_buffer(c, buf) < 0 ||
	    store_append(&c->store, REC_MOVE, q->name, count, 4, buf, e->len, &pos) < 0)
		return -1;
	e->pos = (struct record_pos){ pos.seq, pos.off + 4 };
	store_ref(&c->store, e->pos.seq, e->len);
	store_unref(&c->store, old.seq, e->len);
	return 0;
}

/*
 * Each turn moves up to COMPACT_TURN_BYTES and looks at up to
 * COMPACT_TURN_SLOTS entries, going on next turn where it stopped, so a
 * coordinator with millions of queued atoms never spends a long turn on
 * it.  Queues made or deleted meanwhile may make the scan skip an entry;
 * the victim then stays the victim, and the next pass finds it.
 */
void compact_tick(struct coord *c)
{
	uint64_t victim = store_compact_victim(&c->store), moved = 0;
	size_t looked = 0;

	if (victim == 0)
		return;
	if (victim != c->compact.victim) {
		c->compact.victim = victim;
		c->compact.queue = c->compact.slot = 0;
	}
	while (looked < COMPACT_TURN_SLOTS && moved < COMPACT_TURN_BYTES) {
		struct queue *q;
		struct entry *e;
		if (c->compact.queue >= c->nqueues) {
			c->compact.queue = c->compact.slot = 0;
			return;		/* a whole pass: go on next turn */
		}
		q = c->queues[c->compact.queue];
		if (c->compact.slot >= q->nslots) {
			c->compact.queue++;
			c->compact.slot = 0;
			continue;
		}
		e = q->slots[c->compact.slot++].e;
		looked++;
		if (e == NULL || e->state == E_GONE || e->pos.seq != victim)
			continue;
		if (move_entry(c, q, e) < 0)
			return;
		moved += e->len;
	}
}
