/*
 * event: walking the events of an atom.  An event is a byte string ending in
 * '\n'; lines are found with memchr and nothing is allocated.
 */
#ifndef SPSC_EVENT_H
#define SPSC_EVENT_H

#include <stddef.h>
#include <string.h>

struct event_iter {
	const char *p;
	const char *end;
};

static inline void event_iter_init(struct event_iter *it, const char *buf,
				   size_t len)
{
	it->p = buf;
	it->end = buf ? buf + len : buf;	/* NULL + 0 is undefined in C */
}

/*
 * Sets *ev and *len (the '\n' included) to the next event and returns 1, or
 * returns 0 at the end.  A last event with no '\n' is returned as it is;
 * callers that own the bytes add the newline (see event_complete).
 */
static inline int event_next(struct event_iter *it, const char **ev,
			     size_t *len)
{
	const char *nl;

	if (it->p >= it->end)
		return 0;
	nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	*ev = it->p;
	it->p = nl ? nl + 1 : it->end;
	*len = (size_t)(it->p - *ev);
	return 1;
}

size_t event_count(const char *buf, size_t len);
size_t event_last_end(const char *buf, size_t len);

#endif
