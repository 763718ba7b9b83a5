#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"

const char *log_prog = "spsc";
enum log_level log_threshold = LOG_INFO;

static const char *level_names[] = { "error", "warning", "info", "debug" };

void log_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');
	const char *env = getenv("SPSC_LOG");

	log_prog = slash ? slash + 1 : prog;
	if (env && strcmp(env, "debug") == 0)
		log_threshold = LOG_DEBUG;
	else if (env && strcmp(env, "quiet") == 0)
		log_threshold = LOG_WARN;
}

/* The line is built whole and written with one write(2) so that lines from
 * concurrent stages sharing a terminal never interleave mid-line. */
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[4096];
	int n, m;

	if (level > log_threshold)
		return;
	n = snprintf(line, sizeof line, "%s[%ld]: %s: ", log_prog,
		     (long)getpid(), level_names[level]);
	if (n < 0)
		return;
	m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	(void)fd_write_all(STDERR_FILENO, line, (size_t)n);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	exit(status);
}
