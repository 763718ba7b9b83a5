#include <stdio.h>
#include <string.h>
#include <time.h>

#include "atom.h"
#include "evtime.h"

#define NS INT64_C(1000000000)
/* 19 decimal digits always fit a uint64_t. */
#define MANT_DIGITS 19

static const uint64_t pow10[MANT_DIGITS + 1] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
	100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL,
	10000000000000000000ULL,
};

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil), so no time zone is consulted. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* secs * NS + frac, or -1 if that is not strictly between the two
 * reserved values ATOM_TIME_NONE and ATOM_TIME_END. */
static int to_ns(int64_t secs, int64_t frac, int64_t *ns)
{
	int64_t v;

	if (__builtin_mul_overflow(secs, NS, &v) ||
	    __builtin_add_overflow(v, frac, &v) ||
	    v == ATOM_TIME_NONE || v == ATOM_TIME_END)
		return -1;
	*ns = v;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)"; a leap second (:60) is
 * the first instant of the next minute, as timegm(3) has it. */
static int parse_rfc3339(const char *s, size_t len, int64_t *ns)
{
	int y, mo, d, h, mi, sec, oh, om;
	int64_t frac = 0, scale = NS / 10, secs;
	size_t i = 19;

	if (len < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' ||
	    s[16] != ':' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	if (s[i] == '.') {
		if (++i >= len || s[i] < '0' || s[i] > '9')
			return -1;
		/* Digits past the nanosecond are dropped (the time is floored). */
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
			frac += (s[i] - '0') * scale;
	}
	if (i == len - 1 && (s[i] == 'Z' || s[i] == 'z')) {
		oh = om = 0;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') &&
		   s[i + 3] == ':' && digits(s + i + 1, 2, &oh) == 0 &&
		   digits(s + i + 4, 2, &om) == 0 && oh <= 23 && om <= 59) {
		if (s[i] == '-') {
			oh = -oh;
			om = -om;
		}
	} else {
		return -1;
	}
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       (oh * 3600 + om * 60);
	return to_ns(secs, frac, ns);
}

/* A number in strtod's decimal syntax, kept exact: at most MANT_DIGITS
 * significant digits (later ones are dropped) times a power of ten. */
struct decimal {
	int neg;
	uint64_t mant;
	int ndigits;	/* significant digits in mant */
	long exp10;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

static void add_digit(struct decimal *d, int digit, int after_point)
{
	if (d->mant == 0 && digit == 0) {
		if (after_point)
			d->exp10--;
		return;
	}
	if (d->ndigits < MANT_DIGITS) {
		d->mant = d->mant * 10 + (uint64_t)digit;
		d->ndigits++;
		if (after_point)
			d->exp10--;
	} else if (!after_point) {
		d->exp10++;
	}
}

static int parse_decimal(const char *s, size_t len, struct decimal *d)
{
	size_t i = 0, seen = 0;
	long e = 0;
	int eneg = 0;

	memset(d, 0, sizeof *d);
	while (i < len && is_space(s[i]))
		i++;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		d->neg = s[i++] == '-';
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, seen++)
		add_digit(d, s[i] - '0', 0);
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, seen++)
			add_digit(d, s[i] - '0', 1);
	if (seen == 0)
		return -1;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t start;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (start = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
		if (i == start)
			return -1;
	}
	if (i != len)
		return -1;
	d->exp10 += eneg ? -e : e;
	return 0;
}

/* Epoch seconds, or milliseconds from a magnitude of 1e11 up, floored to
 * the nanosecond. */
static int parse_number(const char *s, size_t len, int64_t *ns)
{
	struct decimal d;
	uint64_t q, rem;
	long k;

	if (parse_decimal(s, len, &d) < 0)
		return -1;
	if (d.mant == 0) {
		*ns = 0;
		return 0;
	}
	/* mant has ndigits digits, so the value has ndigits + exp10 digits
	 * before the point: 1e11 and up have 12. */
	k = d.exp10 + (d.ndigits + d.exp10 >= 12 ? 6 : 9);
	if (k >= 0) {
		if (k > MANT_DIGITS || d.mant > (uint64_t)INT64_MAX / pow10[k])
			return -1;
		q = d.mant * pow10[k];
		rem = 0;
	} else if (-k > MANT_DIGITS) {
		q = 0;
		rem = 1;
	} else {
		q = d.mant / pow10[-k];
		rem = d.mant % pow10[-k];
	}
	if (q >= (uint64_t)INT64_MAX)
		return -1;
	*ns = d.neg ? -(int64_t)q - (rem != 0) : (int64_t)q;
	return 0;
}

/* Returns 0 with *ns set, or -1 if s (len bytes, no '\n') is no time or
 * one out of the range of an int64_t of nanoseconds (1678 to 2262). */
int evtime_parse(const char *s, size_t len, int64_t *ns)
{
	if (len >= 20 && s[4] == '-')
		return parse_rfc3339(s, len, ns);
	return parse_number(s, len, ns);
}

void evtime_format(int64_t ns, char *buf, size_t len)
{
	int64_t secs = ns / NS, rem = ns % NS;
	struct tm tm;
	time_t t;
	size_t n;

	if (ns == ATOM_TIME_END) {
		snprintf(buf, len, "end");
		return;
	}
	if (rem < 0) {
		rem += NS;
		secs--;
	}
	t = (time_t)secs;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "%lld", (long long)ns);
		return;
	}
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	/* Milliseconds, as the contract of every program that prints times
	 * has it; what is finer is dropped (floored), not rounded up into
	 * the next millisecond. */
	if (rem == 0)
		snprintf(buf + n, len - n, "Z");
	else
		snprintf(buf + n, len - n, ".%03lldZ", (long long)(rem / 1000000));
}
