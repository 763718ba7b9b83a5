/* Event times: the three forms, exactly to the nanosecond, the strings
 * that are not times, the edges of the range, and RFC 3339 out. */
#include <stdint.h>
#include <string.h>

#include "atom.h"
#include "evtime.h"
#include "tap.h"

#define S INT64_C(1000000000)

static int time_is(const char *s, int64_t want)
{
	int64_t ns = 12345;

	if (evtime_parse(s, strlen(s), &ns) < 0 || ns != want) {
		printf("# '%s' gave %lld, wanted %lld\n", s, (long long)ns,
		       (long long)want);
		return 0;
	}
	return 1;
}

static int time_bad(const char *s)
{
	int64_t ns = 12345;

	return evtime_parse(s, strlen(s), &ns) < 0 && ns == 12345;
}

static int formats_as(int64_t ns, const char *want)
{
	char buf[EVTIME_TEXT_MAX];

	evtime_format(ns, buf, sizeof buf);
	if (strcmp(buf, want) != 0) {
		printf("# %lld gave '%s', wanted '%s'\n", (long long)ns, buf, want);
		return 0;
	}
	return 1;
}

static void numbers(void)
{
	ok(time_is("0", 0), "0 is the epoch");
	ok(time_is("1796075040", 1796075040 * S), "epoch seconds");
	ok(time_is("1796075040.25", 1796075040 * S + 250000000),
	   "a fraction of a second is exact, not the nearest double");
	ok(time_is("1796075040.123456789", 1796075040 * S + 123456789),
	   "nanoseconds are kept");
	ok(time_is("1796075040.1234567891", 1796075040 * S + 123456789),
	   "digits past the nanosecond are dropped");
	ok(time_is("1796075040250", 1796075040 * S + 250000000),
	   "from 1e11 up a number is milliseconds");
	ok(time_is("1796075040123.5", 1796075040 * S + 123500000),
	   "milliseconds with a fraction");
	ok(time_bad("99999999999"),
	   "just under 1e11 is seconds (the year 5138: out of range), not 1973 in ms");
	ok(time_is("100000000000", 100000000 * S), "1e11 itself: milliseconds");
	ok(time_is("1e11", 100000000 * S), "an exponent counts as written");
	ok(time_is("1.79607504E9", 1796075040 * S), "a capital exponent too");
	ok(time_is("-1.5", -1 * S - 500000000), "before the epoch");
	ok(time_is("-0.0000000001", -1), "negative times are floored");
	ok(time_is(" 12", 12 * S), "leading blanks, as strtod skips them");
	ok(time_is("+12", 12 * S), "a plus sign");
	ok(time_is(".5", 500000000), "no digit before the point");
	ok(time_is("5.", 5 * S), "no digit after it");
	ok(time_is("0000000000000000000000000012", 12 * S),
	   "leading zeros do not count against the digits kept");
	ok(time_bad(""), "empty");
	ok(time_bad("12 "), "trailing blank");
	ok(time_bad("12s"), "a unit");
	ok(time_bad("0x10"), "hex");
	ok(time_bad("inf") && time_bad("nan") && time_bad("-infinity"),
	   "inf and nan");
	ok(time_bad("1e") && time_bad("1e+") && time_bad("."), "half a number");
	ok(time_bad("--1") && time_bad("1-"), "stray signs");
	ok(time_bad("1e400"), "too far in the future");
	ok(time_bad("9300000000") && time_bad("-9300000000"),
	   "seconds past what nanoseconds in 64 bits hold (1678 to 2262)");
}

static void rfc3339(void)
{
	int64_t t = 1796075040 * S;	/* 2026-11-30T21:44:00Z */

	ok(time_is("2026-11-30T21:44:00Z", t), "UTC");
	ok(time_is("2026-11-30t21:44:00z", t) && time_is("2026-11-30 21:44:00Z", t),
	   "t, z and a space, as RFC 3339 allows");
	ok(time_is("2026-11-30T22:44:00.250+01:00", t + 250000000),
	   "an offset east, and milliseconds");
	ok(time_is("2026-11-30T16:14:00-05:30", t), "an offset west");
	ok(time_is("2026-11-30T21:44:00.123456789Z", t + 123456789),
	   "nanoseconds");
	ok(time_is("1970-01-01T00:00:00Z", 0), "the epoch");
	ok(time_is("1969-12-31T23:59:59.5Z", -500000000), "before it");
	ok(time_is("2024-02-29T00:00:00Z", 1709164800 * S), "a leap day");
	ok(time_is("2016-12-31T23:59:60Z", 1483228800 * S),
	   "a leap second is the next minute's first instant");
	ok(time_bad("2026-02-29T00:00:00Z"), "no 29 February in 2026");
	ok(time_bad("2026-04-31T00:00:00Z"), "no 31 April");
	ok(time_bad("2026-13-01T00:00:00Z") && time_bad("2026-00-01T00:00:00Z"),
	   "month out of range");
	ok(time_bad("2026-11-30T24:00:00Z") && time_bad("2026-11-30T23:60:00Z"),
	   "hour and minute out of range");
	ok(time_bad("2026-11-30T21:44:00"), "no zone");
	ok(time_bad("2026-11-30T21:44:00+0100"), "an offset without a colon");
	ok(time_bad("2026-11-30T21:44:00.Z"), "a point without digits");
	ok(time_bad("2026-11-30T21:44Z"), "no seconds");
	ok(time_bad("2026-11-30X21:44:00Z"), "a bad separator");
	ok(time_bad("9999-12-31T23:59:59Z"), "past 2262");
}

static void formatting(void)
{
	ok(formats_as(1796075040 * S, "2026-11-30T21:44:00Z"), "a whole second");
	ok(formats_as(1796075040 * S + 250000000, "2026-11-30T21:44:00.250Z"),
	   "milliseconds when not a whole second");
	ok(formats_as(1796075040 * S + 250400000, "2026-11-30T21:44:00.250Z") &&
	   formats_as(1796075040 * S + 1, "2026-11-30T21:44:00.000Z"),
	   "finer than milliseconds is floored");
	ok(formats_as(-1, "1969-12-31T23:59:59.999Z"), "floored before the epoch too");
	ok(formats_as(-500000000, "1969-12-31T23:59:59.500Z"), "before the epoch");
	ok(formats_as(ATOM_TIME_END, "end"), "the end of input");
	for (int64_t ns = -3 * S; ns < 3 * S; ns += 250000000) {
		char buf[EVTIME_TEXT_MAX];
		int64_t back = 0;
		evtime_format(ns, buf, sizeof buf);
		if (evtime_parse(buf, strlen(buf), &back) < 0 || back != ns) {
			ok(0, "%lld round-trips through '%s'", (long long)ns, buf);
			return;
		}
	}
	ok(1, "formatted times parse back to themselves");
}

int main(void)
{
	numbers();
	rfc3339();
	formatting();
	return tap_done();
}
