#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curvekey.h"
#include "home.h"
#include "log.h"
#include "qclient.h"
#include "unixconn.h"
#include "units.h"

#define ATTEMPT_NS (2 * NS_PER_SEC)	/* reply wait beyond the long poll */
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
#define MONITOR_URL "inproc://qclient-monitor"	/* one per context */

/* A handshake that fails (a CURVE key refused, CURVE on one side only)
 * looks like silence to a DEALER, which just reconnects.  A monitor
 * tells the two apart, so that giving up can say what is wrong.  Without
 * it only the hint is lost, so a failure here is not an error. */
static void monitor_open(struct qclient *qc)
{
	int linger = 0;
	int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
		     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

	if (zmq_socket_monitor(qc->sock, MONITOR_URL, events) < 0 ||
	    (qc->mon = zmq_socket(qc->zctx, ZMQ_PAIR)) == NULL)
		return;
	zmq_setsockopt(qc->mon, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_connect(qc->mon, MONITOR_URL) < 0) {
		zmq_close(qc->mon);
		qc->mon = NULL;
	}
}

/* How much a handshake failure says: a refused key, then CURVE on one
 * side only, then a connection closed mid-handshake (which is what the
 * peer's side of the same failures sometimes looks like). */
static int hs_rank(int event, uint32_t value)
{
	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
		return 3;
	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
	    value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
		return 2;
	return event != 0;
}

/* Reads the events waiting; remembers the most telling handshake failure
 * since the last success. */
static void monitor_drain(struct qclient *qc)
{
	for (int more = 0; qc->mon;) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, qc->mon, more ? 0 : ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			return;
		}
		if (!more && zmq_msg_size(&m) >= 6) {
			uint16_t ev;
			uint32_t value;
			memcpy(&ev, zmq_msg_data(&m), 2);
			memcpy(&value, (char *)zmq_msg_data(&m) + 2, 4);
			if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
				qc->hs_event = 0;
			else if (hs_rank(ev, value) >= hs_rank(qc->hs_event, qc->hs_value)) {
				qc->hs_event = ev;
				qc->hs_value = value;
			}
		}
		more = zmq_msg_more(&m);	/* the endpoint follows the event */
		zmq_msg_close(&m);
	}
}

/* What the failed handshakes say about the keys, or NULL. */
static const char *handshake_hint(struct qclient *qc)
{
	monitor_drain(qc);
	if (qc->hs_event)
		log_debug("%.300s: handshake failed: event 0x%x, value 0x%x", qc->url,
			  (unsigned)qc->hs_event, (unsigned)qc->hs_value);
	switch (hs_rank(qc->hs_event, qc->hs_value)) {
	case 3:
		return "the coordinator refused this client's CURVE key "
		       "(is the public key of SPSC_CURVE_KEY in its --clients directory?)";
	case 2:
		return qc->curve
		       ? "the handshake failed: the coordinator does not use CURVE here "
			 "(unset SPSC_CURVE_KEY and SPSC_CURVE_SERVERKEY)"
		       : "the handshake failed: the coordinator requires CURVE "
			 "(set SPSC_CURVE_SERVERKEY and SPSC_CURVE_KEY)";
	case 1:
		return qc->curve
		       ? "the CURVE handshake failed (is SPSC_CURVE_SERVERKEY the coordinator's public key, "
			 "and this client's listed?)"
		       : "the handshake failed (if the coordinator uses CURVE, "
			 "set SPSC_CURVE_SERVERKEY and SPSC_CURVE_KEY)";
	}
	return NULL;
}

int qclient_open(struct qclient *qc, const char *url)
{
	int linger = 0, immediate = 1, ivl = 100, ivl_max = 1000, ipv6 = 1;

	memset(qc, 0, sizeof *qc);
	qc->give_up_ns = coord_connect_timeout();
	qc->next_reqid = (uint64_t)wall_ns();
	if (url && *url)
		snprintf(qc->url, sizeof qc->url, "%s", url);
	else if (coord_default_url(qc->url, sizeof qc->url) < 0) {
		snprintf(qc->err, sizeof qc->err,
			 "cannot name the coordinator: set SPSC_COORD or SPSC_HOME");
		return -1;
	}
	if (unixconn_is_url(qc->url)) {
		if ((qc->ux = malloc(sizeof *qc->ux)) == NULL ||
		    unixconn_open(qc->ux, qc->url, qc->err, sizeof qc->err) < 0) {
			free(qc->ux);
			qc->ux = NULL;
			if (!qc->err[0])
				snprintf(qc->err, sizeof qc->err, "out of memory");
			return -1;
		}
		return 0;
	}
	if ((qc->zctx = zmq_ctx_new()) == NULL ||
	    (qc->sock = zmq_socket(qc->zctx, ZMQ_DEALER)) == NULL) {
		snprintf(qc->err, sizeof qc->err, "zmq: %s", zmq_strerror(errno));
		qclient_close(qc);
		return -1;
	}
	zmq_setsockopt(qc->sock, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(qc->sock, ZMQ_IPV6, &ipv6, sizeof ipv6);
	/* Queue nothing for a coordinator that is not there: sends wait for
	 * a live connection, so a retry goes to the server that answers. */
	zmq_setsockopt(qc->sock, ZMQ_IMMEDIATE, &immediate, sizeof immediate);
	zmq_setsockopt(qc->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
	zmq_setsockopt(qc->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
	if ((qc->curve = curvekey_client_setup(qc->sock, qc->url, qc->err, sizeof qc->err)) < 0) {
		qclient_close(qc);
		return -1;
	}
	if (strncmp(qc->url, "ipc://", 6) != 0)
		monitor_open(qc);
	if (zmq_connect(qc->sock, qc->url) < 0) {
		snprintf(qc->err, sizeof qc->err, "%.300s: %s", qc->url, zmq_strerror(errno));
		qclient_close(qc);
		return -1;
	}
	return 0;
}

void qclient_close(struct qclient *qc)
{
	if (qc->ux) {
		unixconn_close(qc->ux);
		free(qc->ux);
		qc->ux = NULL;
	}
	if (qc->mon)
		zmq_close(qc->mon);
	if (qc->sock)
		zmq_close(qc->sock);
	if (qc->zctx)
		zmq_ctx_term(qc->zctx);
	qc->mon = qc->sock = qc->zctx = NULL;
}

void qreply_free(struct qreply *rep)
{
	for (size_t i = 0; i < rep->nparts; i++)
		zmq_msg_close(&rep->parts[i]);
	rep->nparts = 0;
}

/* The human-readable message of an error reply. */
const char *qreply_message(const struct qreply *rep, char *buf, size_t len)
{
	size_t n = rep->nparts ? zmq_msg_size((zmq_msg_t *)&rep->parts[0]) : 0;

	if (n >= len)
		n = len - 1;
	if (n)
		memcpy(buf, zmq_msg_data((zmq_msg_t *)&rep->parts[0]), n);
	buf[n] = '\0';
	return buf;
}

/* Sends the whole request, or nothing if no connection takes it before
 * the deadline. */
static int send_zmq(struct qclient *qc, const struct qsent *s, int64_t deadline)
{
	zmq_pollitem_t item = { .socket = qc->sock, .events = ZMQ_POLLOUT };

	while (zmq_poll(&item, 1, 0) <= 0 || !(item.revents & ZMQ_POLLOUT)) {
		int64_t left = deadline - mono_ns();
		if (left <= 0)
			return -1;
		if (zmq_poll(&item, 1, (long)(left / NS_PER_MS) + 1) < 0 && errno != EINTR)
			return -1;
	}
	if (zmq_send(qc->sock, s->head, s->hlen, s->nparts ? ZMQ_SNDMORE : 0) < 0)
		return -1;
	for (size_t i = 0; i < s->nparts; i++)
		if (zmq_send(qc->sock, s->parts[i].data, s->parts[i].len,
			     i + 1 < s->nparts ? ZMQ_SNDMORE : 0) < 0)
			return -1;
	return 0;
}

/* unix://: sends request i.  On a connection made just now every request
 * before it goes first, since their replies were lost with the old one. */
static int send_unix(struct qclient *qc, size_t i, int64_t deadline)
{
	long nap = BACKOFF_MIN_MS;

	for (;;) {
		int fresh = unixconn_connect(qc->ux);
		size_t k = fresh == 1 ? 0 : i;
		for (; fresh >= 0 && k <= i; k++) {
			const struct qsent *s = &qc->sent[k];
			if (unixconn_send(qc->ux, s->head, s->hlen, s->parts, s->nparts, deadline) < 0)
				break;
		}
		if (fresh >= 0 && k > i)
			return 0;
		int64_t left = deadline - mono_ns();
		if (left <= 0)
			return -1;
		zmq_poll(NULL, 0, left / NS_PER_MS < nap ? left / NS_PER_MS + 1 : nap);
		nap = nap * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : nap * 2;
	}
}

static int send_request(struct qclient *qc, size_t i, int64_t deadline)
{
	return qc->ux ? send_unix(qc, i, deadline) : send_zmq(qc, &qc->sent[i], deadline);
}

/* -1, with the message: nothing has come since start. */
static int gave_up(struct qclient *qc, int64_t start)
{
	const char *hint = handshake_hint(qc);

	snprintf(qc->err, sizeof qc->err, "coordinator at %.300s did not answer for %.0fs%s%s",
		 qc->url, (double)(mono_ns() - start) / 1e9,
		 hint ? ": " : " (is 'spsc-coord serve' running?)", hint ? hint : "");
	return -1;
}

/* The unanswered request with this id, or -1. */
static int sent_index(const struct qclient *qc, uint64_t reqid)
{
	for (size_t i = 0; i < qc->nsent; i++)
		if (qc->sent[i].reqid == reqid)
			return (int)i;
	return -1;
}

static void sent_remove(struct qclient *qc, size_t i)
{
	memmove(&qc->sent[i], &qc->sent[i + 1], (qc->nsent - i - 1) * sizeof qc->sent[0]);
	qc->nsent--;
}

/* How long a silence may last before the requests are sent again: the
 * longest any of them may be held, and a margin. */
static int64_t patience(const struct qclient *qc)
{
	int64_t wait = 0;

	for (size_t i = 0; i < qc->nsent; i++)
		if (qc->sent[i].wait_ns > wait)
			wait = qc->sent[i].wait_ns;
	return wait + ATTEMPT_NS;
}

/* rep, its header parsed with result rc, as a reply: 1 if it answers an
 * unanswered request, which is then forgotten; 0 if not (a reply to an
 * earlier attempt, or garbage), and it is dropped. */
static int accept_reply(struct qclient *qc, struct qreply *rep, int rc)
{
	int i;

	if (rc == 0 && rep->h.reply && (i = sent_index(qc, rep->h.reqid)) >= 0) {
		sent_remove(qc, (size_t)i);
		qc->silent_since = mono_ns();
		return 1;
	}
	qreply_free(rep);
	return 0;
}

/* Reads one whole message if one is there: see accept_reply. */
static int take_message(struct qclient *qc, struct qreply *rep)
{
	zmq_msg_t head;
	char err[128];
	int more, rc;

	zmq_msg_init(&head);
	if (zmq_msg_recv(&head, qc->sock, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&head);
		return 0;
	}
	rc = proto_parse(zmq_msg_data(&head), zmq_msg_size(&head), &rep->h, err, sizeof err);
	more = zmq_msg_more(&head);
	zmq_msg_close(&head);
	rep->nparts = 0;
	while (more) {
		zmq_msg_t scratch, *m = rep->nparts < QREPLY_PARTS_MAX
					       ? &rep->parts[rep->nparts] : &scratch;
		zmq_msg_init(m);
		if (zmq_msg_recv(m, qc->sock, 0) < 0) {
			zmq_msg_close(m);
			break;
		}
		more = zmq_msg_more(m);
		if (m == &scratch)
			zmq_msg_close(m);	/* over the cap: dropped */
		else
			rep->nparts++;
	}
	return accept_reply(qc, rep, rc);
}

/* unix://: a message that came whole, taken apart as take_message does. */
static int take_unix(struct qclient *qc, struct qreply *rep)
{
	zmq_msg_t *parts = qc->ux->parts;
	size_t n = qc->ux->in.nparts;
	char err[128];
	int rc = proto_parse(zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0]), &rep->h,
			     err, sizeof err);

	zmq_msg_close(&parts[0]);
	rep->nparts = 0;
	for (size_t k = 1; k < n; k++) {
		zmq_msg_init(&rep->parts[rep->nparts]);
		zmq_msg_move(&rep->parts[rep->nparts++], &parts[k]);
		zmq_msg_close(&parts[k]);
	}
	return accept_reply(qc, rep, rc);
}

/* unix://: as recv_reply.  A connection that is gone is made again and
 * every unanswered request sent on it: their replies went with it. */
static int recv_unix(struct qclient *qc, int64_t deadline, struct qreply *rep)
{
	for (;;) {
		int rc;
		if (qc->ux->fd < 0 && send_unix(qc, qc->nsent - 1, deadline) < 0)
			return 0;
		rc = unixconn_recv(qc->ux, deadline);
		if (rc == 0)
			return 0;
		if (rc == 1 && take_unix(qc, rep))
			return 1;
	}
}

/* Waits for a reply to an unanswered request.  1: one; 0: timed out;
 * -1: error. */
static int recv_reply(struct qclient *qc, int64_t deadline, struct qreply *rep)
{
	zmq_pollitem_t item = { .socket = qc->sock, .events = ZMQ_POLLIN };

	if (qc->ux)
		return recv_unix(qc, deadline, rep);
	for (;;) {
		int64_t left = deadline - mono_ns();
		int rc;
		if (left <= 0)
			return 0;
		rc = zmq_poll(&item, 1, (long)(left / NS_PER_MS) + 1);
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc > 0 && take_message(qc, rep))
			return 1;
	}
}

/* A reply that is already here, without waiting: 1 if one was. */
int qclient_poll(struct qclient *qc, struct qreply *rep)
{
	while (qc->nsent > 0) {
		zmq_pollitem_t item = { .socket = qc->sock, .events = ZMQ_POLLIN };
		if (qc->ux) {
			if (unixconn_recv(qc->ux, 0) != 1)
				return 0;	/* a lost connection: see recv_unix */
			if (take_unix(qc, rep))
				return 1;
			continue;
		}
		if (zmq_poll(&item, 1, 0) <= 0)
			return 0;
		if (take_message(qc, rep))
			return 1;
	}
	return 0;
}

/*
 * For a caller that waits in its own poll() on other things too: the fd
 * that turns readable when a reply may have come.  *now is set when one
 * can be read at once, without waiting (poll() would not say so: a
 * ZeroMQ socket's fd only signals news, and a stream's reply may be in
 * our buffer already).  -1: no fd to wait on (the connection is being
 * made again); look again soon instead.
 */
int qclient_fd(struct qclient *qc, int *now)
{
	int fd = -1, events = 0;
	size_t len = sizeof fd;

	*now = 0;
	if (qc->ux) {
		*now = msgwire_buffered(&qc->ux->in);
		return qc->ux->fd;
	}
	if (zmq_getsockopt(qc->sock, ZMQ_FD, &fd, &len) < 0)
		return -1;
	len = sizeof events;
	/* ZMQ_EVENTS also rearms the fd: asked last, just before the wait */
	if (zmq_getsockopt(qc->sock, ZMQ_EVENTS, &events, &len) < 0)
		return -1;
	*now = (events & ZMQ_POLLIN) != 0;
	return fd;
}

/* Has a request gone unanswered for longer than it should? */
int qclient_overdue(const struct qclient *qc)
{
	return qc->nsent > 0 && mono_ns() - qc->silent_since > patience(qc);
}

/* Sends one more request, to be answered through qclient_recv.  The parts
 * must stay as they are until it is: a retry sends them again. */
int qclient_send(struct qclient *qc, struct proto_header *req,
		 const struct qpart *parts, size_t nparts, int64_t wait_ns)
{
	struct qsent *s;

	if (qc->nsent == QCLIENT_WINDOW) {
		snprintf(qc->err, sizeof qc->err, "more than %d requests unanswered",
			 QCLIENT_WINDOW);
		return -1;
	}
	s = &qc->sent[qc->nsent];
	req->reply = 0;
	req->reqid = qc->next_reqid++;
	*s = (struct qsent){ .reqid = req->reqid, .parts = parts, .nparts = nparts,
			     .wait_ns = wait_ns };
	s->hlen = proto_format(s->head, sizeof s->head, req);
	if (qc->nsent++ == 0)
		qc->silent_since = mono_ns();
	if (send_request(qc, qc->nsent - 1, mono_ns() + qc->give_up_ns) < 0)
		return gave_up(qc, qc->silent_since);
	return 0;
}

static void resend_all(struct qclient *qc, int64_t give_up)
{
	for (size_t i = 0; i < qc->nsent; i++)
		if (send_request(qc, i, give_up) < 0)
			return;	/* not connected: the next silence retries */
}

/*
 * The next reply to an unanswered request, whichever it is.  A silence
 * longer than the requests' patience sends them all again, with backoff,
 * until the give-up time has passed with no reply at all.
 */
int qclient_recv(struct qclient *qc, struct qreply *rep)
{
	int64_t start = qc->silent_since, give_up = start + qc->give_up_ns;
	long backoff = BACKOFF_MIN_MS;
	int warned = 0;

	if (qc->nsent == 0) {
		snprintf(qc->err, sizeof qc->err, "no request to wait for");
		return -1;
	}
	for (;;) {
		int rc = recv_reply(qc, qc->silent_since + patience(qc), rep);
		if (rc == 1)
			return 0;
		if (rc < 0 || mono_ns() >= give_up)
			return gave_up(qc, start);
		if (!warned++)
			log_warn("coordinator at %.300s not answering; retrying for up to %.0fs",
				 qc->url, (double)qc->give_up_ns / 1e9);
		monitor_drain(qc);	/* so its queue never fills and drops events */
		zmq_poll(NULL, 0, backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		qc->silent_since = mono_ns();
		resend_all(qc, give_up);
	}
}

int qclient_call(struct qclient *qc, struct proto_header *req,
		 const struct qpart *parts, size_t nparts, int64_t wait_ns,
		 struct qreply *rep)
{
	if (qc->nsent != 0) {
		snprintf(qc->err, sizeof qc->err,
			 "a call with %zu requests unanswered", qc->nsent);
		return -1;
	}
	if (qclient_send(qc, req, parts, nparts, wait_ns) < 0)
		return -1;
	return qclient_recv(qc, rep);
}
