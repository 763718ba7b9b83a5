#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "units.h"

struct suffix {
	const char *name;
	uint64_t scale;
};

static const struct suffix duration_suffixes[] = {
	{ "", NS_PER_SEC }, { "ns", 1 }, { "us", 1000 },
	{ "ms", NS_PER_MS }, { "s", NS_PER_SEC }, { "m", 60 * NS_PER_SEC },
	{ "h", 3600 * NS_PER_SEC }, { NULL, 0 }
};

static const struct suffix size_suffixes[] = {
	{ "", 1 }, { "b", 1 }, { "k", 1 << 10 }, { "K", 1 << 10 },
	{ "m", 1 << 20 }, { "M", 1 << 20 }, { "g", 1 << 30 }, { "G", 1 << 30 },
	{ "t", UINT64_C(1) << 40 }, { "T", UINT64_C(1) << 40 }, { NULL, 0 }
};

/*
 * Both kinds are "decimal number, optional suffix".  Fractions are allowed
 * ("1.5s", "0.5M") because people write them; the result must still fit.
 */
static int parse_scaled(const char *s, const struct suffix *tab, uint64_t *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
		return -1;
	/* Digits first: strtod would also take "nan", "inf" and hex. */
	if ((*s < '0' || *s > '9') && *s != '.')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !(v >= 0))
		return -1;
	for (; tab->name; tab++) {
		if (strcmp(end, tab->name) == 0) {
			/* Rounded, not truncated: "1.001s" is 1001000000ns even
			 * though 1.001 has no exact binary form. */
			double r = v * (double)tab->scale + 0.5;
			if (r >= 18446744073709549568.0)
				return -1;
			*out = (uint64_t)r;
			return 0;
		}
	}
	return -1;
}

int parse_duration(const char *s, int64_t *ns)
{
	uint64_t v;

	if (parse_scaled(s, duration_suffixes, &v) < 0 || v > INT64_MAX)
		return -1;
	*ns = (int64_t)v;
	return 0;
}

int parse_size(const char *s, uint64_t *bytes)
{
	return parse_scaled(s, size_suffixes, bytes);
}

void format_duration(int64_t ns, char *buf, size_t len)
{
	if (ns < 10 * INT64_C(1000))
		snprintf(buf, len, "%" PRId64 "ns", ns);
	else if (ns < 10 * NS_PER_MS)
		snprintf(buf, len, "%.1fus", (double)ns / 1e3);
	else if (ns < 10 * NS_PER_SEC)
		snprintf(buf, len, "%.1fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
}

void format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGT";
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 "B", bytes);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* Wall time stamps atoms: it is comparable between processes and hosts. */
int64_t wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* Monotonic time drives deadlines: it never jumps. */
int64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}
