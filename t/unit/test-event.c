/* Event iteration: the one loop every stage runs over every atom. */
#include <string.h>

#include "event.h"
#include "tap.h"

#define MAX_EVENTS 16

struct walk {
	size_t n;
	const char *ev[MAX_EVENTS];
	size_t len[MAX_EVENTS];
};

/* Walks a buffer of exactly len bytes and records every event. */
static void walk(const char *buf, size_t len, struct walk *w)
{
	struct event_iter it;
	const char *ev;
	size_t n;

	memset(w, 0, sizeof *w);
	event_iter_init(&it, buf, len);
	while (w->n < MAX_EVENTS && event_next(&it, &ev, &n)) {
		w->ev[w->n] = ev;
		w->len[w->n] = n;
		w->n++;
	}
}

static int event_is(const struct walk *w, size_t i, const char *want,
		    size_t wantlen)
{
	return i < w->n && w->len[i] == wantlen &&
	       memcmp(w->ev[i], want, wantlen) == 0;
}

static void test_iteration(void)
{
	static const char two[] = "alpha\nbeta\n";
	static const char tail[] = "alpha\nbeta";
	static const char blank[] = "\n\n";
	static const char nul[] = "a\0b\nc\0\n";
	static const char cr[] = "dos\r\nunix\n";
	struct walk w;

	walk(two, 11, &w);
	ok(w.n == 2 && event_is(&w, 0, "alpha\n", 6) &&
		   event_is(&w, 1, "beta\n", 5),
	   "events include their newline");
	ok(w.ev[0] == two && w.ev[1] == two + 6, "events point into the buffer");

	walk(tail, 10, &w);
	ok(w.n == 2 && event_is(&w, 1, "beta", 4),
	   "a last event without a newline is returned as it is");

	walk("", 0, &w);
	ok(w.n == 0, "an empty buffer has no events");
	walk(NULL, 0, &w);
	ok(w.n == 0, "a NULL buffer of length 0 has no events");

	walk(blank, 2, &w);
	ok(w.n == 2 && event_is(&w, 0, "\n", 1) && event_is(&w, 1, "\n", 1),
	   "empty events are events");

	walk(nul, 7, &w);
	ok(w.n == 2 && event_is(&w, 0, "a\0b\n", 4) &&
		   event_is(&w, 1, "c\0\n", 3),
	   "NUL bytes are ordinary bytes");

	walk(cr, 10, &w);
	ok(w.n == 2 && event_is(&w, 0, "dos\r\n", 5),
	   "\\r stays part of the event");

	walk("x", 1, &w);
	ok(w.n == 1 && event_is(&w, 0, "x", 1), "one byte, no newline");
}

static void test_count(void)
{
	ok(event_count("a\nb\nc\n", 6) == 3, "count whole events");
	ok(event_count("a\nb\nc", 5) == 2, "a torn last event is not counted");
	ok(event_count("", 0) == 0, "count of nothing");
	ok(event_count("\n\n\n", 3) == 3, "empty events count");
	ok(event_count("a\0\nb\0", 5) == 1, "NULs do not end events");
}

static void test_last_end(void)
{
	ok(event_last_end("a\nb\nc", 5) == 4, "cut before a torn event");
	ok(event_last_end("a\nb\n", 4) == 4, "everything when it ends whole");
	ok(event_last_end("abc", 3) == 0, "nothing whole yet");
	ok(event_last_end("", 0) == 0, "empty");
	ok(event_last_end("\n", 1) == 1, "one empty event");
}

/* A big buffer: the iterator and the counter agree, and the events tile
 * the buffer exactly. */
static void test_big(void)
{
	static char buf[1 << 16];
	struct event_iter it;
	const char *ev, *expect = buf;
	size_t n, count = 0, i;
	int tiled = 1;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = (i * 7919) % 97 == 0 ? '\n' : (char)('a' + i % 26);
	event_iter_init(&it, buf, sizeof buf);
	while (event_next(&it, &ev, &n)) {
		tiled &= ev == expect && n > 0;
		expect = ev + n;
		count++;
	}
	ok(tiled && expect == buf + sizeof buf, "events tile the buffer");
	ok(count == event_count(buf, sizeof buf) +
			    (buf[sizeof buf - 1] != '\n'),
	   "iteration and event_count agree (%zu)", count);
}

int main(void)
{
	test_iteration();
	test_count();
	test_last_end();
	test_big();
	return tap_done();
}
