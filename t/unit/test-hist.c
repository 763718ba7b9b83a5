/* Unit tests for libcommon/hist: bucket layout, precision, percentiles,
 * weights and merging. */
#include <stdint.h>
#include <stdlib.h>

#include "hist.h"
#include "tap.h"

static struct hist h, g;

/* |got - want| <= want * tolerance */
static int near(uint64_t got, uint64_t want, double tolerance)
{
	double d = (double)got - (double)want;

	if (d < 0)
		d = -d;
	return d <= (double)want * tolerance;
}

static void test_layout(void)
{
	uint64_t lo, hi, prev_hi = 0;
	int contiguous = 1, contains = 1, narrow = 1;

	ok(hist_bucket_of(0) == 0, "0 has bucket 0");
	ok(hist_bucket_of(HIST_SUB - 1) == HIST_SUB - 1, "small values are exact");
	ok(hist_bucket_of(2 * HIST_SUB - 1) == 2 * HIST_SUB - 1,
	   "values below 2*HIST_SUB are exact too");
	ok(hist_bucket_of(UINT64_MAX) == HIST_BUCKETS - 1,
	   "UINT64_MAX has the last bucket");

	/* Buckets tile the whole range with no gap and no overlap. */
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		hist_bucket_range(b, &lo, &hi);
		if (b > 0 && lo != prev_hi + 1)
			contiguous = 0;
		if (hist_bucket_of(lo) != b || hist_bucket_of(hi) != b)
			contains = 0;
		if (lo >= HIST_SUB && (double)(hi - lo + 1) > (double)lo / HIST_SUB)
			narrow = 0;
		prev_hi = hi;
	}
	ok(contiguous, "buckets are contiguous");
	ok(contains, "each bucket's bounds map back to it");
	ok(narrow, "no bucket is wider than 1/HIST_SUB of its values");
	ok(prev_hi == UINT64_MAX, "the last bucket ends at UINT64_MAX");
}

static void test_empty(void)
{
	hist_init(&h);
	ok(hist_count(&h) == 0, "empty: count 0");
	ok(hist_percentile(&h, 50) == 0, "empty: p50 is 0");
	ok(hist_max(&h) == 0 && hist_min(&h) == 0, "empty: min and max are 0");
	ok(hist_mean(&h) == 0, "empty: mean is 0");
	hist_record(&h, 12345, 0);
	ok(hist_count(&h) == 0, "a zero weight records nothing");
}

static void test_single(void)
{
	hist_init(&h);
	hist_record(&h, 1234567, 1);
	ok(hist_percentile(&h, 50) == 1234567, "one value: p50 is exact (clamped)");
	ok(hist_percentile(&h, 99.9) == 1234567, "one value: p99.9 is exact");
	ok(hist_max(&h) == 1234567 && hist_min(&h) == 1234567, "one value: min, max");
}

/* 1..100000 us uniformly: each percentile is p% of the range, within the
 * promised relative error. */
static void test_uniform(void)
{
	int good = 1;

	hist_init(&h);
	for (uint64_t us = 1; us <= 100000; us++)
		hist_record(&h, us * 1000, 1);
	ok(hist_count(&h) == 100000, "uniform: count");
	ok(hist_max(&h) == 100000000, "uniform: max is exact");
	ok(hist_min(&h) == 1000, "uniform: min is exact");
	for (int p = 1; p < 100; p++)
		if (!near(hist_percentile(&h, p), (uint64_t)p * 1000000, 0.005))
			good = 0;
	ok(good, "uniform: p1..p99 within 0.5%%");
	ok(near(hist_percentile(&h, 99.9), 99900000, 0.005), "uniform: p99.9");
	ok(hist_percentile(&h, 100) == 100000000, "p100 is the max");
	ok(hist_percentile(&h, 0) == 1000, "p0 is the min");
	ok(hist_percentile(&h, 250) == 100000000, "p over 100 is the max");
	ok(near((uint64_t)hist_mean(&h), 50000500, 1e-9), "uniform: mean");
}

/* Latency is per event: an atom's latency counts once per event in it. */
static void test_weights(void)
{
	hist_init(&h);
	hist_record(&h, 1000000, 90);	/* 90 events at 1 ms */
	hist_record(&h, 50000000, 10);	/* 10 events at 50 ms */
	ok(hist_count(&h) == 100, "weights: count is the total weight");
	ok(near(hist_percentile(&h, 50), 1000000, 0.004), "weights: p50 is 1 ms");
	ok(near(hist_percentile(&h, 90), 1000000, 0.004), "weights: p90 is 1 ms");
	ok(near(hist_percentile(&h, 91), 50000000, 0.004), "weights: p91 is 50 ms");
	ok(near(hist_percentile(&h, 99), 50000000, 0.004), "weights: p99 is 50 ms");
}

/* Hours of nanoseconds, and the extremes of the type. */
static void test_range(void)
{
	uint64_t hour = UINT64_C(3600000000000);

	hist_init(&h);
	hist_record(&h, 3 * hour, 1);
	hist_record(&h, 3 * hour + 1, 1);
	ok(near(hist_percentile(&h, 50), 3 * hour, 0.004), "hours: within 0.4%%");
	hist_record(&h, UINT64_MAX, 1);
	hist_record(&h, 0, 1);
	ok(hist_max(&h) == UINT64_MAX, "UINT64_MAX is recorded");
	ok(hist_percentile(&h, 100) == UINT64_MAX, "p100 of UINT64_MAX");
	ok(hist_percentile(&h, 1) == 0, "0 is recorded");
}

static void test_merge(void)
{
	struct hist *both = malloc(sizeof *both);
	int same = 1;

	if (both == NULL)
		abort();
	hist_init(&h);
	hist_init(&g);
	hist_init(both);
	for (uint64_t v = 1; v <= 5000; v++) {
		hist_record(v % 2 ? &h : &g, v * 7919, v % 3 + 1);
		hist_record(both, v * 7919, v % 3 + 1);
	}
	hist_merge(&h, &g);
	ok(hist_count(&h) == hist_count(both), "merge: counts add");
	ok(hist_min(&h) == hist_min(both) && hist_max(&h) == hist_max(both),
	   "merge: min and max");
	for (int p = 0; p <= 100; p++)
		if (hist_percentile(&h, p) != hist_percentile(both, p))
			same = 0;
	ok(same, "merge: same percentiles as recording everything in one");
	hist_init(&g);
	hist_merge(&h, &g);
	ok(hist_count(&h) == hist_count(both), "merging an empty one changes nothing");
	hist_init(&g);
	hist_merge(&g, &h);
	ok(hist_min(&g) == hist_min(both), "merging into an empty one keeps min");
	free(both);
}

int main(void)
{
	test_layout();
	test_empty();
	test_single();
	test_uniform();
	test_weights();
	test_range();
	test_merge();
	return tap_done();
}
