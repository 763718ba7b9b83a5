/*
 * hist: a latency histogram with bounded memory and bounded relative error.
 *
 * Buckets are log-linear, as in HdrHistogram: every power of two is split
 * into HIST_SUB equal buckets, so a bucket is never wider than 1/HIST_SUB
 * (0.8%) of the values it holds, from 1 ns to the whole uint64_t range
 * (584 years), in a fixed HIST_BUCKETS counters.  Values below HIST_SUB are
 * exact.  A percentile is reported as the middle of its bucket, clamped to
 * the exact minimum and maximum, so it is within 0.4% of a recorded value.
 *
 * The struct holds its counters inline (about 58 KiB) and allocates
 * nothing: declare it static or inside something allocated once.  Values
 * are nanoseconds by convention, but nothing here depends on the unit.
 */
#ifndef SPSC_HIST_H
#define SPSC_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
/* One bucket group per possible shift of a 64-bit value, plus the exact
 * values below HIST_SUB. */
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count;		/* total weight recorded */
	uint64_t min, max;	/* exact; min is UINT64_MAX while empty */
	double sum;		/* weighted sum, for the mean */
	uint64_t bucket[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t value, uint64_t count);
void hist_merge(struct hist *into, const struct hist *from);
uint64_t hist_percentile(const struct hist *h, double p);
uint64_t hist_max(const struct hist *h);
uint64_t hist_min(const struct hist *h);
uint64_t hist_count(const struct hist *h);
double hist_mean(const struct hist *h);

/* The bucket machinery, exposed for tests and for callers that export
 * histograms: a value's bucket and the range [lo, hi] a bucket covers. */
unsigned hist_bucket_of(uint64_t value);
void hist_bucket_range(unsigned bucket, uint64_t *lo, uint64_t *hi);

#endif
