/*
 * fuzz-units: durations and sizes as users type them on command lines
 * and in DAG files, through parse_duration and parse_size.  Both return
 * an error rather than exit (opt_duration and opt_size are the wrappers
 * that exit), so they are fuzzed directly.
 *
 * Beyond "no crash": a refused string leaves the result untouched; an
 * accepted duration is not negative; a bare whole number of seconds or
 * bytes means exactly that; and whatever is accepted can be formatted.
 */
#include <inttypes.h>
#include <string.h>

#include "fuzz.h"
#include "units.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* The value of s if it is nothing but up to 9 decimal digits, else -1. */
static int64_t small_whole(const char *s)
{
	int64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 9 || strspn(s, "0123456789") != n)
		return -1;
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), text[64];
	int64_t ns = -12345, whole;
	uint64_t bytes = 12345;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	whole = small_whole(s);
	if (parse_duration(s, &ns) == 0) {
		fuzz_assert(ns >= 0);
		fuzz_assert(whole < 0 || ns == whole * NS_PER_SEC);
		format_duration(ns, text, sizeof text);
	} else {
		fuzz_assert(ns == -12345 && whole < 0);
	}
	if (parse_size(s, &bytes) == 0) {
		fuzz_assert(whole < 0 || bytes == (uint64_t)whole);
		format_size(bytes, text, sizeof text);
	} else {
		fuzz_assert(bytes == 12345 && whole < 0);
	}
	free(s);
	return 0;
}
