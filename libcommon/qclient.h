/*
 * qclient: a connection to spsc-coord, one request at a time.
 *
 * qclient_call sends a request and waits for the reply that carries its
 * request id.  While the coordinator cannot be reached (not running,
 * restarting) it retries with backoff, resending the same request, for up
 * to the give-up time ($SPSC_CONNECT_TIMEOUT, default 30s); then it fails
 * with a message naming the URL.  Resending is safe because every
 * operation is idempotent or harmless to repeat: PUT de-duplicates by atom
 * id, ACK of a gone atom is a no-op, and an atom leased by a lost GET
 * comes back when its lease runs out.
 *
 * On a URL other than ipc://, SPSC_CURVE_SERVERKEY and SPSC_CURVE_KEY
 * make the connection a CURVE one (see curvekey.h).
 */
#ifndef SPSC_QCLIENT_H
#define SPSC_QCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "proto.h"

#define QREPLY_PARTS_MAX 1100

struct qclient {
	void *zctx;
	void *sock;
	void *mon;		/* handshake events of sock (not for ipc) */
	int curve;		/* CURVE keys from SPSC_CURVE_* are in use */
	int hs_event;		/* last handshake failure seen; 0: none */
	uint32_t hs_value;
	char url[4200];
	uint64_t next_reqid;
	int64_t give_up_ns;
	char err[600];
};

struct qreply {
	struct proto_header h;
	zmq_msg_t parts[QREPLY_PARTS_MAX];	/* bodies, after the header */
	size_t nparts;
};

/* One body part to send: a frame, or a run of receipts. */
struct qpart {
	const void *data;
	size_t len;
};

int qclient_open(struct qclient *qc, const char *url);
void qclient_close(struct qclient *qc);
int qclient_call(struct qclient *qc, struct proto_header *req,
		 const struct qpart *parts, size_t nparts, int64_t wait_ns,
		 struct qreply *rep);
void qreply_free(struct qreply *rep);
const char *qreply_message(const struct qreply *rep, char *buf, size_t len);

#endif
