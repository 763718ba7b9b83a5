#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "grow.h"
#include "log.h"
#include "qlink.h"

#define FULL_BACKOFF_MAX_MS 2000

/* Every open link of the process: a flush covers them all, since an
 * input's outputs may go to any of them. */
static struct queue_link *open_links;

/* PUT batches begun by the process's links so far: what an ACK waits for
 * is named by this count when its receipt joined. */
static uint64_t put_seq;

/* What else must be stored before any ACK goes (qlink_before_acks). */
static int (*before_acks)(char *err, size_t errlen);

/* Another backend's writes join chain acknowledgement: FN is called, and
 * must succeed, before the links send their ACKs. */
void qlink_before_acks(int (*fn)(char *err, size_t errlen))
{
	before_acks = fn;
}

static void batch_reset(struct put_batch *b)
{
	b->nframes = 0;
	b->len = 0;
	b->wm = ATOM_TIME_NONE;
	b->reqid = 0;
	b->refused = 0;
	b->seq = 0;
}

struct queue_link *qlink_open(const char *queue, const char *url,
			      char *err, size_t errlen)
{
	struct queue_link *l = calloc(1, sizeof *l);

	if (l == NULL || (l->rep = calloc(1, sizeof *l->rep)) == NULL ||
	    (l->in = calloc(1, sizeof *l->in)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", queue);
		goto fail;
	}
	snprintf(l->name, sizeof l->name, "%s", queue);
	for (size_t i = 0; i < QLINK_PUT_WINDOW; i++)
		batch_reset(&l->puts[i]);
	if (qclient_open(&l->qc, url) < 0) {
		snprintf(err, errlen, "%.200s: %.300s", queue, l->qc.err);
		goto fail;
	}
	l->next_open = open_links;
	open_links = l;
	return l;
fail:
	if (l) {
		free(l->rep);
		free(l->in);
	}
	free(l);
	return NULL;
}

/* Closes without waiting: what is unanswered is the caller's to wait for
 * first (qlink_quiet). */
void qlink_close(struct queue_link *l)
{
	struct queue_link **pp;

	for (pp = &open_links; *pp; pp = &(*pp)->next_open)
		if (*pp == l) {
			*pp = l->next_open;
			break;
		}
	qreply_free(l->rep);
	qclient_close(&l->qc);
	for (size_t i = 0; i < QLINK_PUT_WINDOW; i++)
		free(l->puts[i].buf);
	free(l->rep);
	free(l->in);
	free(l);
}

/* -1 (l->err) for a status other than those the link handles itself. */
static int reply_ok(struct queue_link *l, const struct qreply *rep)
{
	char msg[300];

	if (rep->h.code == ST_OK || rep->h.code == ST_FULL ||
	    rep->h.code == ST_NOSPACE || rep->h.code == ST_STALE)
		return 0;
	snprintf(l->err, sizeof l->err, "%s: coordinator says %s: %s", l->name,
		 proto_status_name(rep->h.code), qreply_message(rep, msg, sizeof msg));
	return -1;
}

/* A PUT answered FINISHED by a stage's queue that another replica has
 * finished: the input was done, and its outputs stored, elsewhere (see
 * endpoint_opts).  Said once; the batch counts as stored. */
static int late_put(struct queue_link *l, const struct qreply *rep)
{
	if (rep->h.code != ST_FINISHED || !l->late_is_redundant)
		return 0;
	if (!l->warned_late++)
		log_warn("%s: this stage has finished the queue already (another replica saw its input complete); late outputs of work done there are dropped",
			 l->name);
	return 1;
}

static int lost(struct queue_link *l)
{
	snprintf(l->err, sizeof l->err, "%.200s: %.300s", l->name, l->qc.err);
	return -1;
}

/* Moves a reply, header and parts, into another. */
static void reply_move(struct qreply *to, struct qreply *from)
{
	to->h = from->h;
	to->nparts = from->nparts;
	for (size_t i = 0; i < from->nparts; i++) {
		zmq_msg_init(&to->parts[i]);
		zmq_msg_move(&to->parts[i], &from->parts[i]);
		zmq_msg_close(&from->parts[i]);
	}
	from->nparts = 0;
}

/* Settles the request l->in answers: a GET's reply becomes l->rep; an
 * ACK batch is done; a PUT batch is done, or refused for want of room;
 * qlink_request's reply goes to its caller. */
static int settle(struct queue_link *l)
{
	struct qreply *r = l->in;
	uint64_t id = r->h.reqid;
	int rc;

	if (id != 0 && id == l->call_reqid) {
		reply_move(l->call_rep, r);
		l->call_reqid = 0;
		return 0;
	}
	rc = late_put(l, r) ? 0 : reply_ok(l, r);

	if (id == l->get_reqid) {
		l->in = l->rep;		/* emptied before the GET was sent */
		l->rep = r;
		l->get_reqid = 0;
		l->got = rc == 0;
		if (rc < 0)
			qreply_free(r);
		return rc;
	}
	for (size_t i = 0; i < 2; i++)
		if (l->acks[i].reqid == id) {
			l->acks[i].reqid = 0;
			l->acks[i].n = 0;
		}
	for (size_t i = 0; i < QLINK_PUT_WINDOW; i++) {
		struct put_batch *b = &l->puts[i];
		if (b->reqid != id)
			continue;
		if (r->h.code == ST_FULL || r->h.code == ST_NOSPACE) {
			b->reqid = 0;
			b->refused = 1;
		} else {
			batch_reset(b);
		}
	}
	qreply_free(r);
	return rc;
}

/* Waits for the next answer to anything unanswered, and settles it. */
static int take_reply(struct queue_link *l)
{
	if (qclient_recv(&l->qc, l->in) < 0)
		return lost(l);
	return settle(l);
}

static void put_header(const struct queue_link *l, struct proto_header *h,
		       int64_t wm)
{
	*h = (struct proto_header){ .code = OP_PUT };
	if (l->producer)
		proto_set(h, "producer", l->producer);
	if (l->producer && wm != ATOM_TIME_NONE)
		proto_set(h, "wm", (uint64_t)wm);
	snprintf(h->queue, sizeof h->queue, "%.200s", l->name);
}

/*
 * A full queue, or a coordinator whose disk is full, is back-pressure,
 * not an error: wait and retry the same frame (PUT is all or nothing),
 * never drop.
 */
static int put_waiting(struct queue_link *l, const struct qpart *part, int64_t wm)
{
	long backoff = 10;
	int warned = 0, code;

	for (;;) {
		struct proto_header h;
		struct qreply rep;
		put_header(l, &h, wm);
		if (qlink_request(l, &h, part, 1, &rep) < 0)
			return -1;
		code = rep.h.code;	/* FINISHED here is late_put's: done */
		qreply_free(&rep);
		if (code != ST_FULL && code != ST_NOSPACE)
			return 0;
		if (!warned++)
			log_warn("%s: %s; waiting for consumers", l->name,
				 code == ST_FULL ? "queue full"
						 : "coordinator's disk is full");
		zmq_poll(NULL, 0, backoff);
		backoff = backoff * 2 > FULL_BACKOFF_MAX_MS ? FULL_BACKOFF_MAX_MS : backoff * 2;
	}
}

/* Sends again, an atom at a time, the batches refused whole (a batch may
 * be larger than the queue's max depth); the link is quiet. */
static int resend_refused(struct queue_link *l)
{
	for (size_t i = 0; i < QLINK_PUT_WINDOW; i++) {
		struct put_batch *b = &l->puts[i];
		if (!b->refused)
			continue;
		for (size_t k = 0; k < b->nframes; k++)
			if (put_waiting(l, &b->parts[k], b->wm) < 0)
				return -1;
		batch_reset(b);
	}
	return 0;
}

/* Waits for the answer to everything sent on the link, and stores what
 * was refused. */
int qlink_quiet(struct queue_link *l)
{
	while (l->qc.nsent > 0)
		if (take_reply(l) < 0)
			return -1;
	return resend_refused(l);
}

/*
 * One request answered before it returns, without waiting for the others
 * on their way: a GET left waiting in the coordinator by a reader that
 * only looks would hold up a NACK or a TOUCH for as long.  Their answers
 * are settled as they come.  Ours is waited for even when one of theirs
 * fails, since a resend would send its parts again.
 */
int qlink_request(struct queue_link *l, struct proto_header *h,
		  const struct qpart *parts, size_t n, struct qreply *rep)
{
	int rc = 0;

	snprintf(h->queue, sizeof h->queue, "%.200s", l->name);
	while (l->qc.nsent >= QCLIENT_WINDOW)
		if (take_reply(l) < 0)
			return -1;
	if (qclient_send(&l->qc, h, parts, n, 0) < 0)
		return lost(l);
	l->call_reqid = h->reqid;
	l->call_rep = rep;
	while (l->call_reqid) {
		if (qclient_recv(&l->qc, l->in) < 0) {
			l->call_reqid = 0;
			return lost(l);
		}
		if (settle(l) < 0)
			rc = -1;
	}
	if (rc == 0 && (late_put(l, rep) || reply_ok(l, rep) == 0))
		return 0;
	qreply_free(rep);
	return -1;
}

/* One request, once everything before it is answered (and stored). */
int qlink_call(struct queue_link *l, struct proto_header *h,
	       const struct qpart *parts, size_t n, struct qreply *rep)
{
	if (qlink_quiet(l) < 0)
		return -1;
	return qlink_request(l, h, parts, n, rep);
}

/* Sends the open PUT batch without waiting; the next batch to fill must
 * be free, so a full window waits for its oldest answer. */
static int put_send(struct queue_link *l)
{
	struct put_batch *b = &l->puts[l->fill];
	struct proto_header h;
	size_t off = 0;

	if (b->nframes == 0)
		return 0;
	for (size_t i = 0; i < b->nframes; i++) {
		b->parts[i].data = b->buf + off;
		off += b->parts[i].len;
	}
	put_header(l, &h, b->wm);
	if (qclient_send(&l->qc, &h, b->parts, b->nframes, 0) < 0)
		return lost(l);
	b->reqid = h.reqid;
	l->fill = (l->fill + 1) % QLINK_PUT_WINDOW;
	b = &l->puts[l->fill];
	while (b->reqid)
		if (take_reply(l) < 0)
			return -1;
	return b->refused ? qlink_quiet(l) : 0;
}

/* The frame (header, then stored payload) at the end of the open batch. */
int qlink_write(struct queue_link *l, const uint8_t *hdr, size_t hlen,
		const void *payload, size_t stored, int64_t wm)
{
	struct put_batch *b = &l->puts[l->fill];

	if (b->nframes == QLINK_PUT_ATOMS ||
	    (b->nframes > 0 && b->len + hlen + stored > QLINK_PUT_BYTES)) {
		if (put_send(l) < 0)
			return -1;
		b = &l->puts[l->fill];
	}
	if (b->nframes == 0)
		b->seq = ++put_seq;
	if (grow(&b->buf, &b->cap, b->len + hlen + stored, 1) < 0) {
		snprintf(l->err, sizeof l->err, "%s: out of memory", l->name);
		return -1;
	}
	memcpy(b->buf + b->len, hdr, hlen);
	if (stored > 0)		/* an empty atom may have no payload buffer */
		memcpy(b->buf + b->len + hlen, payload, stored);
	b->parts[b->nframes++].len = hlen + stored;
	b->len += hlen + stored;
	if (wm != ATOM_TIME_NONE && (b->wm == ATOM_TIME_NONE || wm > b->wm))
		b->wm = wm;
	return 0;
}

/* Joins the ACK batch; 1 when the batch is full and wants a flush. */
int qlink_ack(struct queue_link *l, const uint8_t receipt[RECEIPT_WIRE])
{
	struct ack_batch *a = &l->acks[l->ack_fill];

	a->after[a->n] = put_seq;
	memcpy(a->wire + a->n * RECEIPT_WIRE, receipt, RECEIPT_WIRE);
	return ++a->n == QLINK_ACK_BATCH;
}

/* Sends the ACK batch without waiting for its answer (only for the
 * answer to the batch before it, whose buffer it is about to fill). */
static int ack_send(struct queue_link *l)
{
	struct ack_batch *a = &l->acks[l->ack_fill], *other = &l->acks[!l->ack_fill];
	struct proto_header h = { .code = OP_ACK };

	if (a->n == 0)
		return 0;
	while (other->reqid)
		if (take_reply(l) < 0)
			return -1;
	a->part = (struct qpart){ a->wire, a->n * RECEIPT_WIRE };
	snprintf(h.queue, sizeof h.queue, "%.200s", l->name);
	if (qclient_send(&l->qc, &h, &a->part, 1, 0) < 0)
		return lost(l);
	a->reqid = h.reqid;
	l->ack_fill = !l->ack_fill;
	return 0;
}

static int puts_unanswered(const struct queue_link *l)
{
	for (size_t i = 0; i < QLINK_PUT_WINDOW; i++)
		if (l->puts[i].reqid)
			return 1;
	return 0;
}

/* Waits until no PUT of the link is on its way or refused. */
static int puts_stored(struct queue_link *l)
{
	int refused = 0;

	while (puts_unanswered(l))
		if (take_reply(l) < 0)
			return -1;
	for (size_t i = 0; i < QLINK_PUT_WINDOW; i++)
		refused |= l->puts[i].refused;
	return refused ? qlink_quiet(l) : 0;
}

/* See the top of qlink.h.  On an error, err names the queue and says what
 * is wrong. */
int qlink_flush_all(char *err, size_t errlen)
{
	struct queue_link *l;

	for (l = open_links; l; l = l->next_open)
		if (put_send(l) < 0)
			goto fail;
	for (l = open_links; l; l = l->next_open)
		if (puts_stored(l) < 0)
			goto fail;
	if (open_links && before_acks && before_acks(err, errlen) < 0)
		return -1;
	for (l = open_links; l; l = l->next_open)
		if (ack_send(l) < 0)
			goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s", l->err);
	return -1;
}

/* A GET on its way, its reply read by qlink_get_wait (or by any wait on
 * the link meanwhile).  l->rep must hold nothing. */
int qlink_get_send(struct queue_link *l, struct proto_header *h,
		   int64_t wait_ns)
{
	snprintf(h->queue, sizeof h->queue, "%.200s", l->name);
	l->got = 0;
	if (qclient_send(&l->qc, h, NULL, 0, wait_ns) < 0)
		return lost(l);
	l->get_reqid = h->reqid;
	return 0;
}

int qlink_get_wait(struct queue_link *l)
{
	while (l->get_reqid)
		if (take_reply(l) < 0)
			return -1;
	return l->got ? 0 : -1;
}

/* Settles the answers already here; waits only for a link whose answers
 * are overdue (the coordinator may have restarted: qclient resends) or
 * that has a refused batch to store. */
static int take_ready(struct queue_link *l)
{
	int refused = 0;

	while (qclient_poll(&l->qc, l->in) == 1)
		if (settle(l) < 0)
			return -1;
	for (size_t i = 0; i < QLINK_PUT_WINDOW; i++)
		refused |= l->puts[i].refused;
	return qclient_overdue(&l->qc) || refused ? qlink_quiet(l) : 0;
}

/* Settles the answers already here, as any look at the link does: 1 if
 * the GET's reply is among them (or came before), 0 if it is still on its
 * way, -1 if it or anything else failed. */
int qlink_get_poll(struct queue_link *l)
{
	if (take_ready(l) < 0)
		return -1;
	if (l->get_reqid)
		return 0;
	return l->got ? 1 : -1;
}

/* The seq up to which every PUT batch of the process is stored: below
 * the first that still holds frames, sent or not. */
static uint64_t stored_upto(void)
{
	uint64_t upto = put_seq;

	for (struct queue_link *l = open_links; l; l = l->next_open)
		for (size_t i = 0; i < QLINK_PUT_WINDOW; i++)
			if (l->puts[i].nframes > 0 && l->puts[i].seq <= upto)
				upto = l->puts[i].seq - 1;
	return upto;
}

/*
 * Sends the receipts at the head of the ACK batch whose outputs are all
 * stored, without waiting: the rest move to the other batch and go on
 * filling it.  Not while the batch before is unanswered, since its buffer
 * is the other batch.  Receipts join in order and what they wait for
 * only grows, so the ones that may go are a prefix.
 */
static int ack_send_stored(struct queue_link *l, uint64_t upto)
{
	struct ack_batch *a = &l->acks[l->ack_fill], *other = &l->acks[!l->ack_fill];
	size_t k = 0;

	if (other->reqid)
		return 0;
	while (k < a->n && a->after[k] <= upto)
		k++;
	if (k == 0)
		return 0;
	other->n = a->n - k;
	memcpy(other->wire, a->wire + k * RECEIPT_WIRE, other->n * RECEIPT_WIRE);
	memcpy(other->after, a->after + k, other->n * sizeof *a->after);
	a->n = k;
	return ack_send(l);
}

/*
 * The flush for a program about to wait on something else (a child's
 * output, say) with no need to wait for the coordinator too: sends the
 * open PUT batches, settles the answers already in, and sends each ACK
 * batch whose outputs are stored (see the top of qlink.h).  Returns 1
 * while something is still on its way or held back, so the caller comes
 * back soon; 0 when all is settled; -1 on an error, in err.
 */
int qlink_progress_all(char *err, size_t errlen)
{
	struct queue_link *l;
	int pending = 0, checked = 0;
	uint64_t upto;

	for (l = open_links; l; l = l->next_open)
		if (put_send(l) < 0 || take_ready(l) < 0)
			goto fail;
	upto = stored_upto();
	for (l = open_links; l; l = l->next_open) {
		if (l->acks[l->ack_fill].n == 0)
			continue;
		if (!checked++ && before_acks && before_acks(err, errlen) < 0)
			return -1;
		if (ack_send_stored(l, upto) < 0)
			goto fail;
	}
	for (l = open_links; l; l = l->next_open)
		pending |= l->qc.nsent > 0 || l->acks[l->ack_fill].n > 0;
	return pending;
fail:
	snprintf(err, errlen, "%s", l->err);
	return -1;
}

/*
 * After qlink_progress_all said 1: where to wait for what is on its way,
 * one fd per link with requests unanswered, into p (at most max).  *now
 * is set if an answer is here already.  The count, or -1 if some answer
 * has no fd to wait on: the caller looks again within a millisecond.
 */
int qlink_pollfds_all(struct pollfd *p, size_t max, int *now)
{
	size_t n = 0;

	*now = 0;
	for (struct queue_link *l = open_links; l; l = l->next_open) {
		int here = 0, fd;
		if (l->qc.nsent == 0)
			continue;
		if (n == max || (fd = qclient_fd(&l->qc, &here)) < 0)
			return -1;
		*now |= here;
		p[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	return (int)n;
}
