/*
 * endpoint_nats: the NATS JetStream backend of QUEUE@nats://... endpoints
 * (queue_nats in qbackend.h).  natsq.h says how a queue is laid out.
 *
 *   write   one message per atom, its frame as encoded for a pipe, with
 *           Nats-Msg-Id set to the atom's id, published without waiting
 *           (up to 256 on their way); sync, finish, close and every ACK
 *           of the process wait until they are stored (and replicated),
 *           and send again, under the same id, what failed or went
 *           unanswered: the server drops a copy it had as a duplicate.
 *           A full stream (max depth, discard new) is back-pressure: wait
 *           and retry, never drop.
 *   read    a pull request of our own (natspull.h) for up to 'prefetch'
 *           messages, open in the background for a second, its arrivals
 *           signalled on an fd that spsc-op polls with its children's;
 *           the delivery count is the message's NumDelivered.  An atom
 *           delivered more than max-receives times is not handed out:
 *           it is published to NAME.dlq under the same id and only then
 *           acknowledged, so a consumer that dies in between leaves it
 *           in the queue, and the next one's publish is a duplicate.
 *   ack     gathered, and sent at the next flush (before a read waits,
 *           endpoints_flush, endpoints_progress, close, or 256 of them):
 *           all but the last as +ACK, the last confirmed by the server,
 *           and only once every output of the process is stored, on NATS
 *           and on coordinator queues (chain acknowledgement); NACK is
 *           -NAK with its delay, TOUCH +WPI (the lease starts again at
 *           the queue's AckWait).
 *   wm      a producer that writes atoms with event times puts its
 *           watermark entry (natswm.h) at most every 100 ms once its
 *           publishes are stored, and a reader whose atoms carry times
 *           works the queue's watermark out from the entries as often
 *           (natsflow_watermark), as spsc-coord's GET replies tell it.
 *   large   an atom whose frame does not fit one message (the server's
 *           max_payload) goes as its header, in a message whose
 *           Spsc-Chunks header names the chunk stream, the payload's
 *           size and the sequence of each chunk of it; the reader joins
 *           them.  The chunks are deleted once the atom is acknowledged.
 *
 * Every server request is retried with backoff while the connection is
 * down or a leader is being elected, for up to $SPSC_CONNECT_TIMEOUT.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomid.h"
#include "grow.h"
#include "hash.h"
#include "log.h"
#include "natsflow.h"
#include "natspull.h"
#include "natsq.h"
#include "natswm.h"
#include "proto.h"
#include "qbackend.h"
#include "qlink.h"
#include "stop.h"
#include "units.h"

/* How long a pull request stays open: the longest a reader that waits
 * goes without a look at whether its input is complete. */
#define LONG_POLL_MS 1000
/* Room left in a message for its headers (Nats-Msg-Id, Spsc-Chunks). */
#define HEADER_ROOM 4096
#define FULL_BACKOFF_MAX_MS 2000
/* A PubAck not back by then is asked for again, under the same id: the
 * server may have gone, or its stream's leader. */
#define PUBLISH_WAIT_MS 2000
#define ACK_BATCH 256
/* How often a producer tells its watermark, and a reader works the
 * queue's out: windows close at most this late. */
#define WATERMARK_EVERY_NS (100 * NS_PER_MS)
/* A queue whose consumer has had nothing to give for this long while its
 * stream is not empty is mended, at most that often: right after a
 * failover, or a publish, the counters may disagree for a moment. */
#define REPAIR_AFTER_NS (2 * NS_PER_SEC)

/* An atom handed out and not yet acknowledged or given back. */
struct held {
	struct atom_id id;
	natsMsg *msg;
	char *chunks;		/* its Spsc-Chunks header, or NULL */
};

struct enats {
	struct natsq nq;
	struct natsq_names names;
	struct natsq_conf conf;
	char queue[QUEUE_NAME_MAX + 1];
	int is_dlq;		/* NAME.dlq: no dead-lettering of its own */
	uint64_t producer;	/* writing: the stage, for completion; 0: none */
	int unsettled;		/* writing: publishes not known stored */
	int finished;		/* writing: the stage was done before we came */
	int late_is_redundant;	/* see endpoint_opts */
	int warned_late;
	char finished_why[300];
	struct natswm w;	/* writing: this process's watermark entry */
	uint64_t instance;	/* writing: its key, one a process */
	int64_t wm_due;		/* mono ns: the next entry (writing) or the
				 * next look at the queue's (reading) */
	int timed_input;	/* reading: an atom with event times came */
	int64_t stuck_since;	/* reading: mono ns the queue was first seen
				 * idle but not empty; 0: it is not */
	/* reading */
	struct natspull pull;	/* open while reading */
	int prefetch;
	int drain;
	int64_t lost_since;	/* mono ns the connection went; 0: up */
	struct held *held;
	size_t nheld, held_cap;
	struct held *acks;	/* acknowledged, sent at the next flush */
	size_t nacks, acks_cap;
	int dlq_ready;
	struct natsq_names dlq;
	/* writing, and the joining of chunks */
	uint8_t *buf;
	size_t cap;
	char *ref;		/* the Spsc-Chunks header being built */
	size_t ref_cap;
	int chunks_ready;
	int warned_full;
};

static struct enats *EN(const struct endpoint *ep)
{
	return ep->qs;
}

/* Every open NATS endpoint: an ack waits until the publishes of all
 * that write are stored (chain acknowledgement), whichever the input,
 * and a flush sends the acks of all that read. */
static struct endpoint *open_eps[64];
static size_t nopen;

static int complete_all(char *err, size_t errlen);
static int enats_flush_all(char *err, size_t errlen);

static int failed(struct endpoint *ep)
{
	snprintf(ep->err, sizeof ep->err, "%.200s: %.380s", ep->name, EN(ep)->nq.err);
	return -1;
}

static int no_memory(struct endpoint *ep)
{
	snprintf(ep->err, sizeof ep->err, "%.200s: out of memory", ep->name);
	return -1;
}

static int enats_close(struct endpoint *ep);

static int subscribe(struct endpoint *ep)
{
	struct enats *q = EN(ep);
	char why[300];

	if (natspull_open(&q->pull, q->nq.nc, q->names.stream, NATSQ_CONSUMER,
			  why, sizeof why) == 0)
		return 0;
	snprintf(ep->err, sizeof ep->err, "%.200s: %.100s: %.280s", ep->name, q->nq.url, why);
	return -1;
}

/* This process's watermark key: distinct across hosts, processes and
 * endpoints, so that replicas of a stage never overwrite each other. */
static uint64_t instance_id(const struct endpoint *ep)
{
	char host[256] = "";
	uint64_t h;

	(void)gethostname(host, sizeof host - 1);
	h = hash64(host, strlen(host), (uint64_t)getpid());
	h = hash64(ep->name, strlen(ep->name), h);
	return hash_mix64(h ^ (uint64_t)wall_ns());
}

static int enats_open(struct endpoint *ep, const char *url,
		      const struct endpoint_opts *o)
{
	struct enats *q = calloc(1, sizeof *q);

	if (q == NULL)
		return no_memory(ep);
	ep->qs = q;
	snprintf(q->queue, sizeof q->queue, "%.*s", QUEUE_NAME_MAX, ep->name);
	q->is_dlq = strlen(q->queue) > 4 &&
		    strcmp(q->queue + strlen(q->queue) - 4, ".dlq") == 0;
	q->prefetch = o && o->prefetch > 0 ? o->prefetch : 1;
	natswm_init(&q->w);
	q->instance = instance_id(ep);
	q->drain = o ? o->drain : 0;
	if (natsq_connect(&q->nq, url) < 0) {
		snprintf(ep->err, sizeof ep->err, "%.200s: %.380s", ep->name, q->nq.err);
		free(q);
		ep->qs = NULL;
		return -1;
	}
	if (natsq_open(&q->nq, q->queue, &q->conf) < 0) {
		failed(ep);
		enats_close(ep);
		return -1;
	}
	(void)natsq_names(q->queue, &q->names);	/* valid: natsq_open took it */
	if (!ep->writing && subscribe(ep) < 0) {
		enats_close(ep);
		return -1;
	}
	if (nopen == sizeof open_eps / sizeof open_eps[0]) {
		snprintf(ep->err, sizeof ep->err,
			 "%.200s: too many NATS queues open at once", ep->name);
		enats_close(ep);
		return -1;
	}
	open_eps[nopen++] = ep;
	if (ep->writing)
		qlink_before_acks(complete_all);
	q->producer = o && ep->writing ? o->producer : 0;
	q->late_is_redundant = o && ep->writing ? o->late_is_redundant : 0;
	if (q->producer) {
		int rc = natsflow_note(&q->nq, q->queue, q->producer, o->producers, 0);
		if (rc < 0) {
			failed(ep);
			enats_close(ep);
			return -1;
		}
		/* as spsc-coord does, refused at the first write (late()) */
		q->finished = rc == NATSFLOW_FINISHED;
		snprintf(q->finished_why, sizeof q->finished_why, "%.290s", q->nq.err);
	}
	return 0;
}

/* ---- writing ---- */

/* A full stream answers "maximum messages (or bytes) exceeded". */
static int is_full(natsStatus s, jsErrCode jerr)
{
	return s != NATS_OK && jerr == JSStreamStoreFailedErr;
}

static void full_wait(struct endpoint *ep, int *ms)
{
	if (!EN(ep)->warned_full++)
		log_warn("%s: queue full; waiting for consumers", ep->name);
	*ms = *ms < 10 ? 10 : *ms * 2 > FULL_BACKOFF_MAX_MS ? FULL_BACKOFF_MAX_MS : *ms * 2;
	natsq_nap(*ms);
}

/*
 * Publishes one message and waits until it is stored: *seq is its stream
 * sequence (the first one's, for a duplicate).  Retried under the same
 * id while the server is away; a full stream is waited out.
 */
static int publish(struct endpoint *ep, const char *subject, const void *data,
		   size_t len, const char *msgid, const char *chunks,
		   uint64_t *seq)
{
	struct enats *q = EN(ep);
	int64_t since = mono_ns();
	int ms = 0, full_ms = 0;

	for (;;) {
		natsMsg *m = NULL;
		jsPubOptions po;
		jsPubAck *pa = NULL;
		jsErrCode jerr = 0;
		natsStatus s = natsMsg_Create(&m, subject, NULL, data, (int)len);
		char why[300];

		if (s == NATS_OK && chunks)
			s = natsMsgHeader_Set(m, NATSQ_CHUNKS_HEADER, chunks);
		if (s != NATS_OK) {
			natsMsg_Destroy(m);
			return no_memory(ep);
		}
		jsPubOptions_Init(&po);
		po.MsgId = msgid;
		po.MaxWait = PUBLISH_WAIT_MS;
		s = js_PublishMsg(&pa, q->nq.js, m, &po, &jerr);
		natsMsg_Destroy(m);
		if (s == NATS_OK) {
			if (seq)
				*seq = pa->Sequence;
			jsPubAck_Destroy(pa);
			return 0;
		}
		log_debug("%s: publish %s: %s (%d)", ep->name, msgid,
			  natsStatus_GetText(s), (int)jerr);
		if (is_full(s, jerr)) {
			full_wait(ep, &full_ms);
			since = mono_ns();
			continue;
		}
		if (!natsq_retryable(s, jerr)) {
			snprintf(ep->err, sizeof ep->err, "%.200s: %s: publish: %s",
				 ep->name, q->nq.url, natsq_error(s, jerr, why, sizeof why));
			return -1;
		}
		if (natsq_backoff(&q->nq, since, &ms, "publish", s, jerr) < 0)
			return failed(ep);
	}
}

/*
 * Sends without waiting for the PubAck: up to ASYNC_MAX_PENDING (natsq.c)
 * may be on their way; complete() waits for them, and sends again what
 * failed or went unanswered.  Falls back to publish() if the library
 * will not take it.
 */
static int publish_async(struct endpoint *ep, const void *data, size_t len,
			 const char *id)
{
	struct enats *q = EN(ep);
	natsMsg *m = NULL;
	jsPubOptions po;
	natsStatus s = natsMsg_Create(&m, q->names.subject, NULL, data, (int)len);

	if (s != NATS_OK)
		return no_memory(ep);
	jsPubOptions_Init(&po);
	po.MsgId = id;
	s = js_PublishMsgAsync(q->nq.js, &m, &po);
	natsMsg_Destroy(m);	/* NULL once the library took it */
	if (s != NATS_OK)
		return publish(ep, q->names.subject, data, len, id, NULL, NULL);
	q->unsettled = 1;
	return 0;
}

/* Sends again, waiting for each, what failed. */
static int resend_failed(struct endpoint *ep)
{
	struct enats *q = EN(ep);
	int lost = 0, rc = 0;
	struct natsq_failed *f = natsq_take_failed(&q->nq, &lost), *i;

	for (i = f; i && rc == 0; i = i->next)
		rc = publish(ep, i->subject, i->data, (size_t)i->len,
			     i->id[0] ? i->id : NULL, NULL, NULL);
	natsq_failed_free(f);
	if (rc == 0 && lost) {
		snprintf(ep->err, sizeof ep->err,
			 "%.200s: a publish failed and could not be kept to be sent again (out of memory)",
			 ep->name);
		return -1;
	}
	return rc;
}

/* Sends again, waiting for each, what went unanswered. */
static int resend_pending(struct endpoint *ep)
{
	struct enats *q = EN(ep);
	natsMsgList pending = { 0 };
	int rc = 0;

	if (js_PublishAsyncGetPendingList(&pending, q->nq.js) != NATS_OK)
		return 0;	/* none: they were answered meanwhile */
	for (int i = 0; i < pending.Count && rc == 0; i++) {
		natsMsg *m = pending.Msgs[i];
		const char *id = NULL;
		(void)natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
		rc = publish(ep, natsMsg_GetSubject(m), natsMsg_GetData(m),
			     (size_t)natsMsg_GetDataLength(m), id, NULL, NULL);
	}
	natsMsgList_Destroy(&pending);
	return rc;
}

/* When say_watermark puts the entry: when due (busy writers), now (a
 * sync: the program is about to wait, maybe long), or as done. */
enum say { SAY_WHEN_DUE, SAY_NOW, SAY_DONE };

/*
 * Puts this process's watermark entry (natswm.h): called when every
 * publish is stored, so the open segment closes at the stream's last
 * sequence.  Untimed writers say nothing but done, which lets the queue's
 * watermark pass their atoms once consumed.
 */
static int say_watermark(struct endpoint *ep, enum say when)
{
	struct enats *q = EN(ep);
	struct natsq_info info;
	char text[NATSWM_TEXT_MAX];
	int done = when == SAY_DONE;

	/* with no atom since the last entry, only its segments could change,
	 * and readers weigh those against the stream themselves */
	if (!q->producer || q->finished || (!done && (!q->w.timed || !q->w.open)))
		return 0;
	if (when == SAY_WHEN_DUE && mono_ns() < q->wm_due)
		return 0;
	q->wm_due = mono_ns() + WATERMARK_EVERY_NS;
	if (natsq_info(&q->nq, q->queue, &info) < 0)
		return failed(ep);
	natswm_settled(&q->w, info.first_seq, info.put, info.msgs);
	natswm_format(&q->w, done, text, sizeof text);
	if (strcmp(text, q->w.said) == 0)
		return 0;
	if (natsflow_say_watermark(&q->nq, q->queue, q->producer, q->instance, text) < 0)
		return failed(ep);
	snprintf(q->w.said, sizeof q->w.said, "%s", text);
	return 0;
}

/* Waits until every publish of the endpoint is stored. */
static int complete(struct endpoint *ep)
{
	struct enats *q = EN(ep);

	while (q->unsettled) {
		jsPubOptions po;
		natsStatus s;
		jsPubOptions_Init(&po);
		po.MaxWait = PUBLISH_WAIT_MS;
		s = js_PublishAsyncComplete(q->nq.js, &po);
		if (s != NATS_OK && resend_pending(ep) < 0)
			return -1;
		if (resend_failed(ep) < 0)
			return -1;
		q->unsettled = s != NATS_OK;
	}
	return say_watermark(ep, SAY_WHEN_DUE);
}

static int complete_all(char *err, size_t errlen)
{
	for (size_t i = 0; i < nopen; i++)
		if (open_eps[i]->writing && complete(open_eps[i]) < 0) {
			snprintf(err, errlen, "%s", open_eps[i]->err);
			return -1;
		}
	return 0;
}

static int ref_append(struct endpoint *ep, const char *fmt, uint64_t v)
{
	struct enats *q = EN(ep);
	size_t used = q->ref ? strlen(q->ref) : 0;
	char piece[64];
	int n = snprintf(piece, sizeof piece, fmt, v);

	if (grow((uint8_t **)&q->ref, &q->ref_cap, used + (size_t)n + 1, 1) < 0)
		return no_memory(ep);
	memcpy(q->ref + used, piece, (size_t)n + 1);
	return 0;
}

/* The payload as chunks in the chunk stream, then the header as the
 * queue's message, naming them. */
static int write_chunked(struct endpoint *ep, const uint8_t *hdr, size_t hlen,
			 const uint8_t *payload, size_t stored, const char *id,
			 size_t chunk)
{
	struct enats *q = EN(ep);
	size_t off = 0;

	if (!q->chunks_ready) {
		if (natsq_chunks_open(&q->nq, q->queue) < 0)
			return failed(ep);
		q->chunks_ready = 1;
	}
	if (grow((uint8_t **)&q->ref, &q->ref_cap, strlen(q->names.chunks) + 2, 1) < 0)
		return no_memory(ep);
	snprintf(q->ref, q->ref_cap, "%s ", q->names.chunks);
	if (ref_append(ep, "%" PRIu64, stored) < 0)
		return -1;
	for (uint64_t i = 0; off < stored; i++) {
		size_t n = stored - off < chunk ? stored - off : chunk;
		char cid[ATOMID_HEX_LEN + 24];
		uint64_t seq = 0;
		snprintf(cid, sizeof cid, "%s.%" PRIu64, id, i);
		if (publish(ep, q->names.chunk_subject, payload + off, n, cid, NULL, &seq) < 0 ||
		    ref_append(ep, i ? ",%" PRIu64 : " %" PRIu64, seq) < 0)
			return -1;
		off += n;
	}
	return publish(ep, q->names.subject, hdr, hlen, id, q->ref, NULL);
}

/*
 * A write by a stage that another replica (or an earlier run) finished:
 * for a stage that reads a queue it only repeats stored work, and is
 * dropped with one warning; for a source it is a rerun that must be
 * refused (spsc(7), Completion; endpoint_opts).
 */
static int late(struct endpoint *ep)
{
	struct enats *q = EN(ep);

	if (!q->late_is_redundant) {
		snprintf(ep->err, sizeof ep->err, "%.200s: %s", ep->name, q->finished_why);
		return -1;
	}
	if (!q->warned_late++)
		log_warn("%s: this stage has finished the queue already (another replica saw its input complete); late outputs of work done there are dropped",
			 ep->name);
	return 0;
}

/* An atom stored, or on its way: it joins the watermark entry, which a
 * writer that never flushes still puts when due. */
static int wrote(struct endpoint *ep, const struct atom *a)
{
	struct enats *q = EN(ep);

	natswm_put(&q->w, a);
	return q->producer && q->w.timed && mono_ns() >= q->wm_due ? complete(ep) : 0;
}

static int enats_write(struct endpoint *ep, const struct atom *a)
{
	struct enats *q = EN(ep);
	uint8_t hdr[ATOM_HEADER_BUF];
	const void *payload;
	size_t stored, room;
	char id[ATOMID_HEX_LEN + 1];
	int hlen = atom_encode(&ep->codec, a, hdr, &payload, &stored);

	if (hlen < 0) {
		snprintf(ep->err, sizeof ep->err, "%.200s: cannot encode atom: %s",
			 ep->name, strerror(errno));
		return -1;
	}
	if (q->finished)
		return late(ep);
	atomid_hex(&a->id, id);
	room = (size_t)natsConnection_GetMaxPayload(q->nq.nc);
	room = room > 2 * HEADER_ROOM ? room - HEADER_ROOM : HEADER_ROOM;
	if ((size_t)hlen + stored > room)
		return write_chunked(ep, hdr, (size_t)hlen, payload, stored, id, room) < 0
		       ? -1 : wrote(ep, a);
	if (grow(&q->buf, &q->cap, (size_t)hlen + stored, 1) < 0)
		return no_memory(ep);
	memcpy(q->buf, hdr, (size_t)hlen);
	if (stored > 0)
		memcpy(q->buf + hlen, payload, stored);
	if (publish_async(ep, q->buf, (size_t)hlen + stored, id) < 0)
		return -1;
	return wrote(ep, a);
}

/* ---- reading ---- */

struct get_call {
	const char *stream;
	uint64_t seq;
	natsMsg *msg;
};

static natsStatus get_msg(struct natsq *nq, void *arg, jsErrCode *jerr)
{
	struct get_call *c = arg;

	return js_GetMsg(&c->msg, nq->js, c->stream, c->seq, NULL, jerr);
}

/* One chunk, by its sequence; retried like every request. */
static int get_chunk(struct endpoint *ep, struct get_call *c)
{
	return natsq_call(&EN(ep)->nq, "get chunk", get_msg, c, NULL) < 0 ? failed(ep) : 0;
}

/* The payload that REF ("STREAM SIZE SEQ,SEQ...") names, into q->buf. */
static int join(struct endpoint *ep, const char *ref, size_t *len)
{
	struct enats *q = EN(ep);
	char stream[NATSQ_NAME_MAX + 8];
	unsigned long long size;
	int used = 0;
	const char *p;

	*len = 0;
	if (sscanf(ref, "%247s %llu %n", stream, &size, &used) != 2 || used == 0 ||
	    size > ep->codec.limit) {
		snprintf(ep->err, sizeof ep->err, "%.200s: bad %s header: %.100s",
			 ep->name, NATSQ_CHUNKS_HEADER, ref);
		return -1;
	}
	if (grow(&q->buf, &q->cap, (size_t)size, 1) < 0)
		return no_memory(ep);
	for (p = ref + used; *p; p += *p == ',') {
		struct get_call c = { .stream = stream };
		char *end;
		size_t n;
		c.seq = strtoull(p, &end, 10);
		if (end == p)
			break;
		p = end;
		if (get_chunk(ep, &c) < 0)
			return -1;
		n = (size_t)natsMsg_GetDataLength(c.msg);
		if (*len + n > size) {
			natsMsg_Destroy(c.msg);
			snprintf(ep->err, sizeof ep->err,
				 "%.200s: chunks of an atom exceed its size %llu", ep->name, size);
			return -1;
		}
		memcpy(q->buf + *len, natsMsg_GetData(c.msg), n);
		*len += n;
		natsMsg_Destroy(c.msg);
	}
	if (*len != size) {
		snprintf(ep->err, sizeof ep->err,
			 "%.200s: chunks of an atom hold %zu bytes, not %llu", ep->name, *len, size);
		return -1;
	}
	return 0;
}

static const char *chunks_of(natsMsg *m)
{
	const char *v = NULL;

	return natsMsgHeader_Get(m, NATSQ_CHUNKS_HEADER, &v) == NATS_OK ? v : NULL;
}

/* Deletes the chunks REF names, once nothing refers to them. */
static void drop_chunks(struct endpoint *ep, const char *ref)
{
	struct enats *q = EN(ep);
	char stream[NATSQ_NAME_MAX + 8];
	unsigned long long size;
	int used = 0;

	if (sscanf(ref, "%247s %llu %n", stream, &size, &used) != 2 || used == 0)
		return;
	for (const char *p = ref + used; *p;) {
		char *end;
		uint64_t seq = strtoull(p, &end, 10);
		if (end == p)
			break;
		/* a chunk left behind wastes space, loses nothing */
		if (js_DeleteMsg(q->nq.js, stream, seq, NULL, NULL) != NATS_OK)
			log_debug("%s: chunk %" PRIu64 " of %s not deleted", ep->name,
				  seq, stream);
		p = *end == ',' ? end + 1 : end;
	}
}

static natsStatus ack_msg(struct natsq *nq, void *arg, jsErrCode *jerr)
{
	(void)jerr;
	return natspull_reply_sync(nq->nc, arg, NATSPULL_ACK, nq->jo.Wait);
}

/* An ack the server confirms, asked again while it is away or a leader
 * is being elected; acking again what was acked is harmless. */
static int ack_sync(struct endpoint *ep, natsMsg *m)
{
	return natsq_call(&EN(ep)->nq, "ack", ack_msg, m, NULL) < 0 ? failed(ep) : 0;
}

/*
 * An atom past max-receives (or one that is not an atom at all) goes to
 * NAME.dlq under the same id, and is acknowledged here only then.  Its
 * chunks, if any, now belong to the dead letter.
 */
static int dead_letter(struct endpoint *ep, natsMsg *m, uint64_t delivered,
		       int unreadable)
{
	struct enats *q = EN(ep);
	size_t len = (size_t)natsMsg_GetDataLength(m);
	struct atom a;
	struct atom_frame f;
	char id[ATOMID_HEX_LEN + 24], why[8];

	if (!q->dlq_ready) {
		char dlq[QUEUE_NAME_MAX + 8];
		struct natsq_conf c;
		snprintf(dlq, sizeof dlq, "%s.dlq", q->queue);
		if (natsq_names(dlq, &q->dlq) < 0 || natsq_open(&q->nq, dlq, &c) < 0)
			return q->nq.err[0] ? failed(ep) : -1;
		q->dlq_ready = 1;
	}
	if (grow(&q->buf, &q->cap, len, 1) < 0)
		return no_memory(ep);
	memcpy(q->buf, natsMsg_GetData(m), len);
	if (!unreadable &&
	    atom_parse_header(q->buf, len, SIZE_MAX, &a, &f, why, sizeof why) == 0) {
		atom_header_restamp(q->buf, (uint32_t)(delivered - 1), ATOM_FAIL_RECEIVES, 0);
		atomid_hex(&a.id, id);
		log_warn("%s: %s delivered %u times: moved to %s.dlq", ep->name, id,
			 (unsigned)(delivered - 1), q->queue);
	} else {
		snprintf(id, sizeof id, "seq-%" PRIu64, natsMsg_GetSequence(m));
		log_warn("%s: message %" PRIu64 " is not an atom: moved to %s.dlq",
			 ep->name, natsMsg_GetSequence(m), q->queue);
	}
	if (publish(ep, q->dlq.subject, q->buf, len, id, chunks_of(m), NULL) < 0 ||
	    ack_sync(ep, m) < 0)
		return -1;
	natsMsg_Destroy(m);
	return 0;
}

static int hold(struct endpoint *ep, const struct atom *a, natsMsg *m)
{
	struct enats *q = EN(ep);
	const char *ref = chunks_of(m);
	struct held *h;

	if (grow(&q->held, &q->held_cap, q->nheld + 1, sizeof *q->held) < 0)
		return no_memory(ep);
	h = &q->held[q->nheld];
	*h = (struct held){ .id = a->id, .msg = m };
	if (ref && (h->chunks = strdup(ref)) == NULL)
		return no_memory(ep);
	q->nheld++;
	return 0;
}

/* 1: the message is the atom *a, now held; 0: it was dead-lettered;
 * -1: an error. */
static int take(struct endpoint *ep, natsMsg *m, struct atom *a)
{
	struct enats *q = EN(ep);
	jsMsgMetaData *meta = NULL;
	uint64_t delivered;
	const char *ref = chunks_of(m);
	const void *data = natsMsg_GetData(m);
	size_t len = (size_t)natsMsg_GetDataLength(m), plen = 0;
	char why[256];

	if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
		natsMsg_Destroy(m);
		snprintf(ep->err, sizeof ep->err, "%.200s: a message without JetStream metadata",
			 ep->name);
		return -1;
	}
	delivered = meta->NumDelivered;
	jsMsgMetaData_Destroy(meta);
	if (!q->is_dlq && delivered > q->conf.max_receives)
		return dead_letter(ep, m, delivered, 0);
	if (ref && join(ep, ref, &plen) < 0) {
		natsMsg_Destroy(m);
		return -1;
	}
	if (atom_decode_parts(&ep->codec, data, len, ref ? q->buf : NULL, plen, a,
			      why, sizeof why) < 0) {
		log_warn("%s: message %" PRIu64 ": %s", ep->name,
			 natsMsg_GetSequence(m), why);
		return dead_letter(ep, m, delivered, 1);
	}
	a->attempt = (uint32_t)delivered;
	if (a->wm != ATOM_TIME_NONE || a->tmin != ATOM_TIME_NONE)
		q->timed_input = 1;
	if (hold(ep, a, m) < 0) {
		natsMsg_Destroy(m);
		return -1;
	}
	return 1;
}

/*
 * How many messages the queue's stream holds: the stream, not the
 * consumer's counters (a work queue deletes a message only once it is
 * acknowledged, and the stream's state is what its replicas agreed on,
 * where a consumer just taken over by another server may count nothing
 * pending for a moment).  What a failover left between the two is mended
 * first (natsq_repair), once it has lasted REPAIR_AFTER_NS, or the
 * queue would never be empty.
 */
static int stream_msgs(struct endpoint *ep, uint64_t *msgs)
{
	struct enats *q = EN(ep);
	struct natsq_info info;
	struct natsq_repair r;

	if (natsq_info(&q->nq, q->queue, &info) < 0)
		return failed(ep);
	*msgs = info.msgs;
	if (info.msgs == 0 || info.ready > 0 || info.inflight > 0) {
		q->stuck_since = 0;
		return 0;
	}
	if (q->stuck_since == 0)
		q->stuck_since = mono_ns();
	if (mono_ns() - q->stuck_since < REPAIR_AFTER_NS)
		return 0;
	q->stuck_since = mono_ns();	/* the next try, if need be */
	if (natsq_repair(&q->nq, q->queue, &r) < 0)
		return failed(ep);
	if (r.orphans > 0)
		log_warn("%s: deleted %llu message%s that the queue's consumer had acknowledged but its stream kept (left by a failover)",
			 ep->name, (unsigned long long)r.orphans, r.orphans == 1 ? "" : "s");
	if (r.stepped_down)
		log_warn("%s: the queue's consumer did not count messages its stream holds (left by a failover); its leader was asked to step down",
			 ep->name);
	if (r.orphans > 0 && natsq_info(&q->nq, q->queue, &info) < 0)
		return failed(ep);
	*msgs = info.msgs;
	return 0;
}

/* Has the queue nothing ready and nothing in flight?  (--drain) */
static int drained(struct endpoint *ep)
{
	uint64_t msgs;

	return stream_msgs(ep, &msgs) < 0 ? -1 : msgs == 0;
}

/*
 * After a pull request that brought nothing: has the queue's every producer
 * finished (ep->closed), and does it then hold nothing (complete: 1, the
 * end of input)?  As spsc-coord's GET replies say closed=1 and
 * complete=1 (spsc(7), Completion).
 */
static int completion(struct endpoint *ep)
{
	struct enats *q = EN(ep);
	struct flow f = { 0 };
	uint64_t msgs;

	if (natsflow_read(&q->nq, q->queue, &f) < 0)
		return failed(ep);
	ep->closed = flow_closed(&f);
	flow_free(&f);
	if (!ep->closed)
		return 0;
	if (stream_msgs(ep, &msgs) < 0)
		return -1;
	if (msgs == 0)
		ep->wm = ATOM_TIME_END;
	return msgs == 0;
}

/*
 * The queue's watermark before it is complete, worked out from its
 * producers' entries at most every WATERMARK_EVERY_NS, once atoms with
 * event times came: it only rises (ep->wm), as spsc-coord's GET replies
 * say it.  The atoms this reader holds are in the stream until
 * acknowledged, so it never passes them.
 */
static int watch_watermark(struct endpoint *ep)
{
	struct enats *q = EN(ep);
	struct flow f = { 0 };
	struct natsq_info info;
	int64_t wm;
	int rc;

	if (!q->timed_input || mono_ns() < q->wm_due || ep->wm == ATOM_TIME_END)
		return 0;
	q->wm_due = mono_ns() + WATERMARK_EVERY_NS;
	if (natsq_info(&q->nq, q->queue, &info) < 0 ||
	    natsflow_read(&q->nq, q->queue, &f) < 0)
		return failed(ep);
	rc = natsflow_watermark(&q->nq, q->queue, &f, info.first_seq, info.msgs, &wm);
	flow_free(&f);
	if (rc < 0)
		return failed(ep);
	if (wm != ATOM_TIME_NONE && wm > ep->wm && wm != ATOM_TIME_END)
		ep->wm = wm;
	return 0;
}

/* A request that could not be made, or was not served, for want of a
 * server (or of the queue's consumer, during an election): tried again
 * until the give-up time; -1 then. */
static int connection_lost(struct endpoint *ep, natsStatus s)
{
	struct enats *q = EN(ep);
	char why[300];

	if (q->lost_since == 0)
		q->lost_since = mono_ns();
	if (mono_ns() - q->lost_since <= q->nq.give_up_ns) {
		natsq_nap(50);
		return 0;
	}
	if (s == NATS_NO_RESPONDERS)
		snprintf(ep->err, sizeof ep->err,
			 "%.200s: %s: the queue's consumer did not answer for %llds (was the queue deleted?)",
			 ep->name, q->nq.url, (long long)(q->nq.give_up_ns / NS_PER_SEC));
	else
		snprintf(ep->err, sizeof ep->err, "%.200s: %s: no NATS server for %llds: %s",
			 ep->name, q->nq.url, (long long)(q->nq.give_up_ns / NS_PER_SEC),
			 natsq_error(s, 0, why, sizeof why));
	return -1;
}

/*
 * Nothing to take: is the input over?  That is asked when a pull request
 * ended without bringing anything, as after a GET that found the queue
 * empty.  1: the end, 0: go on, -1: an error.
 */
static int idle(struct endpoint *ep)
{
	struct enats *q = EN(ep);
	struct natspull_state st;
	struct natsq_info info;
	int rc;

	if (natsConnection_Status(q->nq.nc) != NATS_CONN_STATUS_CONNECTED)
		return connection_lost(ep, NATS_CONNECTION_DISCONNECTED);
	natspull_state(&q->pull, &st);
	if (st.ended_empty && st.no_consumer)
		return connection_lost(ep, NATS_NO_RESPONDERS);
	q->lost_since = 0;
	/* a request that nobody ended: is the queue still there? */
	if (st.lost && natsq_info(&q->nq, q->queue, &info) < 0)
		return failed(ep);
	if (st.ended_empty) {
		if ((rc = completion(ep)) != 0)
			return rc;
		if (!ep->closed && q->drain && (rc = drained(ep)) != 0)
			return rc;
	}
	return watch_watermark(ep);
}

/* A pull request open, if none is: 1 there is one, 0 not (the server is
 * away: try again), -1 an error. */
static int ask(struct endpoint *ep)
{
	struct enats *q = EN(ep);
	natsStatus s = natspull_ask(&q->pull, q->prefetch, LONG_POLL_MS * NS_PER_MS);
	char why[300];

	if (s == NATS_OK)
		return 1;
	if (natsq_retryable(s, 0))
		return connection_lost(ep, s);
	snprintf(ep->err, sizeof ep->err, "%.200s: %s: pull request: %s", ep->name,
		 q->nq.url, natsq_error(s, 0, why, sizeof why));
	return -1;
}

/* As equeue_read: 1 an atom, 0 the end, ENDPOINT_AGAIN, -1 an error. */
static int enats_read(struct endpoint *ep, struct atom *a, int64_t wait_ns)
{
	struct enats *q = EN(ep);
	int64_t until = wait_ns < 0 ? INT64_MAX : mono_ns() + wait_ns;

	for (;;) {
		int64_t left;
		natsMsg *m;
		int rc;
		if (stop_requested)
			return 0;
		while ((m = natspull_take(&q->pull)) != NULL)
			if ((rc = take(ep, m, a)) != 0)
				return rc < 0 || watch_watermark(ep) < 0 ? -1 : rc;
		/* about to wait for input: nothing may wait with us */
		if (enats_flush_all(ep->err, sizeof ep->err) < 0)
			return -1;
		if ((rc = idle(ep)) != 0)
			return rc < 0 ? -1 : 0;
		if ((rc = ask(ep)) < 0)
			return -1;
		/* A bounded wait also ends when the input closes: a reader
		 * holding atoms back learns it has all it will get. */
		left = until - mono_ns();
		if (left <= 0 || (wait_ns >= 0 && ep->closed))
			return ENDPOINT_AGAIN;
		/* the request's end wakes us; this is for one lost with a server */
		left = left < 2 * LONG_POLL_MS * NS_PER_MS ? left : 2 * LONG_POLL_MS * NS_PER_MS;
		if (rc > 0 && natspull_wait(&q->pull, (left + NS_PER_MS - 1) / NS_PER_MS) < 0) {
			snprintf(ep->err, sizeof ep->err, "%.200s: poll: %s", ep->name,
				 strerror(errno));
			return -1;
		}
	}
}

static struct held *held_find(struct endpoint *ep, const struct atom *a)
{
	struct enats *q = EN(ep);

	for (size_t i = q->nheld; i-- > 0;)
		if (atomid_equal(&q->held[i].id, &a->id))
			return &q->held[i];
	snprintf(ep->err, sizeof ep->err, "%.200s: not an atom this reader holds",
		 ep->name);
	return NULL;
}

static void held_drop(struct endpoint *ep, struct held *h)
{
	struct enats *q = EN(ep);

	natsMsg_Destroy(h->msg);	/* NULL if it joined the acks */
	free(h->chunks);
	*h = q->held[--q->nheld];
}

/*
 * Sends the acks gathered since the last flush: all but the last without
 * waiting, and the last confirmed, whose answer comes after the others'
 * on the same connection (one round trip a batch).  An atom with chunks
 * is confirmed on its own before its chunks go.  An ack lost anyway (in
 * a failover) only means a redelivery, which the ids make harmless.
 */
static int send_acks(struct endpoint *ep)
{
	struct enats *q = EN(ep);
	int rc = 0;

	for (size_t i = 0; i < q->nacks && rc == 0; i++) {
		struct held *h = &q->acks[i];
		if (h->chunks) {
			if ((rc = ack_sync(ep, h->msg)) == 0)
				drop_chunks(ep, h->chunks);
		} else if (i + 1 == q->nacks) {
			rc = ack_sync(ep, h->msg);
		} else {
			(void)natspull_reply(q->nq.nc, h->msg, NATSPULL_ACK);
		}
	}
	for (size_t i = 0; i < q->nacks; i++) {
		natsMsg_Destroy(q->acks[i].msg);
		free(q->acks[i].chunks);
	}
	q->nacks = 0;
	return rc;
}

/* Joins the acks sent at the next flush (qlink.h's chain rule: only
 * once every output is stored); a full batch is flushed at once. */
static int acked(struct endpoint *ep, struct held *h)
{
	struct enats *q = EN(ep);

	if (grow(&q->acks, &q->acks_cap, q->nacks + 1, sizeof *q->acks) < 0)
		return no_memory(ep);
	q->acks[q->nacks++] = *h;
	*h = (struct held){ 0 };	/* the message is the batch's now */
	return q->nacks >= ACK_BATCH ? enats_flush_all(ep->err, sizeof ep->err) : 0;
}

/*
 * The flush of every NATS endpoint of the process: the publishes stored,
 * the coordinator queues' PUTs stored (and their ACKs sent), then the
 * acks; chain acknowledgement across both backends.
 */
static int enats_flush_all(char *err, size_t errlen)
{
	if (complete_all(err, errlen) < 0 || qlink_flush_all(err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < nopen; i++)
		if (EN(open_eps[i])->nacks > 0 && send_acks(open_eps[i]) < 0) {
			snprintf(err, errlen, "%s", open_eps[i]->err);
			return -1;
		}
	return 0;
}

static int enats_settle(struct endpoint *ep, const struct atom *a, int op,
			int64_t ms)
{
	struct held *h = held_find(ep, a);
	natsConnection *nc = EN(ep)->nq.nc;
	natsStatus s = NATS_OK;
	int rc = 0;

	if (h == NULL)
		return -1;
	if (op == OP_TOUCH)
		s = natspull_reply(nc, h->msg, NATSPULL_IN_PROGRESS);
	else if (op == OP_NACK)
		s = natspull_nak(nc, h->msg, ms);
	else
		rc = acked(ep, h);
	if (s != NATS_OK) {
		snprintf(ep->err, sizeof ep->err, "%.200s: %s: %s", ep->name,
			 op == OP_TOUCH ? "in progress" : "nak", natsStatus_GetText(s));
		rc = -1;
	}
	if (op != OP_TOUCH)
		held_drop(ep, h);
	return rc;
}

/* Writes are stored when written; what is left is what the connection
 * buffers (acks), which a reconnect sends on: a server away is waited
 * for, as for every request. */
static natsStatus flush_conn(struct natsq *nq, void *arg, jsErrCode *jerr)
{
	(void)arg;
	(void)jerr;
	return natsConnection_FlushTimeout(nq->nc, 5000);
}

static int enats_sync(struct endpoint *ep)
{
	if (complete(ep) < 0 || say_watermark(ep, SAY_NOW) < 0)
		return -1;
	return natsq_call(&EN(ep)->nq, "flush", flush_conn, NULL, NULL) < 0 ? failed(ep) : 0;
}

/* Says this stage's producer is done with the queue (spsc(7),
 * Completion); an anonymous writer has nothing to say. */
static int enats_finish(struct endpoint *ep)
{
	struct enats *q = EN(ep);

	if (enats_sync(ep) < 0 || say_watermark(ep, SAY_DONE) < 0)
		return -1;
	if (q->producer && !q->finished &&
	    natsflow_note(&q->nq, q->queue, q->producer, 0, 1) != 0)
		return failed(ep);
	return 0;
}

static int64_t enats_lease_ns(const struct endpoint *ep)
{
	return EN(ep) ? EN(ep)->conf.vis_ns : 0;
}

static int enats_close(struct endpoint *ep)
{
	struct enats *q = EN(ep);
	int rc;

	if (q == NULL)
		return 0;
	rc = ep->writing && q->nq.js ? complete(ep) : 0;
	if (rc == 0 && q->nacks > 0 && enats_flush_all(ep->err, sizeof ep->err) < 0)
		rc = -1;
	for (size_t i = 0; i < nopen; i++)
		if (open_eps[i] == ep)
			open_eps[i] = open_eps[--nopen];
	q->nacks = 0;
	while (q->nheld > 0)	/* unsettled: back when their lease ends */
		held_drop(ep, &q->held[q->nheld - 1]);
	natspull_close(&q->pull);	/* what came, not handed out: back */
	natsq_close(&q->nq);
	free(q->held);
	free(q->acks);
	free(q->buf);
	free(q->ref);
	free(q);
	ep->qs = NULL;
	return rc;
}

/* A reader's pull request is open, and nothing it brought waits. */
static int pull_on_way(const struct endpoint *ep)
{
	struct natspull_state st;

	if (ep->writing)
		return 0;
	natspull_state(&EN(ep)->pull, &st);
	return st.open && st.waiting == 0;
}

/*
 * With no NATS endpoint open there is nothing of ours to progress, and the
 * flush must not run: its wait for the coordinator queues' PUTs (chain
 * acknowledgement for our acks) would make every endpoints_progress of a
 * program using only spsc-coord a blocking round trip.  With one open, a
 * flush it is: our publishes and acks have no way to wait half-done.  A
 * reader's open pull request is what is still on its way.
 */
static int enats_progress_all(char *err, size_t errlen)
{
	int on_way = 0;

	if (nopen > 0 && enats_flush_all(err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < nopen; i++)
		on_way |= pull_on_way(open_eps[i]);
	return on_way;
}

/* The fd of each reader whose pull request may still bring something:
 * it wakes the poll when it does, or ends. */
static int enats_pollfds_all(struct pollfd *p, size_t max, int *now)
{
	size_t n = 0;

	*now = 0;
	for (size_t i = 0; i < nopen; i++) {
		if (!pull_on_way(open_eps[i]))
			continue;
		if (n == max)
			return -1;
		p[n++] = (struct pollfd){ .fd = natspull_fd(&EN(open_eps[i])->pull),
					  .events = POLLIN };
	}
	return (int)n;
}

/* Messages came and wait to be handed out. */
static int enats_pending(const struct endpoint *ep)
{
	struct natspull_state st;

	natspull_state(&EN(ep)->pull, &st);
	return st.waiting > 0;
}

/* A look that finds nothing leaves its pull request open, and the
 * request's fd (enats_pollfds_all) wakes the reader when it brings
 * something. */
static int enats_looks_wait(const struct endpoint *ep)
{
	(void)ep;
	return 1;
}

const struct queue_backend queue_nats = {
	.flush_all = enats_flush_all,
	.progress_all = enats_progress_all,
	.pollfds_all = enats_pollfds_all,
	.pending = enats_pending,
	.looks_wait = enats_looks_wait,
	.open = enats_open,
	.read = enats_read,
	.write = enats_write,
	.settle = enats_settle,
	.finish = enats_finish,
	.sync = enats_sync,
	.lease_ns = enats_lease_ns,
	.close = enats_close,
};
