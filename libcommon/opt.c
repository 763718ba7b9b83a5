#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "opt.h"
#include "units.h"

void opt_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", log_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", log_prog);
	exit(EXIT_USAGE);
}

void opt_help(const char *text)
{
	fputs(text, stdout);
	exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL);
}

void opt_version(void)
{
	printf("%s (%s) %s\n", log_prog, PACKAGE_NAME, PACKAGE_VERSION);
	exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL);
}

long opt_long(const char *name, const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max)
		opt_usage_error("%s: '%s' is not a whole number from %ld to %ld",
				name, arg, min, max);
	return v;
}

int64_t opt_duration(const char *name, const char *arg)
{
	int64_t ns;

	if (parse_duration(arg, &ns) < 0)
		opt_usage_error("%s: '%s' is not a duration (e.g. 500ms, 2s, 5m, 1h)",
				name, arg);
	return ns;
}

uint64_t opt_size(const char *name, const char *arg, uint64_t min, uint64_t max)
{
	uint64_t v;
	char lo[32], hi[32];

	if (parse_size(arg, &v) < 0)
		opt_usage_error("%s: '%s' is not a size (e.g. 4096, 64k, 1M, 2G)",
				name, arg);
	if (v < min || v > max) {
		format_size(min, lo, sizeof lo);
		format_size(max, hi, sizeof hi);
		opt_usage_error("%s: '%s' is out of range (%s to %s)", name,
				arg, lo, hi);
	}
	return v;
}

/* What getopt stopped at, for the usage error: a long option as written,
 * a short one alone (it may have come bundled, as in -Vx). */
const char *opt_bad_option(const char *arg)
{
	static char shortopt[3] = "-?";

	if (strncmp(arg, "--", 2) == 0 || optopt <= 0 || optopt > 255)
		return arg;
	shortopt[1] = (char)optopt;
	return shortopt;
}
