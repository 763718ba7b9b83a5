/*
 * shuffle: the routing of spsc-shuffle, apart from its options.
 *
 * One input atom becomes at most one atom per output: its events with the
 * key of that partition (or every event, --broadcast; or the whole atom,
 * --round-robin), in their order.  Output ids derive from the input id and
 * the partition, so a redelivered input makes the same atoms again and the
 * coordinator's PUT de-duplication (or a sink's) absorbs them.
 */
#ifndef SPSC_SHUFFLE_H
#define SPSC_SHUFFLE_H

#include <stdint.h>

#include "atom.h"
#include "deadletter.h"
#include "endpoint.h"
#include "key.h"

enum route_mode { ROUTE_KEY, ROUTE_BROADCAST, ROUTE_SPREAD };

struct shuffle {
	enum route_mode mode;
	struct key_spec key;
	struct key_buf kb;
	uint64_t salt;
	uint32_t n;
	struct endpoint *out;	/* n outputs */
	struct lazy_output dlq;	/* used with --on-error dlq */
	struct atom *part;	/* n atoms being filled */
	struct bad_events bad;	/* events with no usable key */
	int64_t wm_out;		/* promised downstream so far (atom_wm_pass) */
	/* totals, for the summary at exit */
	uint64_t atoms, events, written;
	char err[700];
};

int shuffle_init(struct shuffle *s, uint32_t n);
int shuffle_atom(struct shuffle *s, const struct atom *in, int64_t in_wm);
void shuffle_free(struct shuffle *s);

#endif
