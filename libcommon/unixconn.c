#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unixconn.h"
#include "units.h"

#define SCHEME "unix://"
/* A reply: its header, and a GET's atoms, each in one part or two. */
#define REPLY_PARTS (QREPLY_PARTS_MAX + 1)
/* A GET's reply is at most 16 MiB of frames (spsc-protocol(7)), one
 * atom of any size at most (--max-atom, 1 GiB at most), and headers. */
#define REPLY_BYTES ((size_t)1 << 31)

int unixconn_is_url(const char *url)
{
	return strncmp(url, SCHEME, strlen(SCHEME)) == 0;
}

/* The socket's path in a unix:// URL. */
const char *unixconn_path(const char *url)
{
	return url + strlen(SCHEME);
}

int unixconn_open(struct unixconn *u, const char *url, char *err, size_t errlen)
{
	const char *path = unixconn_path(url);

	memset(u, 0, sizeof *u);
	u->fd = -1;
	if (*path == '\0' || strlen(path) >= sizeof u->addr.sun_path) {
		snprintf(err, errlen, "%.300s: %s", url, *path ? "path too long for a unix socket"
							      : "no socket path");
		return -1;
	}
	u->addr.sun_family = AF_UNIX;
	memcpy(u->addr.sun_path, path, strlen(path) + 1);
	u->parts = calloc(REPLY_PARTS, sizeof *u->parts);
	if (u->parts == NULL || msgwire_in_init(&u->in, u->parts, REPLY_PARTS, REPLY_BYTES) < 0) {
		snprintf(err, errlen, "%.300s: out of memory", url);
		free(u->parts);
		return -1;
	}
	return 0;
}

void unixconn_drop(struct unixconn *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	msgwire_in_reset(&u->in);
	msgwire_out_free(&u->out);
}

void unixconn_close(struct unixconn *u)
{
	unixconn_drop(u);
	msgwire_in_free(&u->in);
	free(u->parts);
	u->parts = NULL;
}

/* 1: connected just now; 0: connected already; -1: the coordinator is not
 * there (yet). */
int unixconn_connect(struct unixconn *u)
{
	if (u->fd >= 0)
		return 0;
	u->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		return -1;
	if (connect(u->fd, (struct sockaddr *)&u->addr, sizeof u->addr) < 0) {
		unixconn_drop(u);
		return -1;
	}
	return 1;
}

/* Waits for the socket to be ready for events; 0 when the deadline came
 * first. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left = deadline - mono_ns();
	int rc;

	if (left <= 0)
		return 0;
	rc = poll(&p, 1, (int)((left + NS_PER_MS - 1) / NS_PER_MS));
	return rc < 0 && errno == EINTR ? 1 : rc;
}

/* Sends the whole message, or drops the connection (a message cut short
 * would make the rest of the stream meaningless): -1 then. */
int unixconn_send(struct unixconn *u, const char *head, size_t hlen,
		  const struct qpart *parts, size_t nparts, int64_t deadline)
{
	int rc = u->fd < 0 ? -1 : msgwire_push_ref(&u->out, head, hlen, nparts > 0);

	for (size_t i = 0; rc == 0 && i < nparts; i++)
		rc = msgwire_push_ref(&u->out, parts[i].data, parts[i].len, i + 1 < nparts);
	while (rc == 0 && (rc = msgwire_write(&u->out, u->fd)) == 1)
		rc = wait_fd(u->fd, POLLOUT, deadline) > 0 ? 0 : -1;
	if (rc < 0)
		unixconn_drop(u);
	return rc;
}

/*
 * Waits until the deadline for a whole message: 1, and it is in
 * u->parts[0 .. u->in.nparts), the caller's to close; 0: none came; -1:
 * the connection is gone (dropped).  A deadline already past only takes
 * what is there.
 */
int unixconn_recv(struct unixconn *u, int64_t deadline)
{
	int rc;

	if (u->fd < 0)
		return -1;
	if (!msgwire_buffered(&u->in) && deadline > mono_ns() &&
	    wait_fd(u->fd, POLLIN, deadline) == 0)
		return 0;
	for (;;) {
		rc = msgwire_read(&u->in, u->fd);
		if (rc != 0)
			break;
		if (wait_fd(u->fd, POLLIN, deadline) == 0)
			return 0;
	}
	if (rc < 0)
		unixconn_drop(u);
	return rc;
}
