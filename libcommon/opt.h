/*
 * opt: the parts of option parsing every program shares: usage errors
 * (exit 2), --help, --version and typed option values.
 */
#ifndef SPSC_OPT_H
#define SPSC_OPT_H

#include <stdint.h>

/* Exit statuses shared by every program (see the EXIT STATUS sections). */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

_Noreturn void opt_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void opt_help(const char *text);
_Noreturn void opt_version(void);

const char *opt_bad_option(const char *arg);
long opt_long(const char *name, const char *arg, long min, long max);
int64_t opt_duration(const char *name, const char *arg);
uint64_t opt_size(const char *name, const char *arg, uint64_t min, uint64_t max);

#endif
