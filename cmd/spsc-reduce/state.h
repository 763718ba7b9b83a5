/*
 * state: the keys of spsc-reduce and their open windows.
 *
 *   table   key -> group, open addressing with linear probing over
 *           pointers; a group holds its key's bytes once, whatever the
 *           number of its windows
 *   group   the key and the chain of its open windows
 *   win     one window of one key: [start, end), the aggregates' state
 *           after its header
 *   heap    open windows by END (libcommon/heap.h), so that a closing
 *           pass pops exactly the windows the watermark has passed;
 *           windows ending at ATOM_TIME_END (no window given) stay out of
 *           it, since only the end of input closes them, all at once
 *
 * A key costs its group (16 bytes + the key, in steps of 8), one table
 * slot (8 bytes, the table at most 70% full) and its windows; a window
 * costs 56 bytes + its aggregates' slots, and 8 bytes of heap.  A key
 * with no window left is forgotten.
 */
#ifndef SPSC_REDUCE_STATE_H
#define SPSC_REDUCE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "heap.h"
#include "pool.h"

#define NOT_IN_HEAP SIZE_MAX

struct win;

struct group {
	struct win *wins;	/* open windows, newest first */
	uint32_t hash;		/* low half of XXH3(key): the table's home */
	uint32_t keylen;
	char key[];
};

struct win {
	int64_t start, end;	/* [start, end); end is the heap key */
	size_t place;		/* in the heap, or NOT_IN_HEAP */
	struct win *next;	/* the key's next window */
	struct group *g;
	struct agg_state st;
	/* then the aggregates' slots: agg_set.slots bytes */
};

static inline void *win_slots(struct win *w)
{
	return w + 1;
}

struct state {
	const struct agg_set *aggs;
	struct pool pool;
	struct group **table;
	size_t cap, ngroups;
	struct heap heap;
	size_t nwins;
	size_t win_size;
};

int state_init(struct state *s, const struct agg_set *aggs);
void state_free(struct state *s);

struct group *state_find(struct state *s, const char *key, size_t len,
			 uint64_t hash);
struct group *state_add(struct state *s, const char *key, size_t len,
			uint64_t hash);
uint64_t state_hash(const char *key, size_t len);

struct win *state_win_new(struct state *s, struct group *g, int64_t start,
			  int64_t end);
void state_win_free(struct state *s, struct win *w);
void state_win_moved(struct state *s, struct win *w);

int state_closing(struct state *s, int64_t wm, struct win ***out,
		  size_t *cap, size_t *n);
size_t state_memory(const struct state *s);

#endif
