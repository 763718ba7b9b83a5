#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atom.h"
#include "evtime.h"

#define NS 1000000000LL
#define MS_THRESHOLD 1e11

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

/* "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" */
static int parse_rfc3339(const char *s, size_t len, int64_t *ns)
{
	int y, mo, d, h, mi, sec, oh, om;
	int64_t frac = 0, scale = NS / 10;
	size_t i = 19;

	if (len < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' ||
	    s[16] != ':' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (s[i] == '.') {
		if (++i >= len || s[i] < '0' || s[i] > '9')
			return -1;
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
	*ns = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
	       (oh * 3600 + om * 60)) * NS + frac;
	return 0;
}

/* Returns 0 with *ns set, or -1 if s (len bytes, no '\n') is no time. */
int evtime_parse(const char *s, size_t len, int64_t *ns)
{
	char buf[64], *end;
	double v;

	if (len >= 20 && len < sizeof buf && s[4] == '-')
		return parse_rfc3339(s, len, ns);
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	v = strtod(buf, &end);
	if (end != buf + len || !isfinite(v) || buf[0] == ' ' || buf[0] == '\t')
		return -1;
	if (fabs(v) >= MS_THRESHOLD)
		v /= 1000;
	/* Integers stay exact: a double holds the seconds, the fraction is
	 * rounded to the nanosecond. */
	if (fabs(v) >= 9.2e9)
		return -1;
	*ns = (int64_t)llround(v * 1e9);
	return 0;
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
	if (rem == 0)
		snprintf(buf + n, len - n, "Z");
	else if (rem % 1000000 == 0)
		snprintf(buf + n, len - n, ".%03lldZ", (long long)(rem / 1000000));
	else
		snprintf(buf + n, len - n, ".%09lldZ", (long long)rem);
}
