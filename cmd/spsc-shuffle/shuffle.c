#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "log.h"
#include "partition.h"
#include "shuffle.h"

int shuffle_init(struct shuffle *s, uint32_t n)
{
	s->n = n;
	s->part = calloc(n, sizeof *s->part);
	if (s->part == NULL)
		return -1;
	for (uint32_t p = 0; p < n; p++)
		atom_init(&s->part[p]);
	key_buf_init(&s->kb);
	s->wm_out = ATOM_TIME_NONE;
	return 0;
}

void shuffle_free(struct shuffle *s)
{
	for (uint32_t p = 0; s->part && p < s->n; p++)
		atom_free(&s->part[p]);
	free(s->part);
	bad_events_free(&s->bad);
	key_buf_free(&s->kb);
}

/*
 * An output atom of in: its id, and its events' times as far as they are
 * known (the input's range).  Its watermark is s->wm_out, set per input
 * atom by shuffle_atom.
 */
static void start(struct shuffle *s, struct atom *out, const struct atom *in,
		  uint32_t ordinal)
{
	atom_reset(out);
	out->id = atomid_child(&in->id, s->salt, ordinal);
	out->created_ns = in->created_ns;
	out->tmin = in->tmin;
	out->tmax = in->tmax;
	out->wm = s->wm_out;
}

static int add_event(struct shuffle *s, struct atom *out, const char *ev,
		     size_t len)
{
	if (atom_append(out, ev, len) < 0) {
		snprintf(s->err, sizeof s->err, "out of memory");
		return -1;
	}
	out->events++;
	return 0;
}

/* Sorts the events of in into the partition atoms (and the bad one). */
static int route(struct shuffle *s, const struct atom *in)
{
	struct event_iter it;
	const char *ev;
	size_t len;
	uint64_t ordinal = 0;
	char why[300];

	event_iter_init(&it, in->data, in->len);
	while (event_next(&it, &ev, &len)) {
		ordinal++;
		if (s->mode == ROUTE_BROADCAST) {
			for (uint32_t p = 0; p < s->n; p++)
				if (add_event(s, &s->part[p], ev, len) < 0)
					return -1;
			continue;
		}
		if (key_extract(&s->key, ev, len, &s->kb, why, sizeof why) != KEY_OK) {
			if (bad_event(&s->bad, ordinal, ev, len, why, s->err,
				      sizeof s->err) < 0)
				return -1;
			continue;
		}
		if (add_event(s, &s->part[partition_of(s->kb.ptr, s->kb.len, s->n)],
			      ev, len) < 0)
			return -1;
	}
	s->events += ordinal;
	return 0;
}

static int emit(struct shuffle *s, struct endpoint *ep, const struct atom *a)
{
	if (endpoint_write(ep, a) < 0) {
		snprintf(s->err, sizeof s->err, "%s", ep->err);
		return -1;
	}
	s->written++;
	return 0;
}

/* The whole atom to one output, chosen by its id: a redelivered atom goes
 * where it went before, so de-duplication there absorbs it. */
static int spread(struct shuffle *s, const struct atom *in)
{
	uint32_t p = partition_of(in->id.b, sizeof in->id.b, s->n);
	struct atom *out = &s->part[p];

	start(s, out, in, p);
	if (atom_append(out, in->data, in->len) < 0) {
		snprintf(s->err, sizeof s->err, "out of memory");
		return -1;
	}
	out->events = in->events;
	s->events += in->events;
	return emit(s, &s->out[p], out);
}

/*
 * Routes one input atom and writes what it makes.  Returns once every
 * output has taken its atom (a queue has logged it), so the caller may
 * then acknowledge the input; -1 with s->err set otherwise.  A partition
 * with no event gets nothing.
 */
int shuffle_atom(struct shuffle *s, const struct atom *in, int64_t in_wm)
{
	s->atoms++;
	/* in's own events, carried onward, hold the input's watermark back */
	atom_wm_pass(&s->wm_out, in_wm, in->tmin);
	if (s->mode == ROUTE_SPREAD)
		return spread(s, in);
	for (uint32_t p = 0; p < s->n; p++)
		start(s, &s->part[p], in, p);
	bad_events_start(&s->bad, in);
	if (route(s, in) < 0)
		return -1;
	for (uint32_t p = 0; p < s->n; p++)
		if (s->part[p].events && emit(s, &s->out[p], &s->part[p]) < 0)
			return -1;
	if (bad_events_end(&s->bad)) {
		if (lazy_output_write(&s->dlq, &s->bad.atom, s->err, sizeof s->err) < 0)
			return -1;
		s->written++;
	}
	return 0;
}
