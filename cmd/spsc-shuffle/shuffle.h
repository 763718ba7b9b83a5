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
#include "endpoint.h"
#include "key.h"

enum route_mode { ROUTE_KEY, ROUTE_BROADCAST, ROUTE_SPREAD };
enum on_error { ON_ERROR_DLQ, ON_ERROR_SKIP, ON_ERROR_FAIL };

/* The dead-letter atom's ordinal among an input's children: past every
 * partition number. */
#define DLQ_ORDINAL 0xFFFFFFFFu

struct shuffle {
	enum route_mode mode;
	enum on_error on_error;
	struct key_spec key;
	struct key_buf kb;
	uint64_t salt;
	uint32_t n;
	struct endpoint *out;	/* n outputs */
	/* The dead-letter output, opened when the first bad event comes, so
	 * that a clean run leaves no empty file or queue behind. */
	const char *dlq_spec;	/* NULL unless --on-error dlq */
	const struct endpoint_opts *eo;
	struct endpoint dlq;
	int dlq_open;
	struct atom *part;	/* n atoms being filled */
	struct atom bad;	/* events with no usable key */
	uint32_t bad_in_atom;	/* of the input atom in hand */
	/* totals, for the summary at exit */
	uint64_t atoms, events, bad_events, written;
	char err[700];
};

int shuffle_init(struct shuffle *s, uint32_t n);
int shuffle_atom(struct shuffle *s, const struct atom *in);
void shuffle_free(struct shuffle *s);

#endif
