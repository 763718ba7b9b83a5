/*
 * drv-spsc: the bench/queue driver for spsc-coord, written against
 * libcommon's protocol client as any spsc program would use it.
 *
 *   put:  one PUT message with n atom frames, answered after the
 *         coordinator's write(2) of all of them;
 *   take: one GET max=n (long-polling up to wait_ms), the frames checked
 *         (header and payload CRC, as every spsc reader does), then one
 *         ACK with n receipts.
 *
 * So a batch costs three round trips however many atoms it holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "atomid.h"
#include "crc32c.h"
#include "harness.h"
#include "proto.h"
#include "qclient.h"
#include "units.h"

_Static_assert(QB_HEADROOM >= ATOM_HEADER_LEN, "no room for a frame header");

struct spsc_conn {
	struct qclient qc;
	struct qreply rep;
	struct atom_codec codec;
	const struct qb_conf *conf;
	struct qpart *parts;
	uint8_t *receipts;
};

static int call(struct spsc_conn *c, struct proto_header *h,
		const struct qpart *parts, size_t n, int64_t wait_ns)
{
	char msg[300];

	snprintf(h->queue, sizeof h->queue, "%s", c->conf->queue);
	if (qclient_call(&c->qc, h, parts, n, wait_ns, &c->rep) < 0) {
		qb_error("%s", c->qc.err);
		return -1;
	}
	if (c->rep.h.code != ST_OK) {
		qb_error("%s %s: coordinator says %s: %s", proto_op_name(h->code),
			 c->conf->queue, proto_status_name(c->rep.h.code),
			 qreply_message(&c->rep, msg, sizeof msg));
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
	atom_codec_init(&c->codec, 0, ATOM_DEFAULT_LIMIT);
	if (consumer < 0)
		c->parts = calloc((size_t)conf->batch, sizeof *c->parts);
	else
		c->receipts = malloc((size_t)conf->batch * RECEIPT_WIRE);
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
			int n)
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
		c->parts[i].data = frame;
		c->parts[i].len = ATOM_HEADER_LEN + stored;
	}
	return 0;
}

static int spsc_put(void *conn, const struct qb_atom *atoms, int n)
{
	struct spsc_conn *c = conn;
	struct proto_header h = { .code = OP_PUT };
	uint64_t stored;

	if (encode_batch(c, atoms, n) < 0 || call(c, &h, c->parts, (size_t)n, 0) < 0)
		return -1;
	stored = proto_get(&c->rep.h, "stored", 0);
	qreply_free(&c->rep);
	if (stored != (uint64_t)n) {
		qb_error("PUT of %d atoms stored %llu", n, (unsigned long long)stored);
		return -1;
	}
	return 0;
}

/* Checks one delivered frame as a reader would and writes its receipt. */
static int check_frame(struct spsc_conn *c, zmq_msg_t *m, qb_check_fn check,
		       void *ctx, uint8_t *receipt)
{
	const uint8_t *p = zmq_msg_data(m);
	size_t len = zmq_msg_size(m);
	struct atom_frame f;
	struct atom a;
	struct receipt rc;
	char why[256];

	if (atom_parse_header(p, len, ATOM_DEFAULT_LIMIT, &a, &f, why, sizeof why) != 0 ||
	    f.codec != ATOM_CODEC_RAW || len != f.header_len + f.stored) {
		qb_error("GET %s: bad frame: %s", c->conf->queue, why);
		return -1;
	}
	if (crc32c(0, p + f.header_len, f.stored) != f.payload_crc) {
		qb_error("GET %s: payload CRC mismatch", c->conf->queue);
		return -1;
	}
	if (check(ctx, p + f.header_len, f.stored) < 0 || a.events != c->conf->events) {
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
	struct qpart part;
	size_t n;

	proto_set(&h, "max", (uint64_t)max);
	proto_set(&h, "wait", (uint64_t)wait_ms);
	if (call(c, &h, NULL, 0, (int64_t)wait_ms * NS_PER_MS) < 0)
		return -1;
	n = c->rep.nparts;
	for (size_t i = 0; i < n; i++) {
		if (check_frame(c, &c->rep.parts[i], check, ctx,
				c->receipts + i * RECEIPT_WIRE) < 0) {
			qreply_free(&c->rep);
			return -1;
		}
	}
	qreply_free(&c->rep);
	if (n == 0)
		return 0;
	h = (struct proto_header){ .code = OP_ACK };
	part.data = c->receipts;
	part.len = n * RECEIPT_WIRE;
	if (call(c, &h, &part, 1, 0) < 0)
		return -1;
	if (proto_get(&c->rep.h, "acked", 0) != n) {
		qb_error("ACK of %zu atoms acked %llu", n,
			 (unsigned long long)proto_get(&c->rep.h, "acked", 0));
		qreply_free(&c->rep);
		return -1;
	}
	qreply_free(&c->rep);
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
	.take = spsc_take,
	.close = spsc_close,
	.teardown = spsc_teardown,
};
