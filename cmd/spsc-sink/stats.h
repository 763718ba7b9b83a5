/*
 * stats: what spsc-sink --stats reports at exit.  spsc-sink(1) documents
 * the text line and the JSON keys under STATISTICS.
 */
#ifndef SPSC_SINK_STATS_H
#define SPSC_SINK_STATS_H

#include <stdint.h>

#include "atom.h"
#include "hist.h"

struct stats {
	uint64_t atoms, events, bytes, duplicates;
	int64_t first_ns, last_ns;	/* monotonic: the active period */
	struct hist latency;		/* ns, one sample per event */
};

void stats_init(struct stats *s);
void stats_arrived(struct stats *s);
void stats_written(struct stats *s, const struct atom *a);
void stats_duplicate(struct stats *s);
void stats_print(const struct stats *s, int json);

#endif
