/*
 * drv-beanstalkd: the bench/queue driver for beanstalkd, speaking its text
 * protocol (doc/protocol.txt in beanstalkd) over one TCP connection.
 *
 * beanstalkd has no multi-job commands, so a batch is pipelined: n
 * commands go out in one writev and the n answers are read back, one
 * round trip a batch, as with the other systems.
 *
 *   put:  n x "put 0 0 TTR BYTES\r\nDATA\r\n"  ->  n x "INSERTED id"
 *   take: "reserve-with-timeout 1" then n-1 x "reserve-with-timeout 0"
 *         (the first waits for work, the rest take what is ready), then
 *         n x "delete id"  ->  n x "DELETED"
 *
 * The window pipelines across batches the same way, beanstalkd answering
 * in order on a connection: up to the window of batches of puts are
 * written before the oldest batch's answers are read, and a batch of
 * deletes is written without waiting, its answers read ahead of the
 * next reserves' answers.
 *
 * SERVER is HOST:PORT.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <unistd.h>

#include "harness.h"

#define TTR_SEC 30		/* like spsc's default visibility timeout */
#define LINE_MAX_BYTES 256
#define IOV_BATCH 900		/* under IOV_MAX (1024), a multiple of 3 */

struct bconn {
	int fd;
	const struct qb_conf *conf;
	uint8_t *in;		/* what was read and not yet parsed */
	size_t start, end, cap;
	char *cmds;		/* command lines of one batch */
	size_t cmds_len, cmds_cap;
	struct iovec *iov;
	unsigned long long *ids;
	/* The batches of puts or deletes written whose answers are still
	 * to be read, oldest first: a ring of window entries, each its
	 * number of commands. */
	int pending[QB_WINDOW_MAX];
	int first, npending;
};

/* unix:PATH: beanstalkd -l unix:PATH. */
static int connect_unix(const char *server)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *path = server + 5;
	int fd;

	if (strlen(path) >= sizeof a.sun_path) {
		qb_error("%s: path too long", server);
		return -1;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		qb_error("%s: cannot connect: %s", server, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(const char *server)
{
	char host[256];
	const char *colon = strrchr(server, ':');
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int fd = -1, one = 1, rc;

	if (strncmp(server, "unix:", 5) == 0)
		return connect_unix(server);
	if (colon == NULL || (size_t)(colon - server) >= sizeof host) {
		qb_error("%s: expected HOST:PORT or unix:PATH", server);
		return -1;
	}
	memcpy(host, server, (size_t)(colon - server));
	host[colon - server] = '\0';
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		qb_error("%s: %s", server, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		qb_error("%s: cannot connect: %s", server, strerror(errno));
		return -1;
	}
	/* Batches are pipelined by hand: Nagle would only add delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static int write_all(struct bconn *c, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(c->fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			qb_error("%s: write: %s", c->conf->server, strerror(errno));
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Makes at least n unparsed bytes available at c->in + c->start. */
static int fill(struct bconn *c, size_t n)
{
	if (c->start + n > c->cap) {
		memmove(c->in, c->in + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (n > c->cap) {
		qb_error("%s: a reply of %zu bytes is over the buffer", c->conf->server, n);
		return -1;
	}
	while (c->end - c->start < n) {
		ssize_t r = read(c->fd, c->in + c->end, c->cap - c->end);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			qb_error("%s: read: %s", c->conf->server,
				 r == 0 ? "connection closed" : strerror(errno));
			return -1;
		}
		c->end += (size_t)r;
	}
	return 0;
}

/* The next reply line, without its "\r\n", NUL-terminated in place. */
static char *read_line(struct bconn *c)
{
	for (;;) {
		uint8_t *p = c->in + c->start, *crlf;
		size_t have = c->end - c->start;
		if ((crlf = memmem(p, have, "\r\n", 2)) != NULL) {
			*crlf = '\0';
			c->start += (size_t)(crlf - p) + 2;
			return (char *)p;
		}
		if (have > LINE_MAX_BYTES) {
			qb_error("%s: reply line too long", c->conf->server);
			return NULL;
		}
		if (fill(c, have + 1) < 0)
			return NULL;
	}
}

/* Appends one command line to the batch's command buffer; returns where
 * it starts. */
static size_t __attribute__((format(printf, 2, 3)))
add_cmd(struct bconn *c, const char *fmt, ...)
{
	size_t at = c->cmds_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->cmds + at, c->cmds_cap - at, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < c->cmds_cap - at)
		c->cmds_len += (size_t)n;
	return at;
}

/* Sends one command and expects an exact answer (for set-up commands). */
static int simple(struct bconn *c, const char *cmd, const char *expect)
{
	struct iovec iov = { .iov_base = (void *)cmd, .iov_len = strlen(cmd) };
	char *line;

	if (write_all(c, &iov, 1) < 0 || (line = read_line(c)) == NULL)
		return -1;
	if (strcmp(line, expect) != 0) {
		qb_error("%s: '%.*s' answered '%s'", c->conf->server,
			 (int)strcspn(cmd, "\r"), cmd, line);
		return -1;
	}
	return 0;
}

static void bs_close(void *conn)
{
	struct bconn *c = conn;

	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->cmds);
	free(c->iov);
	free(c->ids);
	free(c);
}

static void *bs_open(const struct qb_conf *conf, int consumer)
{
	struct bconn *c = calloc(1, sizeof *c);
	char cmd[300], expect[300];

	if (c == NULL)
		return NULL;
	c->conf = conf;
	c->cap = conf->atom_bytes + 4096 > 65536 ? conf->atom_bytes + 4096 : 65536;
	c->cmds_cap = (size_t)conf->batch * 64 + 64;
	c->in = malloc(c->cap);
	c->cmds = malloc(c->cmds_cap);
	c->iov = calloc((size_t)conf->batch * 3, sizeof *c->iov);
	c->ids = calloc((size_t)conf->batch, sizeof *c->ids);
	if (c->in == NULL || c->cmds == NULL || c->iov == NULL || c->ids == NULL ||
	    (c->fd = connect_to(conf->server)) < 0) {
		c->fd = -1;
		bs_close(c);
		return NULL;
	}
	if (consumer < 0) {
		snprintf(cmd, sizeof cmd, "use %s\r\n", conf->queue);
		snprintf(expect, sizeof expect, "USING %s", conf->queue);
		if (simple(c, cmd, expect) < 0)
			goto fail;
	} else {
		snprintf(cmd, sizeof cmd, "watch %s\r\n", conf->queue);
		if (simple(c, cmd, "WATCHING 2") < 0 ||
		    simple(c, "ignore default\r\n", "WATCHING 1") < 0)
			goto fail;
	}
	return c;
fail:
	bs_close(c);
	return NULL;
}

/* Reads the answers to the oldest batch of puts or deletes. */
static int read_oldest(struct bconn *c, int deletes)
{
	int n = c->pending[c->first];

	c->first = (c->first + 1) % QB_WINDOW_MAX;
	c->npending--;
	for (int i = 0; i < n; i++) {
		char *line = read_line(c);
		if (line == NULL)
			return -1;
		if (deletes ? strcmp(line, "DELETED") != 0 : strncmp(line, "INSERTED ", 9) != 0) {
			qb_error("%s: %s", deletes ? "delete" : "put", line);
			return -1;
		}
	}
	return 0;
}

/* Records the batch just written and reads the oldest answers until at
 * most window - 1 batches are unread (none with a window of 1).  Those
 * wait in the socket buffers meanwhile: about 20 bytes a command, 6 kB
 * at the default window and batch, far below the 128 kB a loopback
 * socket starts with, so beanstalkd does not stall on writing them. */
static int written(struct bconn *c, int n, int deletes)
{
	c->pending[(c->first + c->npending) % QB_WINDOW_MAX] = n;
	c->npending++;
	while (c->npending >= c->conf->window)
		if (read_oldest(c, deletes) < 0)
			return -1;
	return 0;
}

static int bs_flush_puts(void *conn)
{
	struct bconn *c = conn;

	while (c->npending > 0)
		if (read_oldest(c, 0) < 0)
			return -1;
	return 0;
}

static int bs_flush_deletes(void *conn)
{
	struct bconn *c = conn;

	while (c->npending > 0)
		if (read_oldest(c, 1) < 0)
			return -1;
	return 0;
}

static int bs_put(void *conn, const struct qb_atom *atoms, int n)
{
	struct bconn *c = conn;
	int k = 0;

	c->cmds_len = 0;
	for (int i = 0; i < n; i++) {
		size_t at = add_cmd(c, "put 0 0 %d %zu\r\n", TTR_SEC, atoms[i].len);
		c->iov[k].iov_base = c->cmds + at;
		c->iov[k++].iov_len = c->cmds_len - at;
		c->iov[k].iov_base = (void *)atoms[i].data;
		c->iov[k++].iov_len = atoms[i].len;
		c->iov[k].iov_base = (void *)"\r\n";
		c->iov[k++].iov_len = 2;
	}
	/* Written in full before it returns: the atoms' data and the
	 * command lines are free again. */
	for (int at = 0; at < k; at += IOV_BATCH)
		if (write_all(c, c->iov + at, k - at < IOV_BATCH ? k - at : IOV_BATCH) < 0)
			return -1;
	return written(c, n, 0);
}

/* Reads one answer to a reserve: 1 and the job id, 0 if timed out. */
static int read_reserved(struct bconn *c, qb_check_fn check, void *ctx,
			 unsigned long long *id)
{
	unsigned long long bytes;
	char *line = read_line(c);
	const uint8_t *data;

	if (line == NULL)
		return -1;
	if (strcmp(line, "TIMED_OUT") == 0 || strcmp(line, "DEADLINE_SOON") == 0)
		return 0;
	if (sscanf(line, "RESERVED %llu %llu", id, &bytes) != 2) {
		qb_error("reserve: %s", line);
		return -1;
	}
	if (bytes + 2 > c->cap) {
		qb_error("reserve: job %llu has %llu bytes, more than an atom", *id, bytes);
		return -1;
	}
	if (fill(c, (size_t)bytes + 2) < 0)
		return -1;
	data = c->in + c->start;
	c->start += (size_t)bytes + 2;
	if (check(ctx, data, (size_t)bytes) < 0) {
		qb_error("reserve: job %llu is not one the producer made", *id);
		return -1;
	}
	return 1;
}

static int bs_take(void *conn, int max, int wait_ms, qb_check_fn check,
		   void *ctx)
{
	struct bconn *c = conn;
	struct iovec iov;
	int got = 0;

	(void)wait_ms;		/* beanstalkd waits in whole seconds */
	c->cmds_len = 0;
	for (int i = 0; i < max; i++)
		add_cmd(c, "reserve-with-timeout %d\r\n", i == 0 ? 1 : 0);
	iov.iov_base = c->cmds;
	iov.iov_len = c->cmds_len;
	/* Behind the last take's deletes, if their answers are unread: at
	 * most window - 1 batches are.  Their answers come first. */
	if (write_all(c, &iov, 1) < 0 || bs_flush_deletes(c) < 0)
		return -1;
	for (int i = 0; i < max; i++) {
		int rc = read_reserved(c, check, ctx, &c->ids[got]);
		if (rc < 0)
			return -1;
		got += rc;
	}
	if (got == 0)
		return 0;
	c->cmds_len = 0;
	for (int i = 0; i < got; i++)
		add_cmd(c, "delete %llu\r\n", c->ids[i]);
	iov.iov_base = c->cmds;
	iov.iov_len = c->cmds_len;
	if (write_all(c, &iov, 1) < 0 || written(c, got, 1) < 0)
		return -1;
	return got;
}

const struct qb_driver qb_driver = {
	.name = "beanstalkd",
	.open = bs_open,
	.put = bs_put,
	.put_flush = bs_flush_puts,
	.take = bs_take,
	.take_flush = bs_flush_deletes,
	.close = bs_close,
};
