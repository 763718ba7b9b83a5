#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poll.h>

#include "endpoint.h"
#include "fdio.h"
#include "home.h"
#include "natsq.h"
#include "proto.h"
#include "qbackend.h"
#include "stop.h"
#include "units.h"

int endpoint_kind_of(const char *spec)
{
	if (strcmp(spec, "-") == 0)
		return ENDPOINT_STDIO;
	if (strchr(spec, '/') != NULL && strchr(spec, '@') == NULL)
		return ENDPOINT_PATH;
	return ENDPOINT_QUEUE;
}

static int open_stdio(struct endpoint *ep)
{
	ep->fd = ep->writing ? STDOUT_FILENO : STDIN_FILENO;
	snprintf(ep->name, sizeof ep->name, "%s", ep->writing ? "stdout" : "stdin");
	fd_grow_pipe(ep->fd);
	return 0;
}

static int open_path(struct endpoint *ep, const char *path)
{
	int flags = ep->writing ? O_WRONLY | O_CREAT | O_APPEND : O_RDONLY;

	snprintf(ep->name, sizeof ep->name, "%s", path);
	ep->fd = open(path, flags | O_CLOEXEC, 0666);
	if (ep->fd < 0) {
		snprintf(ep->err, sizeof ep->err, "%s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Queue names are checked here, once, for every program: a name is also a
 * file name in the coordinator's state directory, so nothing else may pass. */
static int open_queue(struct endpoint *ep, const char *spec,
		      const struct endpoint_opts *o)
{
	const char *at = strchr(spec, '@');
	size_t len = at ? (size_t)(at - spec) : strlen(spec);
	char url[4096];

	if (!queue_name_valid(spec, len)) {
		snprintf(ep->err, sizeof ep->err,
			 "%s: not a valid endpoint: use '-', a path with a '/' or a queue name of 1 to %d characters from [A-Za-z0-9._-]",
			 spec, QUEUE_NAME_MAX);
		return -1;
	}
	snprintf(ep->name, sizeof ep->name, "%.*s", (int)len, spec);
	if (at)
		snprintf(url, sizeof url, "%s", at + 1);
	else if (coord_default_url(url, sizeof url) < 0) {
		snprintf(ep->err, sizeof ep->err,
			 "%s: cannot name the coordinator: set SPSC_COORD or SPSC_HOME",
			 ep->name);
		return -1;
	}
	ep->qb = queue_backend_for(url);
	return ep->qb->open(ep, url, o);
}

/* The backends, in the order a flush goes through them: spsc-coord's
 * first, since its ACKs wait for NATS's publishes (qlink_before_acks)
 * and NATS's acks for its PUTs. */
static const struct queue_backend *const backends[] = { &queue_coord, &queue_nats };
#define NBACKENDS (sizeof backends / sizeof backends[0])
/* which backends the last endpoints_progress left something on its way */
static int progressing[NBACKENDS];

/* nats://... is NATS JetStream; anything else is spsc-coord's, which says
 * what is wrong with a URL it cannot use. */
const struct queue_backend *queue_backend_for(const char *url)
{
	return natsq_is_url(url) ? &queue_nats : &queue_coord;
}

int endpoint_open(struct endpoint *ep, const char *spec, int writing,
		  const struct endpoint_opts *o)
{
	int rc;

	memset(ep, 0, sizeof *ep);
	ep->fd = -1;
	ep->wm = ep->wm_next = ATOM_TIME_NONE;
	ep->writing = writing;
	ep->fsync = o ? o->fsync : 0;
	ep->kind = endpoint_kind_of(spec);
	atom_codec_init(&ep->codec, o ? o->level : 0, o ? o->limit : 0);
	if (ep->kind == ENDPOINT_STDIO)
		rc = open_stdio(ep);
	else if (ep->kind == ENDPOINT_PATH)
		rc = open_path(ep, spec);
	else
		rc = open_queue(ep, spec, o);
	if (rc < 0) {
		atom_codec_free(&ep->codec);
		return -1;
	}
	if (ep->kind == ENDPOINT_QUEUE)
		return 0;
	if (writing) {
		atom_writer_init(&ep->wr, ep->fd, ep->name, &ep->codec);
	} else if (atom_reader_init(&ep->rd, ep->fd, ep->name, &ep->codec) < 0) {
		snprintf(ep->err, sizeof ep->err, "%s: out of memory", ep->name);
		endpoint_close(ep);
		return -1;
	}
	return 0;
}

/* 1: an atom; 0: end of input; -1: ep->err says what is wrong. */
int endpoint_read(struct endpoint *ep, struct atom *a)
{
	int rc;

	do
		rc = endpoint_read_wait(ep, a, -1);
	while (rc == ENDPOINT_AGAIN);
	return rc;
}

/*
 * Over a pipe or a file there is one producer, so its atoms' watermarks
 * only rise, and the end of the stream is the end of its input.  An
 * atom's watermark promises what comes after it, not its own events: it
 * counts from the next read on, so while a program handles an atom the
 * watermark is the one its producer had before making it.
 */
static int read_frame(struct endpoint *ep, struct atom *a)
{
	int rc;

	if (ep->wm_next > ep->wm)
		ep->wm = ep->wm_next;
	rc = atom_read(&ep->rd, a);
	if (rc < 0)
		snprintf(ep->err, sizeof ep->err, "%s", ep->rd.err);
	else if (rc == 0)
		ep->wm = ATOM_TIME_END;
	else
		ep->wm_next = a->wm;
	return rc;
}

/*
 * Like endpoint_read, but waits at most wait_ns (negative: for ever) for
 * the next atom to start arriving, and returns ENDPOINT_AGAIN if none did.
 * A stop request (SIGTERM) ends the input: 0.  So a poll loop that also
 * watches child processes can ask "anything yet?" without blocking.
 */
int endpoint_read_wait(struct endpoint *ep, struct atom *a, int64_t wait_ns)
{
	struct pollfd p = { .fd = ep->fd, .events = POLLIN };
	int64_t until = wait_ns < 0 ? INT64_MAX : mono_ns() + wait_ns;

	if (ep->kind == ENDPOINT_QUEUE)
		return ep->qb->read(ep, a, wait_ns);
	if (atom_reader_buffered(&ep->rd) > 0 || ep->kind == ENDPOINT_PATH)
		return read_frame(ep, a);
	for (;;) {
		int64_t left = until - mono_ns();
		int ms = wait_ns < 0 ? -1 : left <= 0 ? 0 : (int)((left + NS_PER_MS - 1) / NS_PER_MS);
		int rc;
		if (stop_requested)
			return 0;
		rc = poll(&p, 1, ms);
		if (rc > 0)
			return read_frame(ep, a);
		if (rc == 0)
			return ENDPOINT_AGAIN;
		if (errno != EINTR) {
			snprintf(ep->err, sizeof ep->err, "%s: poll: %s", ep->name,
				 strerror(errno));
			return -1;
		}
	}
}

int endpoint_write(struct endpoint *ep, const struct atom *a)
{
	if (ep->kind == ENDPOINT_QUEUE)
		return ep->qb->write(ep, a);
	if (atom_write(&ep->wr, a) < 0) {
		snprintf(ep->err, sizeof ep->err, "%s", ep->wr.err);
		return -1;
	}
	if (ep->fsync && ep->kind == ENDPOINT_PATH)
		return endpoint_sync(ep);
	return 0;
}

/* Pipes and files have no one to tell: an atom is consumed when read. */
int endpoint_ack(struct endpoint *ep, const struct atom *a)
{
	return ep->kind == ENDPOINT_QUEUE ? ep->qb->settle(ep, a, OP_ACK, 0) : 0;
}

int endpoint_nack(struct endpoint *ep, const struct atom *a, int64_t delay_ns)
{
	if (ep->kind != ENDPOINT_QUEUE)
		return 0;
	return ep->qb->settle(ep, a, OP_NACK, delay_ns / NS_PER_MS);
}

int endpoint_touch(struct endpoint *ep, const struct atom *a, int64_t vis_ns)
{
	if (ep->kind != ENDPOINT_QUEUE)
		return 0;
	return ep->qb->settle(ep, a, OP_TOUCH, vis_ns / NS_PER_MS);
}

/* The lease a queue grants per delivery (0 for pipes and files): how
 * often a long invocation must TOUCH its atom. */
int64_t endpoint_lease_ns(const struct endpoint *ep)
{
	return ep->kind == ENDPOINT_QUEUE ? ep->qb->lease_ns(ep) : 0;
}

/* A file's writes reach the disk; a queue's batches (and every other
 * queue endpoint's: see endpoints_flush) reach the coordinator. */
int endpoint_sync(struct endpoint *ep)
{
	if (ep->kind == ENDPOINT_QUEUE)
		return ep->qb->sync(ep);
	if (ep->kind != ENDPOINT_PATH || fsync(ep->fd) == 0)
		return 0;
	snprintf(ep->err, sizeof ep->err, "%s: fsync: %s", ep->name,
		 strerror(errno));
	return -1;
}

/*
 * Sends what queue endpoints hold back: their batched PUTs (answered, so
 * stored) and then their batched ACKs.  A program calls it before it waits
 * on anything but an endpoint read (which flushes by itself), so that no
 * output and no acknowledgement waits with it.
 */
int endpoints_flush(char *err, size_t errlen)
{
	for (size_t i = 0; i < NBACKENDS; i++)
		if (backends[i]->flush_all(err, errlen) < 0)
			return -1;
	return 0;
}

/*
 * The same for a program that waits on something else but wants no round
 * trip to the coordinator first: sends the batches and settles the answers
 * already in, without waiting for any.  Returns 1 while some are still on
 * their way (call it again within a millisecond or so: ACKs go only once
 * the PUTs before them are answered), 0 when all is settled, -1 on error.
 */
int endpoints_progress(char *err, size_t errlen)
{
	int pending = 0;

	for (size_t i = 0; i < NBACKENDS; i++) {
		int p = backends[i]->progress_all(err, errlen);
		if (p < 0)
			return -1;
		progressing[i] = p;
		pending |= p;
	}
	return pending;
}

/*
 * After endpoints_progress said 1: the fds to add to the program's own
 * poll(), readable when an answer it waits for may have come, so that it
 * need not look every millisecond.  *now is set if one is here already
 * (poll without waiting).  The count put in p (at most max), or -1 if
 * something on its way cannot be waited for by fd: then the program
 * calls endpoints_progress again within a millisecond or so.
 */
int endpoints_pollfds(struct pollfd *p, size_t max, int *now)
{
	size_t n = 0;

	*now = 0;
	for (size_t i = 0; i < NBACKENDS; i++) {
		int here = 0, k;
		if (!progressing[i])
			continue;
		if (backends[i]->pollfds_all == NULL ||
		    (k = backends[i]->pollfds_all(p + n, max - n, &here)) < 0)
			return -1;
		n += (size_t)k;
		*now |= here;
	}
	return (int)n;
}

int endpoint_fd(const struct endpoint *ep)
{
	return ep->fd;
}

/* True when a read can make progress without waiting: bytes buffered from
 * a pipe or a file; a queue's atoms fetched and not handed out, or the
 * answer to a GET that went ahead. */
int endpoint_pending(const struct endpoint *ep)
{
	if (ep->writing)
		return 0;
	if (ep->kind == ENDPOINT_QUEUE)
		return ep->qb->pending ? ep->qb->pending(ep) : 0;
	return atom_reader_buffered(&ep->rd) > 0;
}

/* Does a look (endpoint_read_wait, wait 0) that finds nothing leave a GET
 * waiting, whose answer endpoints_pollfds will wake the reader for?  Only
 * if endpoint_opts.look_wait_ns asked for it, and the backend can. */
int endpoint_looks_wait(const struct endpoint *ep)
{
	return ep->kind == ENDPOINT_QUEUE && ep->qb->looks_wait &&
	       ep->qb->looks_wait(ep);
}

int endpoint_is_queue(const struct endpoint *ep)
{
	return ep->kind == ENDPOINT_QUEUE;
}

/*
 * Says that this writer has written everything it will: over a queue the
 * stage is counted as finished (see spsc(7), "Completion"), over a pipe or
 * a file the end of the stream says it.  Call it only after a clean end of
 * input; a stage that fails must not, or its consumers would take a
 * partial output for the whole.
 */
int endpoint_finish(struct endpoint *ep)
{
	if (ep->kind == ENDPOINT_QUEUE)
		return ep->qb->finish(ep);
	return ep->fsync ? endpoint_sync(ep) : 0;
}

/* The event time below which no more input will come: ATOM_TIME_NONE
 * while unknown, ATOM_TIME_END once the input is complete. */
int64_t endpoint_watermark(const struct endpoint *ep)
{
	return ep->wm;
}

/* A queue input whose producers have all finished (or that was sealed),
 * as of the last read: nothing more will come but what it holds, some of
 * which this reader may hold itself (spsc-protocol(7), closed=1).  A
 * reader that keeps atoms unacknowledged until it has all it needs can
 * stop waiting for more.  Always 0 for pipes and files. */
int endpoint_input_closed(const struct endpoint *ep)
{
	return ep->closed;
}

int endpoint_close(struct endpoint *ep)
{
	int rc = 0;

	if (ep->kind == ENDPOINT_PATH && ep->fd >= 0 && close(ep->fd) < 0) {
		snprintf(ep->err, sizeof ep->err, "%s: close: %s", ep->name,
			 strerror(errno));
		rc = -1;
	}
	ep->fd = -1;
	if (ep->kind == ENDPOINT_QUEUE && ep->qs && ep->qb->close(ep) < 0)
		rc = -1;
	else if (ep->kind != ENDPOINT_QUEUE && !ep->writing)
		atom_reader_free(&ep->rd);
	atom_codec_free(&ep->codec);
	free(ep->queue);
	free(ep->url);
	ep->queue = ep->url = NULL;
	return rc;
}
