#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "flow.h"
#include "grow.h"

void flow_free(struct flow *f)
{
	free(f->p);
	memset(f, 0, sizeof *f);
}

/* Forgets the producers and the seal (spsc-coord reopen); keeps expect,
 * which is a setting of the queue. */
void flow_reset(struct flow *f)
{
	f->n = 0;
	f->sealed = 0;
}

struct producer *flow_find(const struct flow *f, uint64_t id)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->p[i].id == id)
			return &f->p[i];
	return NULL;
}

/*
 * Registers producer id, raises its watermark to wm (ATOM_TIME_NONE: no
 * news) and, with done, marks it finished.  Returns what changed (enum
 * flow_change), or -1 with errno: ENOSPC past FLOW_PRODUCERS_MAX, ENOMEM.
 * Watermarks only rise: a restarted producer that reports an older one
 * cannot take back what it promised.
 */
int flow_note(struct flow *f, uint64_t id, int64_t wm, int done)
{
	struct producer *p = flow_find(f, id);
	int change = FLOW_SAME;

	if (p == NULL) {
		if (f->n >= FLOW_PRODUCERS_MAX) {
			errno = ENOSPC;
			return -1;
		}
		if (grow(&f->p, &f->cap, f->n + 1, sizeof *f->p) < 0)
			return -1;
		p = &f->p[f->n++];
		p->id = id;
		p->wm = ATOM_TIME_NONE;
		p->done = 0;
		change = FLOW_CHANGED;
	}
	if (done && !p->done) {
		p->done = 1;
		change = FLOW_CHANGED;
	}
	if (wm != ATOM_TIME_NONE && wm > p->wm) {
		p->wm = wm;
		if (change == FLOW_SAME)
			change = FLOW_WATERMARK;
	}
	return change;
}

/* How many producers must finish: 1 unless the queue was told more. */
uint32_t flow_expected(const struct flow *f)
{
	return f->expect ? f->expect : 1;
}

size_t flow_done_count(const struct flow *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += f->p[i].done;
	return n;
}

/* Nothing more will be put: sealed, or every producer it waits for is
 * done.  What it holds may still be handed out (again). */
int flow_closed(const struct flow *f)
{
	size_t done = flow_done_count(f);

	return f->sealed || (done >= flow_expected(f) && done == f->n);
}

int flow_complete(const struct flow *f, uint64_t depth)
{
	return depth == 0 && flow_closed(f);
}

/*
 * The event time below which no more atoms will come out of the queue:
 * the least watermark of its producers (unknown until as many as expected
 * have registered and each has told one), and below the least event time
 * of the atoms it still holds (held_min over the 'timed' atoms that carry
 * event times), since those may yet be handed out, again if need be.  An
 * atom without event times may hold any, so while one is held the
 * watermark is unknown.  ATOM_TIME_END once complete.
 */
/* The least of the producers' watermarks; END once sealed, since
 * nothing more comes in. */
static int64_t producers_watermark(const struct flow *f)
{
	int64_t wm = ATOM_TIME_END;

	if (f->sealed)
		return ATOM_TIME_END;
	if (f->n < flow_expected(f))
		return ATOM_TIME_NONE;
	for (size_t i = 0; i < f->n; i++) {
		int64_t p = f->p[i].done ? ATOM_TIME_END : f->p[i].wm;
		if (p == ATOM_TIME_NONE)
			return ATOM_TIME_NONE;
		if (p < wm)
			wm = p;
	}
	return wm;
}

int64_t flow_watermark(const struct flow *f, uint64_t depth, uint64_t timed,
		       int64_t held_min)
{
	int64_t wm;

	if (flow_complete(f, depth))
		return ATOM_TIME_END;
	if (depth > timed || (wm = producers_watermark(f)) == ATOM_TIME_NONE)
		return ATOM_TIME_NONE;
	if (held_min != ATOM_TIME_NONE && held_min < wm)
		wm = held_min;
	return wm;
}
