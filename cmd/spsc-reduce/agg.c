#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "agg.h"
#include "ser.h"

/* Longest number text read with strtod; longer is not a number anyone
 * writes. */
#define NUMBER_MAX 128

/* first and last: the value's text and where its event stands.  The text
 * has a capacity so that last:F, replaced by nearly every event, only
 * allocates when a value is longer than any before it. */
struct pick {
	int64_t t;
	uint64_t seq;
	char *p;
	uint32_t len, cap;
};

/* distinct: a set of 128-bit digests, open addressing, at most half
 * full.  The all-zero digest marks a free slot and is kept aside. */
struct digest {
	uint64_t lo, hi;
};

struct dset {
	uint32_t n, cap;	/* non-zero digests held; slots, a power of 2 */
	uint32_t has_zero;
	uint32_t spare;
	struct digest v[];
};

#define DSET_MIN 4

union num {
	int64_t i;
	double d;
};

static const struct {
	const char *name;
	enum agg_kind kind;
	size_t size;
} kinds[] = {
	{ "count", AGG_COUNT, 0 },
	{ "sum", AGG_SUM, sizeof(union num) },
	{ "min", AGG_MIN, sizeof(union num) },
	{ "max", AGG_MAX, sizeof(union num) },
	{ "mean", AGG_MEAN, sizeof(union num) },
	{ "first", AGG_FIRST, sizeof(struct pick) },
	{ "last", AGG_LAST, sizeof(struct pick) },
	{ "distinct", AGG_DISTINCT, sizeof(struct dset *) },
};

#define NKINDS (sizeof kinds / sizeof kinds[0])
#define AGG_LIST "count, sum:F, min:F, max:F, mean:F, first:F, last:F or distinct:F"

static int parse_one(struct agg *a, const char *text, const char *sep,
		     char *err, size_t errlen)
{
	const char *colon = strchr(text, ':');
	size_t nlen = colon ? (size_t)(colon - text) : strlen(text);
	size_t k;
	char why[400];

	for (k = 0; k < NKINDS; k++)
		if (strlen(kinds[k].name) == nlen &&
		    memcmp(kinds[k].name, text, nlen) == 0)
			break;
	if (k == NKINDS) {
		snprintf(err, errlen, "'%s' is not an aggregate (%s)", text, AGG_LIST);
		return -1;
	}
	a->kind = kinds[k].kind;
	a->text = text;
	if (a->kind == AGG_COUNT) {
		if (colon) {
			snprintf(err, errlen, "'%s': count takes no field", text);
			return -1;
		}
		return 0;
	}
	if (colon == NULL || colon[1] == '\0') {
		snprintf(err, errlen,
			 "'%s' needs a field: %s:F, with F a field number or a JSON path (%s:3, %s:.price)",
			 text, kinds[k].name, kinds[k].name, kinds[k].name);
		return -1;
	}
	if (key_spec_parse(&a->field, colon + 1, sep, why, sizeof why) < 0) {
		snprintf(err, errlen, "'%s': %s", text, why);
		return -1;
	}
	return 0;
}

/* The aggregates from the command line, in their order.  0, or -1 with a
 * message for opt_usage_error. */
int agg_set_parse(struct agg_set *s, char **texts, int n, const char *sep,
		  int by_time, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->by_time = by_time;
	if (n > AGGS_MAX) {
		snprintf(err, errlen, "at most %d aggregates, not %d", AGGS_MAX, n);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct agg *a = &s->v[i];
		if (parse_one(a, texts[i], sep, err, errlen) < 0) {
			agg_set_free(s);
			return -1;
		}
		s->n++;
		a->off = s->slots;
		for (size_t k = 0; k < NKINDS; k++)
			if (kinds[k].kind == a->kind)
				s->slots += kinds[k].size;
	}
	return 0;
}

void agg_set_free(struct agg_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].kind != AGG_COUNT)
			key_spec_free(&s->v[i].field);
	s->n = 0;
}

/* The aggregates as a checkpoint's options record them. */
void agg_set_describe(const struct agg_set *s, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n && at < len; i++) {
		int k = snprintf(buf + at, len - at, "%s%s", i ? "," : "", s->v[i].text);
		if (k < 0)
			break;
		at += (size_t)k;
	}
}

/* For messages: at most about 40 bytes of a value, control bytes shown
 * as '?', so that one bad event makes one readable log line. */
void quote_value(const char *p, size_t len, char *buf, size_t size)
{
	size_t n = len > 40 ? 40 : len, i;

	if (size < 4)
		return;
	if (n > size - 4)
		n = size - 4;
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i];
	if (n < len)
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
}

/* -?[0-9]+ that fits: the exact integers a sum keeps as an int64. */
static int parse_int(const char *p, size_t len, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	uint64_t v = 0, limit;

	if (len > 0 && p[0] == '-')
		neg = 1, i = 1;
	if (i == len || len - i > 19)
		return -1;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');	/* 19 digits fit */
		if (v > limit)
			return -1;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/*
 * strtod over the whole text, finite: what C and awk programmers expect
 * a number to be.  Hexadecimal floats are refused although strtod takes
 * them: "0x10" in a data file is an identifier far more often than 16.
 */
static int parse_double(const char *p, size_t len, double *out)
{
	char buf[NUMBER_MAX + 1], *end;

	if (len == 0 || len > NUMBER_MAX || memchr(p, 'x', len) ||
	    memchr(p, 'X', len))
		return -1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	*out = strtod(buf, &end);
	return end == buf + len && isfinite(*out) ? 0 : -1;
}

/* Reads the number in v's text for the numeric aggregates; the others
 * take the text as it is.  0, or -1 with why. */
int agg_value_parse(const struct agg *a, struct agg_value *v, char *why,
		    size_t whylen)
{
	char q[64];

	v->is_int = 0;
	if (a->kind != AGG_SUM && a->kind != AGG_MEAN && a->kind != AGG_MIN &&
	    a->kind != AGG_MAX)
		return 0;
	if (parse_int(v->p, v->len, &v->i) == 0) {
		v->is_int = 1;
		v->d = (double)v->i;
		return 0;
	}
	if (parse_double(v->p, v->len, &v->d) == 0)
		return 0;
	quote_value(v->p, v->len, q, sizeof q);
	snprintf(why, whylen, "%s: '%s' is not a number", a->text, q);
	return -1;
}

void agg_init(const struct agg_set *s, struct agg_state *st, void *slots)
{
	st->count = 0;
	st->flags = 0;
	st->spare = 0;
	memset(slots, 0, s->slots);
}

static int before(const struct agg_set *s, struct agg_when a, struct agg_when b)
{
	if (s->by_time && a.t != b.t)
		return a.t < b.t;
	return a.seq < b.seq;
}

static int pick_set(struct pick *pk, const struct agg_value *v,
		    struct agg_when when)
{
	if (v->len > pk->cap) {
		size_t cap = v->len < 16 ? 16 : v->len;
		char *p = realloc(pk->p, cap);
		if (p == NULL)
			return -1;
		pk->p = p;
		pk->cap = (uint32_t)cap;
	}
	if (v->len)
		memcpy(pk->p, v->p, v->len);
	pk->len = (uint32_t)v->len;
	pk->t = when.t;
	pk->seq = when.seq;
	return 0;
}

static struct agg_when pick_when(const struct pick *pk)
{
	struct agg_when w = { pk->t, pk->seq };

	return w;
}

static int is_zero(struct digest d)
{
	return d.lo == 0 && d.hi == 0;
}

static struct digest *dset_probe(struct dset *set, struct digest d)
{
	size_t mask = set->cap - 1, i = (size_t)d.lo & mask;

	while (!is_zero(set->v[i]) && (set->v[i].lo != d.lo || set->v[i].hi != d.hi))
		i = (i + 1) & mask;
	return &set->v[i];
}

static int dset_grow(struct dset **ps)
{
	struct dset *old = *ps, *set;
	uint32_t cap = old ? old->cap * 2 : DSET_MIN;

	set = calloc(1, sizeof *set + cap * sizeof set->v[0]);
	if (set == NULL)
		return -1;
	set->cap = cap;
	if (old) {
		set->has_zero = old->has_zero;
		for (uint32_t i = 0; i < old->cap; i++)
			if (!is_zero(old->v[i])) {
				*dset_probe(set, old->v[i]) = old->v[i];
				set->n++;
			}
		free(old);
	}
	*ps = set;
	return 0;
}

static int dset_add(struct dset **ps, struct digest d)
{
	struct digest *slot;

	if (*ps == NULL || (is_zero(d) ? 0 : ((*ps)->n + 1) * 2 > (*ps)->cap))
		if (dset_grow(ps) < 0)
			return -1;
	if (is_zero(d)) {
		(*ps)->has_zero = 1;
		return 0;
	}
	slot = dset_probe(*ps, d);
	if (is_zero(*slot)) {
		*slot = d;
		(*ps)->n++;
	}
	return 0;
}

static uint64_t dset_count(const struct dset *set)
{
	return set ? set->n + set->has_zero : 0;
}

static struct digest digest_of(const char *p, size_t len)
{
	XXH128_hash_t h = XXH3_128bits(p, len);
	struct digest d = { h.low64, h.high64 };

	return d;
}

static void sum_add(struct agg_state *st, size_t i, union num *n, int is_int,
		    int64_t iv, double dv)
{
	uint32_t bit = UINT32_C(1) << i;
	int64_t r;

	if (!(st->flags & bit)) {
		if (is_int && !__builtin_add_overflow(n->i, iv, &r)) {
			n->i = r;
			return;
		}
		st->flags |= bit;
		n->d = (double)n->i + dv;
		return;
	}
	n->d += dv;
}

/* Applies one event's values (vals[i] for aggregate i) to a window.
 * -1: out of memory, with the window unchanged but for its aggregates
 * before i (the caller gives up on the stage then). */
int agg_update(const struct agg_set *s, struct agg_state *st, void *slots,
	       const struct agg_value *vals, struct agg_when when)
{
	unsigned char *b = slots;

	for (size_t i = 0; i < s->n; i++) {
		const struct agg *a = &s->v[i];
		const struct agg_value *v = &vals[i];
		union num *n = (union num *)(b + a->off);
		struct pick *pk = (struct pick *)(b + a->off);

		switch (a->kind) {
		case AGG_COUNT:
			break;
		case AGG_SUM:
		case AGG_MEAN:
			sum_add(st, i, n, v->is_int, v->i, v->d);
			break;
		case AGG_MIN:
			if (st->count == 0 || v->d < n->d)
				n->d = v->d;
			break;
		case AGG_MAX:
			if (st->count == 0 || v->d > n->d)
				n->d = v->d;
			break;
		case AGG_FIRST:
			if ((st->count == 0 || before(s, when, pick_when(pk))) &&
			    pick_set(pk, v, when) < 0)
				return -1;
			break;
		case AGG_LAST:
			if ((st->count == 0 || before(s, pick_when(pk), when)) &&
			    pick_set(pk, v, when) < 0)
				return -1;
			break;
		case AGG_DISTINCT:
			if (dset_add((struct dset **)(b + a->off),
				     digest_of(v->p, v->len)) < 0)
				return -1;
			break;
		}
	}
	st->count++;
	return 0;
}

static int merge_sum(struct agg_state *st, size_t i, union num *n,
		     const struct agg_state *from, const union num *fn)
{
	uint32_t bit = UINT32_C(1) << i;

	if (from->flags & bit)
		sum_add(st, i, n, 0, 0, fn->d);
	else
		sum_add(st, i, n, 1, fn->i, (double)fn->i);
	return 0;
}

/*
 * Folds the window from into st (two sessions that an event joined).
 * What from owned that st now needs is moved, not copied; from is left
 * to be released.  -1: out of memory.
 */
int agg_merge(const struct agg_set *s, struct agg_state *st, void *slots,
	      struct agg_state *from, void *from_slots)
{
	unsigned char *b = slots, *fb = from_slots;

	for (size_t i = 0; i < s->n; i++) {
		const struct agg *a = &s->v[i];
		union num *n = (union num *)(b + a->off);
		union num *fn = (union num *)(fb + a->off);
		struct pick *pk = (struct pick *)(b + a->off);
		struct pick *fpk = (struct pick *)(fb + a->off), tmp;
		struct dset *fset;

		switch (a->kind) {
		case AGG_COUNT:
			break;
		case AGG_SUM:
		case AGG_MEAN:
			merge_sum(st, i, n, from, fn);
			break;
		case AGG_MIN:
			if (fn->d < n->d)
				n->d = fn->d;
			break;
		case AGG_MAX:
			if (fn->d > n->d)
				n->d = fn->d;
			break;
		case AGG_FIRST:
		case AGG_LAST:
			if (a->kind == AGG_FIRST ? before(s, pick_when(fpk), pick_when(pk))
						 : before(s, pick_when(pk), pick_when(fpk))) {
				tmp = *pk;
				*pk = *fpk;
				*fpk = tmp;
			}
			break;
		case AGG_DISTINCT:
			memcpy(&fset, fb + a->off, sizeof fset);
			for (uint32_t k = 0; fset && k < fset->cap; k++)
				if (!is_zero(fset->v[k]) &&
				    dset_add((struct dset **)(b + a->off), fset->v[k]) < 0)
					return -1;
			if (fset && fset->has_zero &&
			    dset_add((struct dset **)(b + a->off), (struct digest){ 0, 0 }) < 0)
				return -1;
			break;
		}
	}
	st->count += from->count;
	return 0;
}

/* Frees what a window's aggregates own (first/last texts, distinct sets). */
void agg_release(const struct agg_set *s, void *slots)
{
	unsigned char *b = slots;

	for (size_t i = 0; i < s->n; i++) {
		const struct agg *a = &s->v[i];
		struct dset *set;

		if (a->kind == AGG_FIRST || a->kind == AGG_LAST) {
			free(((struct pick *)(b + a->off))->p);
		} else if (a->kind == AGG_DISTINCT) {
			memcpy(&set, b + a->off, sizeof set);
			free(set);
		}
	}
}

/* --- formatting ------------------------------------------------------ */

/* Integral and below 2^53: an integer ("3", not "3.0"); else the shortest
 * of %.15g, %.16g and %.17g that reads back as the same double.  JSON has
 * no infinity (a sum can overflow to it): null there. */
char *fmt_double(double v, int json, char *p)
{
	char buf[40];

	if (!isfinite(v))
		return p + sprintf(p, "%s", json ? "null" : v > 0 ? "inf" : "-inf");
	if (v == trunc(v) && fabs(v) < 9007199254740992.0)
		return p + sprintf(p, "%lld", (long long)v);
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			break;
	}
	return p + sprintf(p, "%s", buf);
}

/* The most bytes fmt_text writes for a text of len bytes. */
size_t fmt_text_bound(size_t len, int json)
{
	return json ? 6 * len + 2 : 2 * len;
}

/*
 * A key or a first/last value.  TSV: the bytes as they are, but a tab or
 * a newline, which would break the line into other fields or results,
 * written as \t or \n.  JSON: a string, with what JSON must escape
 * escaped; bytes from 0x80 pass as they are (UTF-8 in, UTF-8 out).
 */
char *fmt_text(const char *s, size_t len, int json, char *p)
{
	static const char hex[] = "0123456789abcdef";

	if (json)
		*p++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!json) {
			if (c == '\t' || c == '\n') {
				*p++ = '\\';
				*p++ = c == '\t' ? 't' : 'n';
			} else {
				*p++ = (char)c;
			}
			continue;
		}
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			*p++ = '\\';
			*p++ = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 15];
			p += 6;
		} else {
			*p++ = (char)c;
		}
	}
	if (json)
		*p++ = '"';
	return p;
}

/* The most bytes the values of a window take, JSON member names and
 * separators included. */
size_t agg_text_bound(const struct agg_set *s, const void *slots)
{
	const unsigned char *b = slots;
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct agg *a = &s->v[i];
		n += fmt_text_bound(strlen(a->text), 1) + 4 + 48;
		if (a->kind == AGG_FIRST || a->kind == AGG_LAST)
			n += fmt_text_bound(((const struct pick *)(b + a->off))->len, 1);
	}
	return n;
}

/* Writes aggregate i's value at p (room: agg_text_bound) and returns
 * where it ends. */
char *agg_format(const struct agg_set *s, size_t i, const struct agg_state *st,
		 const void *slots, int json, char *p)
{
	const struct agg *a = &s->v[i];
	const unsigned char *b = slots;
	const union num *n = (const union num *)(b + a->off);
	const struct pick *pk = (const struct pick *)(b + a->off);
	int dbl = (st->flags >> i) & 1;
	struct dset *set;

	switch (a->kind) {
	case AGG_COUNT:
		return p + sprintf(p, "%llu", (unsigned long long)st->count);
	case AGG_SUM:
		if (!dbl)
			return p + sprintf(p, "%lld", (long long)n->i);
		return fmt_double(n->d, json, p);
	case AGG_MEAN:
		return fmt_double((dbl ? n->d : (double)n->i) / (double)st->count,
				  json, p);
	case AGG_MIN:
	case AGG_MAX:
		return fmt_double(n->d, json, p);
	case AGG_FIRST:
	case AGG_LAST:
		return fmt_text(pk->p, pk->len, json, p);
	case AGG_DISTINCT:
		memcpy(&set, b + a->off, sizeof set);
		return p + sprintf(p, "%llu", (unsigned long long)dset_count(set));
	}
	return p;
}

/* --- checkpoints ----------------------------------------------------- */

int agg_save(const struct agg_set *s, const struct agg_state *st,
	     const void *slots, struct ser_out *o)
{
	const unsigned char *b = slots;

	(void)st;
	for (size_t i = 0; i < s->n; i++) {
		const struct agg *a = &s->v[i];
		const union num *n = (const union num *)(b + a->off);
		const struct pick *pk = (const struct pick *)(b + a->off);
		struct dset *set;

		switch (a->kind) {
		case AGG_COUNT:
			break;
		case AGG_SUM:
		case AGG_MEAN:
		case AGG_MIN:
		case AGG_MAX:
			ser_put(o, n, sizeof *n);
			break;
		case AGG_FIRST:
		case AGG_LAST:
			ser_i64(o, pk->t);
			ser_u64(o, pk->seq);
			ser_u32(o, pk->len);
			ser_put(o, pk->p, pk->len);
			break;
		case AGG_DISTINCT:
			memcpy(&set, b + a->off, sizeof set);
			ser_u8(o, set ? (uint8_t)set->has_zero : 0);
			ser_u32(o, set ? set->n : 0);
			for (uint32_t k = 0; set && k < set->cap; k++)
				if (!is_zero(set->v[k])) {
					ser_u64(o, set->v[k].lo);
					ser_u64(o, set->v[k].hi);
				}
			break;
		}
	}
	return o->failed ? -1 : 0;
}

/* Restores what agg_save wrote into zeroed slots.  -1: the bytes ran out
 * (in->failed) or do not make sense, or no memory; what was restored is
 * left for agg_release. */
int agg_load(const struct agg_set *s, struct agg_state *st, void *slots,
	     struct ser_in *in)
{
	unsigned char *b = slots;

	(void)st;
	for (size_t i = 0; i < s->n; i++) {
		const struct agg *a = &s->v[i];
		union num *n = (union num *)(b + a->off);
		struct pick *pk = (struct pick *)(b + a->off);
		const void *p;
		uint32_t len, cnt;
		uint8_t zero;

		switch (a->kind) {
		case AGG_COUNT:
			break;
		case AGG_SUM:
		case AGG_MEAN:
		case AGG_MIN:
		case AGG_MAX:
			if ((p = ser_take(in, sizeof *n)) == NULL)
				return -1;
			memcpy(n, p, sizeof *n);
			break;
		case AGG_FIRST:
		case AGG_LAST: {
			struct agg_value v = { 0 };
			struct agg_when w;
			w.t = ser_get_i64(in);
			w.seq = ser_get_u64(in);
			len = ser_get_u32(in);
			if (len > KEY_VALUE_MAX || (p = ser_take(in, len)) == NULL)
				return -1;
			v.p = p;
			v.len = len;
			if (pick_set(pk, &v, w) < 0)
				return -1;
			break;
		}
		case AGG_DISTINCT:
			zero = ser_get_u8(in);
			cnt = ser_get_u32(in);
			if (zero > 1 || cnt > (size_t)(in->end - in->p) / 16)
				return -1;
			for (uint32_t k = 0; k < cnt; k++) {
				struct digest d;
				d.lo = ser_get_u64(in);
				d.hi = ser_get_u64(in);
				if (is_zero(d) || dset_add((struct dset **)(b + a->off), d) < 0)
					return -1;
			}
			if (zero && dset_add((struct dset **)(b + a->off), (struct digest){ 0, 0 }) < 0)
				return -1;
			break;
		}
	}
	return in->failed ? -1 : 0;
}
