/*
 * stamp: event time on the source's atoms (--time FIELD, --lateness).
 *
 * With --time, every atom carries the least and greatest event time of
 * its events and the source's watermark: the greatest event time read so
 * far, less the lateness allowed.  That is a promise about the atoms that
 * follow, kept by the data when its disorder stays within the lateness;
 * queues and keyed stages downstream close windows on it (spsc(7)).
 * The stamps depend only on the input and its order, so a rerun stamps the
 * same atoms the same way.
 *
 * An event without a usable time does not move anything: it is counted,
 * and reported once at the end.
 */
#ifndef SPSC_SOURCE_STAMP_H
#define SPSC_SOURCE_STAMP_H

#include <stdint.h>

#include "atom.h"
#include "key.h"

struct stamp {
	int on;
	struct key_spec field;
	struct key_buf buf;
	int64_t lateness_ns;
	int64_t max_seen;	/* ATOM_TIME_NONE until a time was read */
	uint64_t bad;		/* events without a usable time */
	char first_err[256];	/* why the first of them had none */
};

int stamp_init(struct stamp *st, const char *field, const char *sep,
	       int64_t lateness_ns, char *err, size_t errlen);
void stamp_atom(struct stamp *st, struct atom *a);
void stamp_report(const struct stamp *st, const char *field);
void stamp_free(struct stamp *st);

#endif
