/*
 * result: a closing pass.  The windows the watermark has passed become
 * result events, sorted by (END, START, key bytes), in atoms of at most
 * RESULT_ATOM_EVENTS events and RESULT_ATOM_BYTES bytes whose ids derive
 * from their bytes: the same results always make the same atoms, so a
 * checkpoint's outbox written again after a crash is absorbed by
 * de-duplication downstream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtime.h"
#include "hash.h"
#include "le.h"
#include "reduce.h"
#include "units.h"

static int by_end_start_key(const void *pa, const void *pb)
{
	const struct win *a = *(struct win *const *)pa;
	const struct win *b = *(struct win *const *)pb;
	size_t n;
	int c;

	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	n = a->g->keylen < b->g->keylen ? a->g->keylen : b->g->keylen;
	c = memcmp(a->g->key, b->g->key, n);
	if (c != 0)
		return c;
	return a->g->keylen < b->g->keylen ? -1 : a->g->keylen > b->g->keylen;
}

static char *put(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_time(char *p, int64_t ns, int json)
{
	char t[EVTIME_TEXT_MAX];

	evtime_format(ns, t, sizeof t);
	if (json)
		*p++ = '"';
	p = put(p, t);
	if (json)
		*p++ = '"';
	return p;
}

static size_t line_bound(const struct reduce *r, struct win *w)
{
	return fmt_text_bound(w->g->keylen, 1) + 2 * (EVTIME_TEXT_MAX + 16) +
	       agg_text_bound(&r->aggs, win_slots(w)) + 16;
}

/*
 * TSV: KEY<TAB>START<TAB>END<TAB>V1<TAB>V2...  (no START, END without a
 * window); --json: {"key":K,"start":"...","end":"...","AGG":V,...}
 */
static char *format_line(const struct reduce *r, struct win *w, char *p)
{
	int json = r->json, windowed = r->win.kind != WIN_NONE;

	if (json)
		p = put(p, "{\"key\":");
	p = fmt_text(w->g->key, w->g->keylen, json, p);
	if (windowed) {
		p = put(p, json ? ",\"start\":" : "\t");
		p = put_time(p, w->start, json);
		p = put(p, json ? ",\"end\":" : "\t");
		p = put_time(p, w->end, json);
	}
	for (size_t i = 0; i < r->aggs.n; i++) {
		if (json) {
			*p++ = ',';
			p = fmt_text(r->aggs.v[i].text, strlen(r->aggs.v[i].text), 1, p);
			*p++ = ':';
		} else {
			*p++ = '\t';
		}
		p = agg_format(&r->aggs, i, &w->st, win_slots(w), json, p);
	}
	if (json)
		*p++ = '}';
	*p++ = '\n';
	return p;
}

/* The id of a result atom: its bytes, the stage's salt, its place in the
 * pass. */
static void name_atom(const struct reduce *r, struct atom *a, uint32_t ordinal)
{
	struct atom_id content;

	le_put64(content.b, hash64(a->data, a->len, UINT64_C(0x726573756c747331)));
	le_put64(content.b + 8, hash64(a->data, a->len, UINT64_C(0x726573756c747332)));
	a->id = atomid_child(&content, r->salt, ordinal);
	a->created_ns = wall_ns();
	a->wm = r->wm;
}

static int done_atom(struct reduce *r, struct atom *a, uint32_t ordinal)
{
	name_atom(r, a, ordinal);
	if (r->spill && r->spill(r->spill_arg) < 0)
		return -1;
	return 0;
}

static int no_memory(struct reduce *r)
{
	snprintf(r->err, sizeof r->err, "out of memory for results");
	return -1;
}

static int emit(struct reduce *r, size_t n)
{
	struct atom *a = NULL;
	uint32_t ordinal = 0;

	for (size_t i = 0; i < n; i++) {
		struct win *w = r->closing[i];
		size_t bound = line_bound(r, w);
		if (a && (a->events >= RESULT_ATOM_EVENTS ||
			  a->len + bound > RESULT_ATOM_BYTES)) {
			if (done_atom(r, a, ordinal++) < 0)
				return -1;
			a = NULL;
		}
		if (a == NULL && (a = outbox_add(&r->outbox, DEST_RESULTS)) == NULL)
			return no_memory(r);
		if (atom_reserve(a, a->len + bound) < 0)
			return no_memory(r);
		a->len = (size_t)(format_line(r, w, a->data + a->len) - a->data);
		if (r->win.kind != WIN_NONE) {
			if (a->events == 0 || w->start < a->tmin)
				a->tmin = w->start;
			if (a->events == 0 || w->end > a->tmax)
				a->tmax = w->end;
		}
		a->events++;
		r->results++;
		/* Its key is freed with its last window, which comes later
		 * in the pass if it is closing too. */
		state_win_free(&r->state, w);
	}
	return a ? done_atom(r, a, ordinal) : 0;
}

/*
 * Closes every window the watermark has passed: their results go to the
 * outbox, and they leave the state.  Returns how many closed, or -1 (out
 * of memory, or the spill failed) with r->err set.
 */
int reduce_pass(struct reduce *r)
{
	size_t n;

	if (r->wm == ATOM_TIME_NONE)
		return 0;
	if (state_closing(&r->state, r->wm, &r->closing, &r->closing_cap, &n) < 0)
		return no_memory(r);
	if (n == 0)
		return 0;
	qsort(r->closing, n, sizeof *r->closing, by_end_start_key);
	if (emit(r, n) < 0)
		return -1;
	return n > INT32_MAX ? INT32_MAX : (int)n;
}
