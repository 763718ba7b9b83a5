#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "natswm.h"

void natswm_init(struct natswm *w)
{
	memset(w, 0, sizeof *w);
	w->wm = ATOM_TIME_NONE;
	w->open_tmin = ATOM_TIME_END;
}

/* ATOM_TIME_NONE is the least int64_t, so an unknown time wins a min. */
static int64_t least(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* An atom published: it joins the open segment. */
void natswm_put(struct natswm *w, const struct atom *a)
{
	if (a->wm != ATOM_TIME_NONE || a->tmin != ATOM_TIME_NONE)
		w->timed = 1;
	if (a->wm != ATOM_TIME_NONE && (w->wm == ATOM_TIME_NONE || a->wm > w->wm))
		w->wm = a->wm;
	w->open_tmin = least(w->open_tmin, a->tmin);
	w->open = 1;
}

/* Is a segment whose atoms lie at or below LAST still (partly) held? */
static int held(uint64_t last, uint64_t first_seq, uint64_t msgs)
{
	return msgs > 0 && last >= first_seq;
}

/*
 * Every publish so far is stored, and the stream's state is FIRST_SEQ,
 * LAST_SEQ and MSGS: the open segment closes at LAST_SEQ, and segments
 * wholly consumed are forgotten.  When all are taken, the two newest
 * merge: coarser, never wrong.
 */
void natswm_settled(struct natswm *w, uint64_t first_seq, uint64_t last_seq,
		    uint64_t msgs)
{
	size_t k = 0;

	for (size_t i = 0; i < w->nseg; i++)
		if (held(w->seg[i].last_seq, first_seq, msgs))
			w->seg[k++] = w->seg[i];
	w->nseg = k;
	if (!w->open || !held(last_seq, first_seq, msgs)) {
		w->open = 0;
		w->open_tmin = ATOM_TIME_END;
		return;
	}
	if (w->nseg == NATSWM_SEGMENTS) {
		struct natswm_segment *a = &w->seg[w->nseg - 2], *b = a + 1;
		a->last_seq = b->last_seq;
		a->tmin = least(a->tmin, b->tmin);
		w->nseg--;
	}
	w->seg[w->nseg++] = (struct natswm_segment){ last_seq, w->open_tmin };
	w->open = 0;
	w->open_tmin = ATOM_TIME_END;
}

static int time_text(int64_t t, char *buf, size_t len)
{
	if (t == ATOM_TIME_NONE)
		return snprintf(buf, len, "-");
	if (t == ATOM_TIME_END)
		return snprintf(buf, len, "end");
	return snprintf(buf, len, "%" PRId64, t);
}

/* "WM SEQ:TMIN ...", the open segment (if any) as "*:TMIN"; DONE: WM is
 * "end", since nothing more comes from this producer. */
void natswm_format(const struct natswm *w, int done, char *buf, size_t len)
{
	char t[32];
	size_t n;

	time_text(done ? ATOM_TIME_END : w->wm, t, sizeof t);
	n = (size_t)snprintf(buf, len, "%s", t);
	for (size_t i = 0; i <= w->nseg && n < len; i++) {
		if (i == w->nseg && !w->open)
			break;
		time_text(i < w->nseg ? w->seg[i].tmin : w->open_tmin, t, sizeof t);
		if (i < w->nseg)
			n += (size_t)snprintf(buf + n, len - n, " %" PRIu64 ":%s",
					      w->seg[i].last_seq, t);
		else
			n += (size_t)snprintf(buf + n, len - n, " *:%s", t);
	}
}

static int parse_time(const char *s, char **end, int64_t *t)
{
	if (*s == '-' && (s[1] == ' ' || s[1] == '\0')) {
		*t = ATOM_TIME_NONE;
		*end = (char *)s + 1;
		return 0;
	}
	if (strncmp(s, "end", 3) == 0) {
		*t = ATOM_TIME_END;
		*end = (char *)s + 3;
		return 0;
	}
	*t = (int64_t)strtoll(s, end, 10);
	return *end == s ? -1 : 0;
}

/*
 * A producer's entry, against the stream's state now: *wm its promise,
 * *held_min the least event time of its atoms that may still be held
 * (ATOM_TIME_END: none).  -1 if TEXT is not an entry.
 */
int natswm_parse(const char *text, uint64_t first_seq, uint64_t msgs,
		 int64_t *wm, int64_t *held_min)
{
	const char *p = text;
	char *end;

	*held_min = ATOM_TIME_END;
	if (parse_time(p, &end, wm) < 0)
		return -1;
	for (p = end; *p == ' '; p = end) {
		uint64_t last = UINT64_MAX;
		int64_t tmin;
		p++;
		if (*p == '*')
			end = (char *)p + 1;
		else
			last = strtoull(p, &end, 10);
		if (end == p || *end != ':' || parse_time(end + 1, &end, &tmin) < 0)
			return -1;
		if (last == UINT64_MAX || held(last, first_seq, msgs))
			*held_min = least(*held_min, tmin);
	}
	return *p == '\0' ? 0 : -1;
}
