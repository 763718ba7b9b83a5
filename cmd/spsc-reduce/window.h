/*
 * window: which windows an event belongs to, and whether it is late.
 *
 * All windows are aligned to the Unix epoch:
 *   none              one per key, [ATOM_TIME_NONE, ATOM_TIME_END)
 *   tumbling SIZE     [floor(t/SIZE)*SIZE, +SIZE)
 *   sliding SIZE/SLIDE  every [k*SLIDE, k*SLIDE+SIZE) that holds t
 *   session GAP       [t, t+GAP), merged with every open session of the
 *                     key that it overlaps; END is the last event + GAP
 *
 * A window whose END is at or below the watermark is closed, even while
 * it waits in the state for the closing pass that emits it: an event gets
 * only the windows that are still open, and is late if it gets none.
 */
#ifndef SPSC_REDUCE_WINDOW_H
#define SPSC_REDUCE_WINDOW_H

#include <stdint.h>

#include "agg.h"
#include "state.h"

enum win_kind { WIN_NONE, WIN_TUMBLING, WIN_SLIDING, WIN_SESSION };

struct window_spec {
	enum win_kind kind;
	int64_t size, slide, gap;
};

/* One event, as window_apply takes it. */
struct window_event {
	const char *key;
	size_t keylen;
	uint64_t hash;		/* state_hash(key) */
	int64_t t;
	const struct agg_value *vals;
	uint64_t seq;
};

int window_apply(struct state *s, const struct window_spec *ws,
		 const struct window_event *ev, int64_t wm);
void window_describe(const struct window_spec *ws, char *buf, size_t len);
int64_t window_resume(const struct window_spec *ws, int64_t t);

#endif
