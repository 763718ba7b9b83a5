/*
 * relay: a child's standard error, passed on to ours line by line, each
 * line prefixed with our name and the id of the atom it is about:
 * "spsc-op[pid]: <id>: <line>" (under the journal "<6><id>: <line>", see
 * log.h).  Each line goes out in one write, so that lines from concurrent
 * children never interleave mid-line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "op.h"

#define READ_ROUNDS 16

static void relay_line(const struct slot *s, const char *p, size_t n,
		       int add_nl)
{
	const struct task *t = s->count > 0 ? s->fifo[0] : NULL;
	char prefix[128];
	struct iovec iov[3];
	size_t k;

	/* The command's own words, which it did not rank: info, the
	 * journal's priority for a line without one. */
	k = log_prefix(prefix, sizeof prefix, LOG_INFO, t ? t->idhex : "-");
	iov[0] = (struct iovec){ prefix, k };
	iov[1] = (struct iovec){ (void *)p, n };
	iov[2] = (struct iovec){ "\n", 1 };
	(void)fd_writev_all(STDERR_FILENO, iov, add_nl ? 3 : 2);
}

/* Writes out the complete lines held; with flush, the rest too.  A line
 * longer than the buffer is passed on in pieces rather than held. */
static void relay_lines(struct slot *s, int flush)
{
	char *p = s->errline, *end = s->errline + s->errlen, *nl;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		relay_line(s, p, (size_t)(nl - p + 1), 0);
		p = nl + 1;
	}
	if (p < end && (flush || (p == s->errline &&
				  s->errlen == sizeof s->errline))) {
		relay_line(s, p, (size_t)(end - p), 1);
		p = end;
	}
	memmove(s->errline, p, (size_t)(end - p));
	s->errlen = (size_t)(end - p);
}

/* A last line without its newline gets one. */
void relay_flush(struct slot *s)
{
	relay_lines(s, 1);
}

/* Reads what the child wrote to its stderr; at its end, closes the pipe. */
void relay_read(struct slot *s)
{
	for (int i = 0; i < READ_ROUNDS && s->child.err >= 0; i++) {
		ssize_t n = read(s->child.err, s->errline + s->errlen,
				 sizeof s->errline - s->errlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			relay_flush(s);
			(void)close(s->child.err);
			s->child.err = -1;
			return;
		}
		s->errlen += (size_t)n;
		relay_lines(s, 0);
	}
}
