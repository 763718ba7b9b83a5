#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"

const char *log_prog = "spsc";
enum log_level log_threshold = LOG_INFO;

static const char *level_names[] = { "error", "warning", "info", "debug" };
/* syslog(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
static const int level_priorities[] = { 3, 4, 6, 7 };

/* stderr is the journal's stream: see log_init. */
static int to_journal;

/* One decimal number, all digits, ending at stop. */
static int parse_decimal(const char *s, char stop, unsigned long long *v,
			 const char **end)
{
	*v = 0;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (*v > (~0ULL - 9) / 10)
			return -1;
		*v = *v * 10 + (unsigned long long)(*s - '0');
	}
	*end = s;
	return *s == stop ? 0 : -1;
}

/*
 * Whether our stderr is the stream systemd connected to the journal: it
 * sets JOURNAL_STREAM to that stream's "DEV:INODE" (st_dev and st_ino, in
 * decimal; systemd.exec(5)), which a redirection or a child's pipe no
 * longer matches.
 */
static int stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM"), *p;
	unsigned long long dev, ino;
	struct stat st;

	if (v == NULL || parse_decimal(v, ':', &dev, &p) < 0 ||
	    parse_decimal(p + 1, '\0', &ino, &p) < 0)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');
	const char *env = getenv("SPSC_LOG");

	log_prog = slash ? slash + 1 : prog;
	if (env && strcmp(env, "debug") == 0)
		log_threshold = LOG_DEBUG;
	else if (env && strcmp(env, "quiet") == 0)
		log_threshold = LOG_WARN;
	to_journal = stderr_is_journal();
}

/*
 * The start of every line we write on stderr: "prog[pid]: tag: ".  When
 * stderr is the journal, which adds the program and pid itself, it is
 * "<N>tag: " instead, N the syslog priority of level, which journald takes
 * for the line's priority (SyslogLevelPrefix=, on by default).  Returns its
 * length, cut to fit len.
 */
size_t log_prefix(char *buf, size_t len, enum log_level level, const char *tag)
{
	int n;

	if (to_journal)
		n = snprintf(buf, len, "<%d>%s: ", level_priorities[level], tag);
	else
		n = snprintf(buf, len, "%s[%ld]: %s: ", log_prog,
			     (long)getpid(), tag);
	if (n < 0 || len == 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

/* The line is built whole and written with one write(2) so that lines from
 * concurrent stages sharing a terminal never interleave mid-line. */
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[4096];
	int n, m;

	if (level > log_threshold)
		return;
	n = (int)log_prefix(line, sizeof line, level, level_names[level]);
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
