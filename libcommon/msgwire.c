#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "grow.h"
#include "le.h"
#include "msgwire.h"

/* A part's rest at least this long is read straight into its message
 * rather than through the read-ahead buffer: one copy, not two. */
#define DIRECT_MIN (16 * 1024)
#define IOV_BATCH 64

int msgwire_in_init(struct msgwire_in *in, zmq_msg_t *parts, size_t max_parts,
		    size_t max_bytes)
{
	memset(in, 0, sizeof *in);
	in->parts = parts;
	in->max_parts = max_parts;
	in->max_bytes = max_bytes;
	in->buf = malloc(MSGWIRE_BUF);
	return in->buf ? 0 : -1;
}

/* Forgets what was read: a new connection starts a new stream. */
void msgwire_in_reset(struct msgwire_in *in)
{
	size_t open = in->nparts + (in->in_part ? 1 : 0);

	if (!in->done)
		for (size_t i = 0; i < open; i++)
			zmq_msg_close(&in->parts[i]);
	in->pos = in->end = 0;
	in->nparts = in->bytes = in->got = 0;
	in->in_part = in->more = in->done = 0;
}

void msgwire_in_free(struct msgwire_in *in)
{
	if (in->buf)
		msgwire_in_reset(in);
	free(in->buf);
	in->buf = NULL;
}

int msgwire_buffered(const struct msgwire_in *in)
{
	return in->pos < in->end;
}

static int broken(struct msgwire_in *in, int err)
{
	msgwire_in_reset(in);
	errno = err;
	return -1;
}

/* Opens the next part from its word in the buffer; -1 past a bound. */
static int part_begin(struct msgwire_in *in)
{
	uint32_t word = le_get32(in->buf + in->pos);
	size_t len = word & MSGWIRE_PART_MAX;

	if (in->nparts == in->max_parts || len > in->max_bytes - in->bytes)
		return broken(in, EMSGSIZE);
	if (zmq_msg_init_size(&in->parts[in->nparts], len) < 0)
		return broken(in, ENOMEM);
	in->pos += 4;
	in->in_part = 1;
	in->more = (word & MSGWIRE_MORE) != 0;
	in->got = 0;
	return 0;
}

/* Moves buffered bytes into the open part; 1 once the message is whole. */
static int part_fill(struct msgwire_in *in)
{
	zmq_msg_t *m = &in->parts[in->nparts];
	size_t len = zmq_msg_size(m), n = len - in->got;

	if (n > in->end - in->pos)
		n = in->end - in->pos;
	if (n) {
		memcpy((uint8_t *)zmq_msg_data(m) + in->got, in->buf + in->pos, n);
		in->pos += n;
		in->got += n;
	}
	if (in->got < len)
		return 0;
	in->in_part = 0;
	in->nparts++;
	in->bytes += len;
	if (in->more)
		return 0;
	in->done = 1;
	return 1;
}

/* What the buffer holds, taken as far as it goes; 1: a whole message. */
static int consume(struct msgwire_in *in)
{
	for (;;) {
		if (!in->in_part) {
			if (in->end - in->pos < 4)
				return 0;
			if (part_begin(in) < 0)
				return -1;
		}
		int rc = part_fill(in);
		if (rc != 0 || in->in_part)
			return rc;
	}
}

/* One read(2): into the open part when much of it is missing, else into
 * the buffer.  The count read, 0 at end of stream, -1 with errno. */
static ssize_t fill(struct msgwire_in *in, int fd, size_t *asked)
{
	ssize_t r;

	if (in->in_part && in->pos == in->end) {
		zmq_msg_t *m = &in->parts[in->nparts];
		size_t left = zmq_msg_size(m) - in->got;
		if (left >= DIRECT_MIN) {
			*asked = left;
			do
				r = read(fd, (uint8_t *)zmq_msg_data(m) + in->got, left);
			while (r < 0 && errno == EINTR);
			if (r > 0)
				in->got += (size_t)r;
			return r;
		}
	}
	if (in->pos > 0) {
		memmove(in->buf, in->buf + in->pos, in->end - in->pos);
		in->end -= in->pos;
		in->pos = 0;
	}
	*asked = MSGWIRE_BUF - in->end;
	do
		r = read(fd, in->buf + in->end, MSGWIRE_BUF - in->end);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		in->end += (size_t)r;
	return r;
}

/*
 * Reads from a non-blocking fd until a message is whole.  1: it is, in
 * in->parts[0 .. in->nparts), and the caller owns those messages; the next
 * call starts the next message.  0: not yet, and nothing more to read
 * now.  -1: the stream ended (errno 0), broke (errno), or broke a bound
 * (EMSGSIZE); what was read is dropped.
 */
int msgwire_read(struct msgwire_in *in, int fd)
{
	if (in->done) {
		in->done = 0;
		in->nparts = in->bytes = 0;
	}
	for (;;) {
		int rc = consume(in);
		size_t asked;
		ssize_t r;

		if (rc != 0)
			return rc;
		r = fill(in, fd, &asked);
		if (r == 0)
			return broken(in, in->nparts || in->in_part || in->end > in->pos ? EPIPE : 0);
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : broken(in, errno);
		/* A short read took all there was: the next wait says when
		 * there is more, with no read(2) that finds nothing. */
		if ((size_t)r < asked)
			return consume(in);
	}
}

static struct msgwire_part *push(struct msgwire_out *o, size_t len, int more)
{
	struct msgwire_part *p;

	if (len > MSGWIRE_PART_MAX) {
		errno = EMSGSIZE;
		return NULL;
	}
	if (o->head > 0 && o->n == o->cap) {
		memmove(o->v, o->v + o->head, (o->n - o->head) * sizeof *o->v);
		o->n -= o->head;
		o->head = 0;
	}
	if (grow(&o->v, &o->cap, o->n + 1, sizeof *o->v) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	p = &o->v[o->n++];
	memset(p, 0, sizeof *p);
	p->len = len;
	le_put32(p->word, (uint32_t)len | (more ? MSGWIRE_MORE : 0));
	return p;
}

/* Takes the message over (it is closed once written, or on free). */
int msgwire_push_msg(struct msgwire_out *o, zmq_msg_t *m, int more)
{
	struct msgwire_part *p = push(o, zmq_msg_size(m), more);

	if (p == NULL)
		return -1;
	zmq_msg_init(&p->msg);
	zmq_msg_move(&p->msg, m);
	p->owned = 1;
	return 0;
}

/* Bytes the caller keeps as they are until msgwire_pending says 0. */
int msgwire_push_ref(struct msgwire_out *o, const void *data, size_t len, int more)
{
	struct msgwire_part *p = push(o, len, more);

	if (p == NULL)
		return -1;
	p->data = data;
	return 0;
}

size_t msgwire_pending(const struct msgwire_out *o)
{
	return o->n - o->head;
}

static void part_done(struct msgwire_out *o)
{
	if (o->v[o->head].owned)
		zmq_msg_close(&o->v[o->head].msg);
	o->head++;
	o->off = 0;
	if (o->head == o->n)
		o->head = o->n = 0;
}

/* A part's bytes, looked up each time: a small message keeps them inside
 * itself, so they move when the queue's array does. */
static const uint8_t *part_data(struct msgwire_part *p)
{
	return p->owned ? zmq_msg_data(&p->msg) : p->data;
}

/* The queue's next bytes as iovecs, the first part's written bytes
 * skipped. */
static int gather(struct msgwire_out *o, struct iovec *iov)
{
	int k = 0;
	size_t skip = o->off;

	for (size_t i = o->head; i < o->n && k + 2 <= IOV_BATCH; i++) {
		struct msgwire_part *p = &o->v[i];
		if (skip < 4)
			iov[k++] = (struct iovec){ (void *)(p->word + skip), 4 - skip };
		size_t dskip = skip > 4 ? skip - 4 : 0;
		if (p->len > dskip)
			iov[k++] = (struct iovec){ (void *)(part_data(p) + dskip), p->len - dskip };
		skip = 0;
	}
	return k;
}

/* Takes n written bytes off the front of the queue. */
static void advance(struct msgwire_out *o, size_t n)
{
	while (n > 0 && o->head < o->n) {
		size_t left = 4 + o->v[o->head].len - o->off;
		if (n < left) {
			o->off += n;
			return;
		}
		n -= left;
		part_done(o);
	}
}

/*
 * Writes what the socket takes without waiting.  0: the queue is empty;
 * 1: some is left (wait for POLLOUT); -1: the connection is broken
 * (errno).  MSG_NOSIGNAL: a peer that went away is EPIPE, not SIGPIPE.
 */
int msgwire_write(struct msgwire_out *o, int fd)
{
	struct iovec iov[IOV_BATCH];

	while (msgwire_pending(o) > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)gather(o, iov) };
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
		advance(o, (size_t)w);
	}
	return 0;
}

void msgwire_out_free(struct msgwire_out *o)
{
	while (msgwire_pending(o) > 0)
		part_done(o);
	free(o->v);
	memset(o, 0, sizeof *o);
}
