#include <stdio.h>

#include "atom.h"
#include "window.h"

/* Floor division, for times before the epoch. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int apply(struct state *s, struct win *w, const struct window_event *ev)
{
	struct agg_when when = { ev->t, ev->seq };

	return agg_update(s->aggs, &w->st, win_slots(w), ev->vals, when);
}

/* The key's group, made on its first window. */
static struct group *group_of(struct state *s, const struct window_event *ev,
			      struct group **g)
{
	if (*g == NULL)
		*g = state_add(s, ev->key, ev->keylen, ev->hash);
	return *g;
}

/* The window [start, end) of the key, made if it does not exist yet, and
 * the event applied to it.  -1: out of memory. */
static int into(struct state *s, struct group **g, int64_t start, int64_t end,
		const struct window_event *ev)
{
	struct win *w = NULL;

	if (*g)
		for (w = (*g)->wins; w && w->start != start; w = w->next)
			;
	if (w == NULL) {
		if (group_of(s, ev, g) == NULL)
			return -1;
		if ((w = state_win_new(s, *g, start, end)) == NULL)
			return -1;
	}
	return apply(s, w, ev);
}

static int fixed(struct state *s, const struct window_spec *ws,
		 const struct window_event *ev, int64_t wm, struct group **g)
{
	int64_t k, start;
	int n = 0;

	if (ws->kind == WIN_NONE) {
		if (ATOM_TIME_END <= wm)
			return 0;
		return into(s, g, ATOM_TIME_NONE, ATOM_TIME_END, ev) < 0 ? -1 : 1;
	}
	if (ws->kind == WIN_TUMBLING) {
		start = floor_div(ev->t, ws->size) * ws->size;
		if (start + ws->size <= wm)
			return 0;
		return into(s, g, start, start + ws->size, ev) < 0 ? -1 : 1;
	}
	/* Sliding: from the newest window that holds t back to the oldest. */
	for (k = floor_div(ev->t, ws->slide); k * ws->slide + ws->size > ev->t; k--) {
		start = k * ws->slide;
		if (start + ws->size <= wm)
			break;	/* older ones end even earlier */
		if (into(s, g, start, start + ws->size, ev) < 0)
			return -1;
		n++;
	}
	return n;
}

/*
 * [t, t+GAP) joins every open session of the key that it overlaps (a
 * session exactly GAP away does not overlap); they become one, which
 * starts at its first event and ends GAP after its last.  With none to
 * join, it is a new session, unless that would already be closed: then
 * the event is late.
 */
static int session(struct state *s, const struct window_spec *ws,
		   const struct window_event *ev, int64_t wm, struct group **g)
{
	int64_t end = ev->t + ws->gap;
	struct win *into_w = NULL, *w, *next;

	for (w = *g ? (*g)->wins : NULL; w; w = next) {
		next = w->next;
		if (w->end <= wm || !(w->start < end && ev->t < w->end))
			continue;
		if (into_w == NULL) {
			into_w = w;
			continue;
		}
		if (agg_merge(s->aggs, &into_w->st, win_slots(into_w), &w->st,
			      win_slots(w)) < 0)
			return -1;
		if (w->start < into_w->start)
			into_w->start = w->start;
		if (w->end > into_w->end) {
			into_w->end = w->end;
			state_win_moved(s, into_w);
		}
		state_win_free(s, w);	/* the group keeps into_w */
	}
	if (into_w == NULL) {
		if (end <= wm)
			return 0;
		if (group_of(s, ev, g) == NULL ||
		    (into_w = state_win_new(s, *g, ev->t, end)) == NULL)
			return -1;
	}
	if (ev->t < into_w->start)
		into_w->start = ev->t;
	if (end > into_w->end) {
		into_w->end = end;
		state_win_moved(s, into_w);
	}
	return apply(s, into_w, ev) < 0 ? -1 : 1;
}

/*
 * Applies an event to its key's open windows under the watermark wm.
 * Returns how many windows took it (0: it is late), or -1 when out of
 * memory.
 */
int window_apply(struct state *s, const struct window_spec *ws,
		 const struct window_event *ev, int64_t wm)
{
	struct group *g = state_find(s, ev->key, ev->keylen, ev->hash);

	if (ws->kind == WIN_SESSION)
		return session(s, ws, ev, wm, &g);
	return fixed(s, ws, ev, wm, &g);
}

/* The window as a checkpoint's options record it. */
void window_describe(const struct window_spec *ws, char *buf, size_t len)
{
	switch (ws->kind) {
	case WIN_NONE:
		snprintf(buf, len, "none");
		break;
	case WIN_TUMBLING:
		snprintf(buf, len, "tumbling %lldns", (long long)ws->size);
		break;
	case WIN_SLIDING:
		snprintf(buf, len, "sliding %lldns/%lldns", (long long)ws->size,
			 (long long)ws->slide);
		break;
	case WIN_SESSION:
		snprintf(buf, len, "session %lldns", (long long)ws->gap);
		break;
	}
}

/*
 * Where a reopened input takes up again (spsc(7), COMPLETION): past the end
 * of the latest window that holds T, the latest time seen when the input
 * was complete, since every window up to there was closed and written.
 * An event before it is late; one after it opens windows never written.
 * With no windows the state was emptied at the end: nothing is late.
 */
int64_t window_resume(const struct window_spec *ws, int64_t t)
{
	if (t == ATOM_TIME_NONE)
		return ATOM_TIME_NONE;
	switch (ws->kind) {
	case WIN_TUMBLING:
		return floor_div(t, ws->size) * ws->size + ws->size;
	case WIN_SLIDING:
		return floor_div(t, ws->slide) * ws->slide + ws->size;
	case WIN_SESSION:
		return t + ws->gap;
	default:
		return ATOM_TIME_NONE;
	}
}
