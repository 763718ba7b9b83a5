#include <string.h>

#include "hist.h"

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

/*
 * Values below HIST_SUB get a bucket each.  Above, a value whose highest set
 * bit is bit HIST_SUB_BITS + shift keeps its top HIST_SUB_BITS + 1 bits: the
 * group says the shift, the index within the group the bits below the top
 * one.  The layout is contiguous, so [HIST_SUB, 2 * HIST_SUB) is also exact.
 */
unsigned hist_bucket_of(uint64_t value)
{
	unsigned msb, shift;

	if (value < HIST_SUB)
		return (unsigned)value;
	msb = 63u - (unsigned)__builtin_clzll(value);
	shift = msb - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned)((value >> shift) - HIST_SUB);
}

void hist_bucket_range(unsigned bucket, uint64_t *lo, uint64_t *hi)
{
	unsigned group = bucket / HIST_SUB, sub = bucket % HIST_SUB, shift;

	if (group == 0) {
		*lo = *hi = bucket;
		return;
	}
	shift = group - 1;
	*lo = (uint64_t)(HIST_SUB + sub) << shift;
	*hi = *lo + ((UINT64_C(1) << shift) - 1);
}

void hist_record(struct hist *h, uint64_t value, uint64_t count)
{
	if (count == 0)
		return;
	h->bucket[hist_bucket_of(value)] += count;
	h->count += count;
	h->sum += (double)value * (double)count;
	if (value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	if (from->count == 0)
		return;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

/*
 * The value below which p percent of the recorded weight lies (nearest
 * rank: the smallest value whose cumulative weight reaches p% of the total).
 * p is clamped to [0, 100]; 0 gives the minimum, 100 the maximum, and an
 * empty histogram gives 0.
 */
uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0, lo, hi, mid;
	double want;

	if (h->count == 0)
		return 0;
	if (!(p > 0))
		return h->min;
	if (p >= 100)
		return h->max;
	/* ceil() by hand, so the library needs no libm */
	want = p / 100.0 * (double)h->count;
	rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen < rank)
			continue;
		hist_bucket_range(i, &lo, &hi);
		mid = lo + (hi - lo) / 2;
		if (mid < h->min)
			mid = h->min;
		if (mid > h->max)
			mid = h->max;
		return mid;
	}
	return h->max;	/* not reached: the buckets sum to count */
}

uint64_t hist_max(const struct hist *h)
{
	return h->count ? h->max : 0;
}

uint64_t hist_min(const struct hist *h)
{
	return h->count ? h->min : 0;
}

uint64_t hist_count(const struct hist *h)
{
	return h->count;
}

double hist_mean(const struct hist *h)
{
	return h->count ? h->sum / (double)h->count : 0;
}
