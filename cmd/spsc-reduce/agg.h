/*
 * agg: the aggregates of spsc-reduce, each a fixed-size state in a window.
 *
 *   count         events                     no state (the window counts)
 *   sum:F         int64 while exact, double  8 bytes
 *   mean:F        sum:F / count              8 bytes
 *   min:F, max:F  a double                   8 bytes
 *   first:F       the value's text           32 bytes + the text
 *   last:F        the value's text           32 bytes + the text
 *   distinct:F    128-bit XXH3 digests       8 bytes + 16 to 32 per value
 *
 * Every event applied to a window is applied to all of its aggregates (an
 * event with a bad value is an event error and reaches none), so a
 * window's count is every aggregate's count: min and max need no "unset"
 * mark, mean needs no count of its own.
 */
#ifndef SPSC_REDUCE_AGG_H
#define SPSC_REDUCE_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "atom.h"
#include "key.h"

/* Each sum and mean has a bit in agg_state.flags. */
#define AGGS_MAX 32

enum agg_kind {
	AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_MEAN, AGG_FIRST, AGG_LAST,
	AGG_DISTINCT,
};

struct agg {
	enum agg_kind kind;
	const char *text;	/* as given: "sum:.price", a JSON member name */
	struct key_spec field;	/* the value's field (not for count) */
	size_t off;		/* where its state is among a window's slots */
};

struct agg_set {
	struct agg v[AGGS_MAX];
	size_t n;
	size_t slots;		/* bytes of aggregate state per window */
	int by_time;		/* first/last by event time, then arrival */
};

/* The window-wide part of the state; the slots follow it in memory. */
struct agg_state {
	uint64_t count;		/* events applied */
	uint32_t flags;		/* bit i: aggregate i's sum is a double */
	uint32_t spare;
};

/* One event's value for one aggregate: its text (into the event, or a
 * key_buf) and, for the numeric kinds, the number. */
struct agg_value {
	const char *p;
	size_t len;
	double d;
	int64_t i;
	int is_int;		/* -?[0-9]+ that fits an int64 */
};

/* Where an event stands, for first and last. */
struct agg_when {
	int64_t t;
	uint64_t seq;		/* arrival order */
};

struct ser_out;
struct ser_in;

int agg_set_parse(struct agg_set *s, char **texts, int n, const char *sep,
		  int by_time, char *err, size_t errlen);
void agg_set_free(struct agg_set *s);
void agg_set_describe(const struct agg_set *s, char *buf, size_t len);

int agg_value_parse(const struct agg *a, struct agg_value *v, char *why,
		    size_t whylen);

void agg_init(const struct agg_set *s, struct agg_state *st, void *slots);
int agg_update(const struct agg_set *s, struct agg_state *st, void *slots,
	       const struct agg_value *vals, struct agg_when when);
int agg_merge(const struct agg_set *s, struct agg_state *st, void *slots,
	      struct agg_state *from, void *from_slots);
void agg_release(const struct agg_set *s, void *slots);

size_t agg_text_bound(const struct agg_set *s, const void *slots);
char *agg_format(const struct agg_set *s, size_t i,
		 const struct agg_state *st, const void *slots, int json,
		 char *p);

int agg_save(const struct agg_set *s, const struct agg_state *st,
	     const void *slots, struct ser_out *o);
int agg_load(const struct agg_set *s, struct agg_state *st, void *slots,
	     struct ser_in *in);

char *fmt_double(double v, int json, char *p);
char *fmt_text(const char *s, size_t len, int json, char *p);
size_t fmt_text_bound(size_t len, int json);
void quote_value(const char *p, size_t len, char *buf, size_t size);

#endif
