#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "evtime.h"
#include "grow.h"
#include "reduce.h"
#include "units.h"

/* --- the outbox ------------------------------------------------------ */

/* A reset atom at the end of the outbox, for output to dest; NULL when
 * out of memory.  The pointer stays valid until outbox_clear. */
struct atom *outbox_add(struct outbox *o, int dest)
{
	struct atom *a;

	if (o->n == o->made) {
		size_t cap = o->cap;
		if (grow(&o->v, &o->cap, o->made + 1, sizeof *o->v) < 0)
			return NULL;
		if (grow(&o->dest, &cap, o->made + 1, sizeof *o->dest) < 0)
			return NULL;
		if ((a = malloc(sizeof *a)) == NULL)
			return NULL;
		atom_init(a);
		o->v[o->made++] = a;
	}
	a = o->v[o->n];
	atom_reset(a);
	o->dest[o->n++] = (uint8_t)dest;
	return a;
}

void outbox_clear(struct outbox *o)
{
	o->n = 0;
}

void outbox_free(struct outbox *o)
{
	for (size_t i = 0; i < o->made; i++) {
		atom_free(o->v[i]);
		free(o->v[i]);
	}
	free(o->v);
	free(o->dest);
	memset(o, 0, sizeof *o);
}

/* --- the stage ------------------------------------------------------- */

/* After the options are in r (key, aggs, win, time, salt): the rest. */
int reduce_init(struct reduce *r)
{
	r->wm = r->maxt = ATOM_TIME_NONE;
	if (state_init(&r->state, &r->aggs) < 0)
		return -1;
	idset_init(&r->applied);
	atom_init(&r->late);
	key_buf_init(&r->kb);
	key_buf_init(&r->tb);
	for (size_t i = 0; i < AGGS_MAX; i++)
		key_buf_init(&r->vb[i]);
	return 0;
}

void reduce_free(struct reduce *r)
{
	state_free(&r->state);
	idset_free(&r->applied);
	outbox_free(&r->outbox);
	bad_events_free(&r->bad);
	atom_free(&r->late);
	key_buf_free(&r->kb);
	key_buf_free(&r->tb);
	for (size_t i = 0; i < AGGS_MAX; i++)
		key_buf_free(&r->vb[i]);
	free(r->closing);
	key_spec_free(&r->key);
	if (r->event_time)
		key_spec_free(&r->time);
	agg_set_free(&r->aggs);
}

/* The watermark never goes back. */
void reduce_watermark(struct reduce *r, int64_t wm)
{
	if (wm != ATOM_TIME_NONE && wm > r->wm)
		r->wm = wm;
}

static int event_time(struct reduce *r, struct key_doc *d, int64_t *t,
		      char *why, size_t whylen)
{
	char m[300], q[64];

	if (key_doc_extract(&r->time, d, &r->tb, m, sizeof m) != KEY_OK) {
		snprintf(why, whylen, "--time %s: %s", r->time_text, m);
		return -1;
	}
	quote_value(r->tb.ptr, r->tb.len, q, sizeof q);
	if (evtime_parse(r->tb.ptr, r->tb.len, t) < 0) {
		snprintf(why, whylen,
			 "--time %s: '%s' is not a time (epoch seconds, epoch milliseconds or RFC 3339)",
			 r->time_text, q);
		return -1;
	}
	if (*t < EVENT_TIME_MIN || *t > EVENT_TIME_MAX) {
		snprintf(why, whylen, "--time %s: '%s' is out of range (years 1824 to 2116)",
			 r->time_text, q);
		return -1;
	}
	return 0;
}

/* The key, the aggregates' values and the time of one event, or -1 with
 * why it cannot be used. */
static int read_event(struct reduce *r, struct key_doc *d, int64_t *t,
		      char *why, size_t whylen)
{
	char m[300];

	if (key_doc_extract(&r->key, d, &r->kb, why, whylen) != KEY_OK)
		return -1;
	for (size_t i = 0; i < r->aggs.n; i++) {
		const struct agg *a = &r->aggs.v[i];
		struct agg_value *v = &r->vals[i];
		if (a->kind == AGG_COUNT)
			continue;
		if (key_doc_extract(&a->field, d, &r->vb[i], m, sizeof m) != KEY_OK) {
			snprintf(why, whylen, "%s: %s", a->text, m);
			return -1;
		}
		v->p = r->vb[i].ptr;
		v->len = r->vb[i].len;
		if (agg_value_parse(a, v, why, whylen) < 0)
			return -1;
	}
	if (r->event_time)
		return event_time(r, d, t, why, whylen);
	*t = r->wm;
	return 0;
}

static int late_event(struct reduce *r, const char *ev, size_t len, int64_t t)
{
	if (atom_append(&r->late, ev, len) < 0)
		return -1;
	if (r->late.events++ == 0 || t < r->late.tmin)
		r->late.tmin = t;
	if (r->late.events == 1 || t > r->late.tmax)
		r->late.tmax = t;
	r->late_events++;
	return 0;
}

/* One event: applied to its windows, late, or an event error.  -1: the
 * stage must stop (r->err). */
static int one_event(struct reduce *r, const char *ev, size_t len,
		     uint64_t ordinal)
{
	struct key_doc d;
	struct window_event we;
	char why[600];
	int64_t t = 0;
	int rc, n;

	key_doc_init(&d, ev, len);
	rc = read_event(r, &d, &t, why, sizeof why);
	key_doc_done(&d);
	if (rc < 0)
		return bad_event(&r->bad, ordinal, ev, len, why, r->err, sizeof r->err);
	we.key = r->kb.ptr;
	we.keylen = r->kb.len;
	we.hash = state_hash(we.key, we.keylen);
	we.t = t;
	we.vals = r->vals;
	we.seq = r->seq++;
	n = window_apply(&r->state, &r->win, &we, r->wm);
	if (n < 0 || (n == 0 && late_event(r, ev, len, t) < 0)) {
		snprintf(r->err, sizeof r->err, "out of memory (%zu keys, %zu windows)",
			 r->state.ngroups, r->state.nwins);
		return -1;
	}
	if (n > 0)
		r->events++;
	if (r->maxt == ATOM_TIME_NONE || t > r->maxt)
		r->maxt = t;
	if (r->event_time) {
		/* Only when asked for: a guess from the events seen depends
		 * on the order they come in, which parallel stages and
		 * redeliveries change.  The input's own watermark (stamped
		 * upstream, held back over a queue by the atoms in flight,
		 * or the end of input) does not, so by default it alone
		 * closes windows, and results are the same from run to run. */
		if (r->lateness_given)
			reduce_watermark(r, r->maxt - r->lateness);
	}
	return 0;
}

/* What an atom made besides results goes to the outbox, its buffer
 * swapped in (no copy). */
static int to_outbox(struct reduce *r, struct atom *a, int dest)
{
	struct atom *o = outbox_add(&r->outbox, dest), tmp;

	if (o == NULL) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return -1;
	}
	tmp = *o;
	*o = *a;
	*a = tmp;
	return 0;
}

/*
 * Applies the events of an input atom.  Late events and dead letters go
 * to the outbox, each in one atom whose id derives from the input's, so a
 * redelivered atom makes them again the same.  The caller then moves the
 * watermark on and runs a closing pass.  -1: the stage must stop.
 */
int reduce_atom(struct reduce *r, const struct atom *in)
{
	struct event_iter it;
	const char *ev;
	size_t len;
	uint64_t ordinal = 0;

	if (!r->event_time)
		reduce_watermark(r, wall_ns());
	bad_events_start(&r->bad, in);
	atom_reset(&r->late);
	r->late.id = atomid_child(&in->id, r->salt, LATE_ORDINAL);
	r->late.created_ns = in->created_ns;
	event_iter_init(&it, in->data, in->len);
	while (event_next(&it, &ev, &len))
		if (one_event(r, ev, len, ++ordinal) < 0)
			return -1;
	r->atoms++;
	if (bad_events_end(&r->bad) && to_outbox(r, &r->bad.atom, DEST_DLQ) < 0)
		return -1;
	if (r->late.events) {
		r->late.fail_kind = ATOM_FAIL_LATE;
		r->late.fail_code = (int32_t)r->late.events;
		r->late.wm = r->wm;
		if (to_outbox(r, &r->late, DEST_LATE) < 0)
			return -1;
	}
	return 0;
}
