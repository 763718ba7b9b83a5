/*
 * drv-spsc: the bench/queue driver for spsc-coord, written against
 * libcommon's protocol client as any spsc program would use it.
 *
 *   put:  one PUT message with n atom frames, answered after the
 *         coordinator's write(2) of all of them;
 *   take: one GET max=n split=1 (long-polling up to wait_ms), the frames
 *         checked (header and payload CRC, as every spsc reader does; a
 *         large frame comes as its header, then its payload, sent from
 *         the coordinator's log uncopied), then one ACK with n receipts.
 *
 * Requests go through qclient_send and their answers come back through
 * qclient_recv, each naming its request by id, as spsc's own queue
 * endpoints pipeline (qlink.c): up to the window of PUTs unanswered, an
 * ACK sent without waiting and the next GET right behind it.  With a
 * window of 1 a batch costs three round trips however many atoms it
 * holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "atomid.h"
#include "crc32c.h"
#include "harness.h"
#include "prog.h"
#include "proto.h"
#include "qclient.h"
#include "units.h"

_Static_assert(QB_HEADROOM >= ATOM_HEADER_LEN, "no room for a frame header");
_Static_assert(QB_WINDOW_MAX <= QCLIENT_WINDOW, "a window qclient cannot keep");

/* A PUT or an ACK sent and not answered yet.  Its body is in the slot
 * seq % window of parts or receipts, which qclient may send again until
 * the answer comes: only the latest window - 1 may be unanswered when a
 * call returns, so the slot of the next one is always free. */
struct pending {
	uint64_t reqid;
	uint64_t seq;		/* the connection's PUT or ACK count */
	int op;			/* OP_PUT or OP_ACK */
	size_t n;		/* atoms it carries */
};

struct spsc_conn {
	struct qclient qc;
	struct qreply rep;
	struct atom_codec codec;
	const struct qb_conf *conf;
	struct qpart *parts;		/* producer: window x batch frames */
	uint8_t *receipts;		/* consumer: window x batch receipts */
	struct qpart acks[QB_WINDOW_MAX];	/* consumer: each slot's body */
	struct pending pend[QCLIENT_WINDOW];	/* oldest first */
	int npend;
	uint64_t seq;			/* PUTs or ACKs sent so far */
	uint64_t get_reqid;		/* the GET unanswered, or 0 */
};

/* -1 (reported) unless the reply says OK. */
static int reply_ok(struct spsc_conn *c, int op, const struct qreply *rep)
{
	char msg[300];

	if (rep->h.code == ST_OK)
		return 0;
	qb_error("%s %s: coordinator says %s: %s", proto_op_name(op),
		 c->conf->queue, proto_status_name(rep->h.code),
		 qreply_message(rep, msg, sizeof msg));
	return -1;
}

/* One request, answered before it returns (only teardown's DELETE, on
 * a connection with nothing else unanswered). */
static int call(struct spsc_conn *c, struct proto_header *h,
		const struct qpart *parts, size_t n, int64_t wait_ns)
{
	snprintf(h->queue, sizeof h->queue, "%s", c->conf->queue);
	if (qclient_call(&c->qc, h, parts, n, wait_ns, &c->rep) < 0) {
		qb_error("%s", c->qc.err);
		return -1;
	}
	if (reply_ok(c, h->code, &c->rep) < 0) {
		qreply_free(&c->rep);
		return -1;
	}
	return 0;
}

static void *spsc_open(const struct qb_conf *conf, int consumer)
{
	struct spsc_conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->conf = conf;
	/* The heap as every spsc program keeps it (prog_init); the other
	 * drivers' libraries run with glibc's defaults, as they would. */
	prog_keep_heap();
	atom_codec_init(&c->codec, 0, ATOM_DEFAULT_LIMIT);
	if (consumer < 0)
		c->parts = calloc((size_t)conf->window * (size_t)conf->batch,
				  sizeof *c->parts);
	else
		c->receipts = malloc((size_t)conf->window * (size_t)conf->batch *
				     RECEIPT_WIRE);
	if (consumer < 0 ? c->parts == NULL : c->receipts == NULL) {
		qb_error("out of memory");
		goto fail;
	}
	if (qclient_open(&c->qc, conf->server) < 0) {
		qb_error("%s", c->qc.err);
		goto fail;
	}
	return c;
fail:
	free(c->parts);
	free(c->receipts);
	atom_codec_free(&c->codec);
	free(c);
	return NULL;
}

static void spsc_close(void *conn)
{
	struct spsc_conn *c = conn;

	qclient_close(&c->qc);
	atom_codec_free(&c->codec);
	free(c->parts);
	free(c->receipts);
	free(c);
}

/* Encodes each atom as spsc-source would (a deterministic id, the
 * creation time, the payload CRC), its header written into the headroom
 * in front of the events: each frame goes out as it lies. */
static int encode_batch(struct spsc_conn *c, const struct qb_atom *atoms,
			int n, struct qpart *parts)
{
	for (int i = 0; i < n; i++) {
		struct atom a = {
			.id = atomid_source("bench-queue", c->conf->queue,
					    atoms[i].ordinal, 0, atoms[i].len),
			.created_ns = wall_ns(),
			.events = c->conf->events,
			.data = (char *)atoms[i].data,
			.len = atoms[i].len,
			.tmin = ATOM_TIME_NONE, .tmax = ATOM_TIME_NONE,
			.wm = ATOM_TIME_NONE,	/* untimed: a version 1 header */
		};
		uint8_t *frame = atoms[i].data - ATOM_HEADER_LEN;
		const void *payload;
		size_t stored;
		/* The codec never compresses (level 0): the payload stays
		 * where it is, right after the header. */
		if (atom_encode(&c->codec, &a, frame, &payload, &stored) != ATOM_HEADER_LEN ||
		    payload != atoms[i].data) {
			qb_error("cannot encode atom %llu", (unsigned long long)atoms[i].ordinal);
			return -1;
		}
		parts[i].data = frame;
		parts[i].len = ATOM_HEADER_LEN + stored;
	}
	return 0;
}

/* Settles the answer in c->rep to the PUT or ACK pending at i: it must
 * have stored, or acknowledged, every atom it carried. */
static int settle(struct spsc_conn *c, int i)
{
	struct pending p = c->pend[i];
	const char *key = p.op == OP_PUT ? "stored" : "acked";
	uint64_t done = proto_get(&c->rep.h, key, 0);
	int rc = reply_ok(c, p.op, &c->rep);

	qreply_free(&c->rep);
	memmove(&c->pend[i], &c->pend[i + 1], (size_t)(c->npend - i - 1) * sizeof c->pend[0]);
	c->npend--;
	if (rc == 0 && done != p.n) {
		qb_error("%s of %zu atoms: %s %llu", proto_op_name(p.op), p.n, key,
			 (unsigned long long)done);
		return -1;
	}
	return rc;
}

/* Waits for the next answer.  1: it is the GET's, left in c->rep;
 * 0: a PUT's or an ACK's, settled. */
static int next_answer(struct spsc_conn *c)
{
	if (qclient_recv(&c->qc, &c->rep) < 0) {
		qb_error("%s", c->qc.err);
		return -1;
	}
	if (c->get_reqid && c->rep.h.reqid == c->get_reqid) {
		c->get_reqid = 0;
		return 1;
	}
	for (int i = 0; i < c->npend; i++)
		if (c->pend[i].reqid == c->rep.h.reqid)
			return settle(c, i);
	/* qclient only returns answers to requests it holds as unanswered,
	 * and those are the ones listed here. */
	qb_error("an answer to request %llu, which is not pending",
		 (unsigned long long)c->rep.h.reqid);
	qreply_free(&c->rep);
	return -1;
}

/* Waits until the PUTs or ACKs still unanswered are at most the latest
 * window - 1 sent (none with a window of 1), and so are in slots the
 * next window - 1 will not use.  No GET is pending here. */
static int settle_to_window(struct spsc_conn *c)
{
	uint64_t keep = (uint64_t)c->conf->window - 1;

	while (c->npend > 0 && c->pend[0].seq + keep < c->seq)
		if (next_answer(c) < 0)
			return -1;
	return 0;
}

/* Sends a PUT or an ACK whose body lies in its slot until answered. */
static int send_pending(struct spsc_conn *c, int op, const struct qpart *parts,
			size_t nparts, size_t n)
{
	struct proto_header h = { .code = op };

	snprintf(h.queue, sizeof h.queue, "%s", c->conf->queue);
	if (qclient_send(&c->qc, &h, parts, nparts, 0) < 0) {
		qb_error("%s", c->qc.err);
		return -1;
	}
	c->pend[c->npend++] = (struct pending){ .reqid = h.reqid, .seq = c->seq++,
						 .op = op, .n = n };
	return settle_to_window(c);
}

static int spsc_put(void *conn, const struct qb_atom *atoms, int n)
{
	struct spsc_conn *c = conn;
	struct qpart *parts = c->parts + (c->seq % (uint64_t)c->conf->window) *
					 (uint64_t)c->conf->batch;

	if (encode_batch(c, atoms, n, parts) < 0)
		return -1;
	return send_pending(c, OP_PUT, parts, (size_t)n, (size_t)n);
}

static int flush(void *conn)
{
	struct spsc_conn *c = conn;

	while (c->npend > 0)
		if (next_answer(c) < 0)
			return -1;
	return 0;
}

/* Checks the frame at part *i as a reader would (whole, or its header and
 * then its payload: GET split=1), moves *i past it and writes its
 * receipt. */
static int check_frame(struct spsc_conn *c, size_t *i, qb_check_fn check,
		       void *ctx, uint8_t *receipt)
{
	zmq_msg_t *m = &c->rep.parts[(*i)++];
	const uint8_t *p = zmq_msg_data(m), *payload;
	size_t len = zmq_msg_size(m);
	struct atom_frame f;
	struct atom a;
	struct receipt rc;
	char why[256];

	if (atom_frame_is_head(p, len) && *i < c->rep.nparts) {
		payload = zmq_msg_data(&c->rep.parts[*i]);
		len += zmq_msg_size(&c->rep.parts[(*i)++]);
	} else {
		payload = NULL;
	}
	if (atom_parse_header(p, len, ATOM_DEFAULT_LIMIT, &a, &f, why, sizeof why) != 0 ||
	    f.codec != ATOM_CODEC_RAW || len != f.header_len + f.stored) {
		qb_error("GET %s: bad frame: %s", c->conf->queue, why);
		return -1;
	}
	if (payload == NULL)
		payload = p + f.header_len;
	if (crc32c(0, payload, f.stored) != f.payload_crc) {
		qb_error("GET %s: payload CRC mismatch", c->conf->queue);
		return -1;
	}
	if (check(ctx, payload, f.stored) < 0 || a.events != c->conf->events) {
		qb_error("GET %s: an atom the producer did not make", c->conf->queue);
		return -1;
	}
	rc.id = a.id;
	rc.delivery = a.attempt;
	receipt_encode(&rc, receipt);
	return 0;
}

static int spsc_take(void *conn, int max, int wait_ms, qb_check_fn check,
		     void *ctx)
{
	struct spsc_conn *c = conn;
	struct proto_header h = { .code = OP_GET };
	size_t slot = (size_t)(c->seq % (uint64_t)c->conf->window);
	uint8_t *receipts = c->receipts + slot * (size_t)c->conf->batch * RECEIPT_WIRE;
	int rc;
	size_t n;

	/* Sent behind the last take's ACK, if that is unanswered: at most
	 * window - 1 are, so the GET keeps within the window. */
	snprintf(h.queue, sizeof h.queue, "%s", c->conf->queue);
	proto_set(&h, "max", (uint64_t)max);
	proto_set(&h, "wait", (uint64_t)wait_ms);
	proto_set(&h, "split", 1);	/* large payloads come uncopied */
	if (qclient_send(&c->qc, &h, NULL, 0, (int64_t)wait_ms * NS_PER_MS) < 0) {
		qb_error("%s", c->qc.err);
		return -1;
	}
	c->get_reqid = h.reqid;
	/* The earlier ACKs' answers come first, settled on the way. */
	while ((rc = next_answer(c)) == 0)
		;
	if (rc < 0)
		return -1;
	if (reply_ok(c, OP_GET, &c->rep) < 0) {
		qreply_free(&c->rep);
		return -1;
	}
	n = 0;
	for (size_t i = 0; i < c->rep.nparts; n++) {
		if (check_frame(c, &i, check, ctx, receipts + n * RECEIPT_WIRE) < 0) {
			qreply_free(&c->rep);
			return -1;
		}
	}
	qreply_free(&c->rep);
	if (n == 0)
		return 0;
	c->acks[slot].data = receipts;
	c->acks[slot].len = n * RECEIPT_WIRE;
	if (send_pending(c, OP_ACK, &c->acks[slot], 1, n) < 0)
		return -1;
	return (int)n;
}

/* Deletes the queue so that the coordinator's next run starts empty and
 * its log segments are reclaimed. */
static int spsc_teardown(const struct qb_conf *conf)
{
	struct spsc_conn *c = spsc_open(conf, 0);
	struct proto_header h = { .code = OP_DELETE };
	int rc;

	if (c == NULL)
		return -1;
	rc = call(c, &h, NULL, 0, 0);
	if (rc == 0)
		qreply_free(&c->rep);
	spsc_close(c);
	return rc;
}

const struct qb_driver qb_driver = {
	.name = "spsc",
	.open = spsc_open,
	.put = spsc_put,
	.put_flush = flush,
	.take = spsc_take,
	.take_flush = flush,
	.close = spsc_close,
	.teardown = spsc_teardown,
};
