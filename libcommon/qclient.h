/*
 * qclient: a connection to spsc-coord.
 *
 * qclient_call sends a request and waits for the reply that carries its
 * request id.  qclient_send and qclient_recv pipeline: up to QCLIENT_WINDOW
 * requests may be sent before their replies are read, so that a client
 * pays one round trip for many requests; qclient_recv returns the replies
 * as they come, each naming its request by id.  While the coordinator cannot be reached (not running,
 * restarting) it retries with backoff, resending the same request, for up
 * to the give-up time ($SPSC_CONNECT_TIMEOUT, default 30s); then it fails
 * with a message naming the URL.  Resending is safe because every
 * operation is idempotent or harmless to repeat: PUT de-duplicates by atom
 * id, ACK of a gone atom is a no-op, and an atom leased by a lost GET
 * comes back when its lease runs out.
 *
 * Retries cover every request still unanswered, in the order they were
 * sent.  qclient_call may only be used with none unanswered.
 *
 * A unix://PATH URL speaks the same protocol over a plain stream socket
 * (unixconn.h); a lost connection is made again, and every unanswered
 * request sent again on it at once.
 *
 * On a URL other than ipc:// or unix://, SPSC_CURVE_SERVERKEY and SPSC_CURVE_KEY
 * make the connection a CURVE one (see curvekey.h).
 */
#ifndef SPSC_QCLIENT_H
#define SPSC_QCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "proto.h"

/* A GET brings at most 1000 atoms, each in one part or (large) two. */
#define QREPLY_PARTS_MAX 2100
#define QCLIENT_WINDOW 16

/* One body part to send: a frame, or a run of receipts. */
struct qpart {
	const void *data;
	size_t len;
};

/* A request sent and not yet answered, kept to be sent again. */
struct qsent {
	uint64_t reqid;
	const struct qpart *parts;	/* the caller's, alive until answered */
	size_t nparts;
	int64_t wait_ns;		/* how long the server may hold it */
	size_t hlen;
	char head[PROTO_HEADER_MAX];
};

struct unixconn;

struct qclient {
	struct unixconn *ux;	/* unix:// URLs: the stream instead of sock */
	void *zctx;
	void *sock;
	void *mon;		/* handshake events of sock (not for ipc) */
	int curve;		/* CURVE keys from SPSC_CURVE_* are in use */
	int hs_event;		/* last handshake failure seen; 0: none */
	uint32_t hs_value;
	char url[4200];
	uint64_t next_reqid;
	int64_t give_up_ns;
	struct qsent sent[QCLIENT_WINDOW];	/* unanswered, oldest first */
	size_t nsent;
	int64_t silent_since;	/* mono ns of the last send or reply */
	char err[600];
};

struct qreply {
	struct proto_header h;
	zmq_msg_t parts[QREPLY_PARTS_MAX];	/* bodies, after the header */
	size_t nparts;
};

int qclient_open(struct qclient *qc, const char *url);
void qclient_close(struct qclient *qc);
int qclient_call(struct qclient *qc, struct proto_header *req,
		 const struct qpart *parts, size_t nparts, int64_t wait_ns,
		 struct qreply *rep);
int qclient_send(struct qclient *qc, struct proto_header *req,
		 const struct qpart *parts, size_t nparts, int64_t wait_ns);
int qclient_recv(struct qclient *qc, struct qreply *rep);
int qclient_poll(struct qclient *qc, struct qreply *rep);
int qclient_overdue(const struct qclient *qc);
int qclient_fd(struct qclient *qc, int *now);
void qreply_free(struct qreply *rep);
const char *qreply_message(const struct qreply *rep, char *buf, size_t len);

#endif
