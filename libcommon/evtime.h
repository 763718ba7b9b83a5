/*
 * evtime: event times, as ns since the Unix epoch in an int64_t.
 *
 * Events carry their time as text; evtime_parse reads the three forms
 * users have:
 *   - epoch seconds, with an optional fraction: "1764538800", "1764538800.25"
 *   - epoch milliseconds: any number whose magnitude is at least 1e11 (as
 *     seconds that would be the year 5138; as milliseconds, 1973)
 *     Numbers are read in strtod's decimal syntax (leading blanks, a sign,
 *     an exponent; no hex, inf or nan) but exactly, in decimal, and floored
 *     to the nanosecond: "1764538800.25" is 1764538800250000000 ns, not the
 *     nearest double.
 *   - RFC 3339: "2026-11-30T21:40:00Z", "2026-11-30T21:40:00.250+01:00";
 *     't' and 'z' and a space for 'T' are accepted, as RFC 3339 allows
 * and evtime_format writes RFC 3339 in UTC, with milliseconds only when
 * the time is not a whole second: "2026-11-30T21:40:00Z",
 * "2026-11-30T21:40:00.250Z"; finer than that is floored (".2504" prints
 * ".250", and 1 ns past a second ".000").  ATOM_TIME_END prints as "end".
 */
#ifndef SPSC_EVTIME_H
#define SPSC_EVTIME_H

#include <stddef.h>
#include <stdint.h>

#define EVTIME_TEXT_MAX 40

int evtime_parse(const char *s, size_t len, int64_t *ns);
void evtime_format(int64_t ns, char *buf, size_t len);

#endif
