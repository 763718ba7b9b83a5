/*
 * capture: a short-lived command run to its end, its output caught.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "child.h"
#include "units.h"


/* Reads what is there; 0 at EOF (fd closed), 1 if more may come. */
static int drain(int *fd, struct text *t)
{
	char scratch[4096];
	ssize_t n;
	size_t room = sizeof t->buf - 1 - t->len;

	n = read(*fd, room ? t->buf + t->len : scratch,
		 room ? room : sizeof scratch);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	if (room)
		t->len += (size_t)n;
	t->buf[t->len] = '\0';
	return 1;
}

/* Runs argv to its end with its stdout and stderr caught, within
 * CAPTURE_TIMEOUT_NS.  Returns its wait status, or -1 (err says why). */
int capture(char *const argv[], const char *const *env, struct text *out,
	    struct text *errt, char *err, size_t errlen)
{
	struct child c;
	struct child_opts o = { .argv = argv, .env = env,
				.capture_stderr = 1 };
	int64_t deadline = mono_ns() + CAPTURE_TIMEOUT_NS;

	out->len = errt->len = 0;
	out->buf[0] = errt->buf[0] = '\0';
	if (child_spawn(&c, &o, err, errlen) < 0)
		return -1;
	child_close_in(&c);
	while (c.out >= 0 || c.err >= 0) {
		struct pollfd p[2] = { { c.out, POLLIN, 0 }, { c.err, POLLIN, 0 } };
		int64_t left = deadline - mono_ns();

		if (left <= 0) {
			snprintf(err, errlen, "%s: no answer in %d s", argv[0],
				 (int)(CAPTURE_TIMEOUT_NS / 1000000000LL));
			child_stop(&c, 0);
			child_close(&c);
			return -1;
		}
		if (poll(p, 2, (int)(left / 1000000) + 1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			drain(&c.out, out);
		if (p[1].revents)
			drain(&c.err, errt);
	}
	child_reap(&c, 1);
	child_close(&c);
	return c.status;
}

