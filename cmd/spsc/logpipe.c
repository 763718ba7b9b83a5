/*
 * logpipe: prefixed, whole lines from many pipes onto one stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdio.h"
#include "logpipe.h"

/* ANSI colours for the prefixes, by label: the same stage keeps one. */
static const char *const palette[] = {
	"\033[36m", "\033[32m", "\033[33m", "\033[35m", "\033[34m",
	"\033[91m", "\033[96m", "\033[92m",
};

void logpipe_init(struct logpipe *lp, int fd, const char *label, int colour)
{
	size_t h = 0, width = 12;

	for (const char *p = label; *p && *p != '.'; p++)
		h = h * 31 + (unsigned char)*p;
	lp->fd = fd;
	lp->len = 0;
	if (colour)
		snprintf(lp->prefix, sizeof lp->prefix, "%s%-*s |\033[0m ",
			 palette[h % (sizeof palette / sizeof palette[0])],
			 (int)width, label);
	else
		snprintf(lp->prefix, sizeof lp->prefix, "%-*s | ", (int)width,
			 label);
}

/* One line (without its newline) in one write; a piece of a longer line
 * ends in "...". */
static void line_out(const char *prefix, const char *line, size_t len,
		     int piece)
{
	struct iovec iov[3] = {
		{ (void *)prefix, strlen(prefix) },
		{ (void *)line, len },
		{ piece ? "...\n" : "\n", piece ? 4 : 1 },
	};

	(void)fd_writev_all(STDERR_FILENO, iov, 3);
}

void logpipe_line(const char *prefix, const char *line, size_t len)
{
	line_out(prefix, line, len, 0);
}

static void flush_lines(struct logpipe *lp, int all)
{
	size_t start = 0;
	char *nl;

	while ((nl = memchr(lp->buf + start, '\n', lp->len - start)) != NULL) {
		logpipe_line(lp->prefix, lp->buf + start,
			     (size_t)(nl - lp->buf) - start);
		start = (size_t)(nl - lp->buf) + 1;
	}
	if (start == 0 && lp->len == sizeof lp->buf) {
		/* a line longer than the buffer: out in pieces */
		line_out(lp->prefix, lp->buf, lp->len, 1);
		lp->len = 0;
		return;
	}
	memmove(lp->buf, lp->buf + start, lp->len - start);
	lp->len -= start;
	if (all && lp->len > 0) {
		logpipe_line(lp->prefix, lp->buf, lp->len);
		lp->len = 0;
	}
}

/* Reads what the pipe holds; 0 once it is closed (the rest is written),
 * 1 while it is open. */
int logpipe_read(struct logpipe *lp)
{
	ssize_t n;

	if (lp->fd < 0)
		return 0;
	n = read(lp->fd, lp->buf + lp->len, sizeof lp->buf - lp->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		logpipe_close(lp);
		return 0;
	}
	lp->len += (size_t)n;
	flush_lines(lp, 0);
	return 1;
}

void logpipe_close(struct logpipe *lp)
{
	flush_lines(lp, 1);
	if (lp->fd >= 0)
		close(lp->fd);
	lp->fd = -1;
}

/* The process is gone: what it wrote is read to the end, or to where a
 * descendant that still holds the pipe has not written yet, and the pipe
 * is closed. */
void logpipe_drain(struct logpipe *lp)
{
	while (lp->fd >= 0) {
		ssize_t n = read(lp->fd, lp->buf + lp->len,
				 sizeof lp->buf - lp->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		lp->len += (size_t)n;
		flush_lines(lp, 0);
	}
	logpipe_close(lp);
}
