/* natswm: a producer's watermark entry, as it puts it and as a reader
 * evaluates it against the stream's first sequence (natswm.h). */
#include <string.h>

#include "natswm.h"
#include "tap.h"

#define S INT64_C(1000000000)

static struct atom timed(int64_t tmin, int64_t wm)
{
	struct atom a;

	memset(&a, 0, sizeof a);
	a.tmin = tmin;
	a.tmax = tmin;
	a.wm = wm;
	return a;
}

static void eval(const char *text, uint64_t first, uint64_t msgs,
		 int64_t *wm, int64_t *held)
{
	if (natswm_parse(text, first, msgs, wm, held) < 0)
		*wm = *held = -1;
}

static void test_segments(void)
{
	struct natswm w;
	struct atom a = timed(100 * S, 99 * S), b = timed(200 * S, 150 * S);
	char text[NATSWM_TEXT_MAX];
	int64_t wm, held;

	natswm_init(&w);
	natswm_format(&w, 0, text, sizeof text);
	ok(strcmp(text, "-") == 0, "nothing put: no watermark (%s)", text);
	natswm_put(&w, &a);
	natswm_settled(&w, 1, 1, 1);
	natswm_put(&w, &b);
	natswm_settled(&w, 1, 5, 5);
	natswm_format(&w, 0, text, sizeof text);
	ok(strcmp(text, "150000000000 1:100000000000 5:200000000000") == 0,
	   "two segments, each at the stream's last sequence then (%s)", text);
	eval(text, 1, 5, &wm, &held);
	ok(wm == 150 * S && held == 100 * S, "all held: the oldest event time");
	eval(text, 2, 4, &wm, &held);
	ok(held == 200 * S, "the first segment consumed: the next one's");
	eval(text, 6, 0, &wm, &held);
	ok(held == ATOM_TIME_END, "an empty stream holds nothing");
	natswm_settled(&w, 2, 5, 4);
	ok(w.nseg == 1 && w.seg[0].last_seq == 5, "a consumed segment is forgotten");
	natswm_format(&w, 1, text, sizeof text);
	ok(strcmp(text, "end 5:200000000000") == 0, "done: the promise is the end (%s)", text);
}

static void test_untimed_and_open(void)
{
	struct natswm w;
	struct atom a = timed(ATOM_TIME_NONE, ATOM_TIME_NONE);
	char text[NATSWM_TEXT_MAX];
	int64_t wm, held;

	natswm_init(&w);
	natswm_put(&w, &a);
	ok(!w.timed, "an atom without times makes no timed producer");
	natswm_format(&w, 1, text, sizeof text);
	ok(strcmp(text, "end *:-") == 0, "an unsettled atom is held whatever the stream (%s)", text);
	eval(text, 100, 0, &wm, &held);
	ok(held == ATOM_TIME_NONE, "an untimed atom held: unknown");
	natswm_settled(&w, 3, 3, 1);
	natswm_format(&w, 1, text, sizeof text);
	eval(text, 4, 0, &wm, &held);
	ok(wm == ATOM_TIME_END && held == ATOM_TIME_END, "consumed: end (%s)", text);
}

static void test_merge(void)
{
	struct natswm w;
	char text[NATSWM_TEXT_MAX];
	int64_t wm, held;

	natswm_init(&w);
	for (int i = 1; i <= NATSWM_SEGMENTS + 4; i++) {
		struct atom a = timed(i * S, (i - 1) * S);
		natswm_put(&w, &a);
		natswm_settled(&w, 1, (uint64_t)i, (uint64_t)i);
	}
	ok(w.nseg == NATSWM_SEGMENTS, "segments are bounded (%zu)", w.nseg);
	ok(w.seg[0].tmin == 1 * S && w.seg[NATSWM_SEGMENTS - 1].last_seq == NATSWM_SEGMENTS + 4,
	   "the newest merge; the oldest stay exact");
	/* the newest, 20, and the merged 15..19 (at 19, with 15's time) */
	natswm_format(&w, 0, text, sizeof text);
	eval(text, NATSWM_SEGMENTS + 1, 4, &wm, &held);
	ok(held == (NATSWM_SEGMENTS - 1) * S,
	   "a merged segment holds its least time until all of it is gone");
}

static void test_bad_text(void)
{
	int64_t wm, held;

	ok(natswm_parse("", 1, 1, &wm, &held) < 0, "empty: not an entry");
	ok(natswm_parse("12 x:3", 1, 1, &wm, &held) < 0, "a bad sequence");
	ok(natswm_parse("12 3:", 1, 1, &wm, &held) < 0, "a missing time");
	ok(natswm_parse("12 3:4 ", 1, 1, &wm, &held) < 0, "trailing blank");
	ok(natswm_parse("- 3:4", 1, 1, &wm, &held) == 0 && wm == ATOM_TIME_NONE && held == 4,
	   "an unknown promise");
}

int main(void)
{
	test_segments();
	test_untimed_and_open();
	test_merge();
	test_bad_text();
	return tap_done();
}
