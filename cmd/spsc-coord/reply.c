/*
 * reply: building the turn's replies, holding what the log points into,
 * and sending both off once the log is written (see reply.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "grow.h"
#include "log.h"
#include "reply.h"
#include "segview.h"

static void free_buffer(void *data, void *hint)
{
	(void)hint;
	free(data);
}

static int parts_reserve(struct reply *r)
{
	return grow(&r->parts, &r->cap, r->nparts + 1, sizeof *r->parts);
}

int reply_add(struct reply *r, const void *data, size_t len)
{
	if (parts_reserve(r) < 0 || zmq_msg_init_size(&r->parts[r->nparts], len) < 0)
		return -1;
	memcpy(zmq_msg_data(&r->parts[r->nparts++]), data, len);
	r->bytes += len;
	return 0;
}

/* One part made of two pieces: a frame's header and its payload. */
int reply_add2(struct reply *r, const void *a, size_t alen, const void *b,
	       size_t blen)
{
	if (parts_reserve(r) < 0 || zmq_msg_init_size(&r->parts[r->nparts], alen + blen) < 0)
		return -1;
	memcpy(zmq_msg_data(&r->parts[r->nparts]), a, alen);
	if (blen)
		memcpy((uint8_t *)zmq_msg_data(&r->parts[r->nparts]) + alen, b, blen);
	r->nparts++;
	r->bytes += alen + blen;
	return 0;
}

/* Bytes in a segment's mapping, sent where they lie: ZeroMQ drops the
 * reference the caller took on the view once they are written out. */
int reply_add_view(struct reply *r, const void *data, size_t len,
		   struct segview *view)
{
	if (parts_reserve(r) < 0 ||
	    zmq_msg_init_data(&r->parts[r->nparts], (void *)data, len, segview_release,
			      view) < 0) {
		segview_drop(view);
		return -1;
	}
	r->nparts++;
	r->bytes += len;
	return 0;
}

/* Hands a malloc'd buffer to ZeroMQ, which frees it once sent: the frame
 * read from the log goes out without another copy. */
int reply_add_owned(struct reply *r, void *data, size_t len)
{
	if (parts_reserve(r) < 0 ||
	    zmq_msg_init_data(&r->parts[r->nparts], data, len, free_buffer, NULL) < 0) {
		free(data);
		return -1;
	}
	r->nparts++;
	r->bytes += len;
	return 0;
}

struct reply *reply_begin(struct coord *c, zmq_msg_t *identity,
			  const struct proto_header *h)
{
	char head[PROTO_HEADER_MAX];
	struct reply *r;
	size_t n;

	if (grow(&c->replies, &c->replies_cap, c->nreplies + 1, sizeof *c->replies) < 0)
		return NULL;
	r = &c->replies[c->nreplies];
	memset(r, 0, sizeof *r);
	if (parts_reserve(r) < 0)
		return NULL;
	zmq_msg_init(&r->parts[0]);
	if (zmq_msg_copy(&r->parts[0], identity) < 0) {
		free(r->parts);
		return NULL;
	}
	r->nparts = 1;
	n = proto_format(head, sizeof head, h);
	if (reply_add(r, head, n) < 0) {
		zmq_msg_close(&r->parts[0]);
		free(r->parts);
		return NULL;
	}
	c->nreplies++;
	return r;
}

void reply_error(struct coord *c, zmq_msg_t *identity, uint64_t reqid,
		 int status, const char *fmt, ...)
{
	struct proto_header h = { .reply = 1, .code = status, .reqid = reqid };
	struct reply *r = reply_begin(c, identity, &h);
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_debug("reply %s to request %llu: %s", proto_status_name(status),
		  (unsigned long long)reqid, msg);
	if (r)
		reply_add(r, msg, strlen(msg));
}

int coord_hold(struct coord *c, zmq_msg_t *msg)
{
	if (grow(&c->held, &c->held_cap, c->nheld + 1, sizeof *c->held) < 0)
		return -1;
	c->held_bytes += zmq_msg_size(msg);
	zmq_msg_init(&c->held[c->nheld]);
	zmq_msg_move(&c->held[c->nheld++], msg);
	return 0;
}

int coord_keep_buffer(struct coord *c, void *buf)
{
	if (grow(&c->bufs, &c->bufs_cap, c->nbufs + 1, sizeof *c->bufs) < 0) {
		free(buf);
		return -1;
	}
	c->bufs[c->nbufs++] = buf;
	return 0;
}

/* Sends every deferred reply.  A client that went away just loses its
 * reply; what it was given comes back when its lease runs out. */
void replies_send(struct coord *c)
{
	for (size_t i = 0; i < c->nreplies; i++) {
		struct reply *r = &c->replies[i];
		size_t k = 0;
		if (conns_owns(&r->parts[0])) {
			conns_send(&c->conns, r->parts, r->nparts);
			free(r->parts);
			continue;
		}
		for (; k < r->nparts; k++) {
			int more = k + 1 < r->nparts ? ZMQ_SNDMORE : 0;
			if (zmq_msg_send(&r->parts[k], c->router, more | ZMQ_DONTWAIT) < 0)
				break;
		}
		for (; k < r->nparts; k++)
			zmq_msg_close(&r->parts[k]);
		free(r->parts);
	}
	c->nreplies = 0;
	conns_flush(&c->conns);
}

/* Once the log is written, what it pointed into may go. */
void replies_release(struct coord *c)
{
	for (size_t i = 0; i < c->nheld; i++)
		zmq_msg_close(&c->held[i]);
	c->nheld = 0;
	for (size_t i = 0; i < c->nbufs; i++)
		free(c->bufs[i]);
	c->nbufs = 0;
	c->held_bytes = 0;
}

/* What the turn holds so far: its replies, and the PUTs the log points
 * into.  The loop stops taking requests past a bound (server.c). */
size_t replies_bytes(const struct coord *c)
{
	size_t n = c->held_bytes;

	for (size_t i = 0; i < c->nreplies; i++)
		n += c->replies[i].bytes;
	return n;
}

void replies_free(struct coord *c)
{
	free(c->replies);
	free(c->held);
	free(c->bufs);
	c->replies = NULL;
	c->held = NULL;
	c->bufs = NULL;
}
