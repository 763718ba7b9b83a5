/*
 * flow: who produces into a queue, how far in event time they have come,
 * and whether the queue is complete (spsc(7), "Completion").
 *
 * A producer is a stage, named by a 64-bit id that its replicas share and
 * that survives its restarts.  It registers when it opens the queue, may
 * report its watermark with each PUT, and says "done" once its input was
 * complete and every output it derived was stored.  Replicas of one stage
 * are one producer: a replica sees its input complete only once every
 * atom of it was acknowledged, and a stage acknowledges an atom only after
 * its outputs are stored, so the first replica to finish speaks for all.
 *
 * A queue is complete when it holds no atom (ready, in flight or delayed)
 * and either it was sealed by hand or at least 'expect' producers (1 when
 * unset) are done and no registered producer is still running.  A crashed
 * producer never says done, so it never completes a queue.
 *
 * This file is pure bookkeeping: the handlers log and persist what
 * changes (the registrations and the seal are saved in queues.json).
 */
#ifndef SPSC_FLOW_H
#define SPSC_FLOW_H

#include <stddef.h>
#include <stdint.h>

#define FLOW_PRODUCERS_MAX 1024	/* per queue */

struct producer {
	uint64_t id;
	int64_t wm;		/* its watermark; ATOM_TIME_NONE: not told */
	int done;
};

struct flow {
	uint32_t expect;	/* producers to wait for; 0: unset (1) */
	int sealed;
	struct producer *p;
	size_t n, cap;
};

enum flow_change { FLOW_SAME = 0, FLOW_WATERMARK = 1, FLOW_CHANGED = 2 };

void flow_free(struct flow *f);
void flow_reset(struct flow *f);
struct producer *flow_find(const struct flow *f, uint64_t id);
int flow_note(struct flow *f, uint64_t id, int64_t wm, int done);
int flow_closed(const struct flow *f);
int flow_complete(const struct flow *f, uint64_t depth);
int64_t flow_watermark(const struct flow *f, uint64_t depth, uint64_t timed,
		       int64_t held_min);
uint32_t flow_expected(const struct flow *f);
size_t flow_done_count(const struct flow *f);

#endif
