/*
 * drv-nats: the bench/queue driver for NATS JetStream (libnats, the C
 * client).
 *
 *   setup: a stream QUEUE on subject bench.QUEUE, file storage, work-queue
 *          retention (an acknowledged message is deleted, as in spsc),
 *          and a durable pull consumer "workers" with explicit acks
 *   put:   n x js_PublishAsync, then js_PublishAsyncComplete: every
 *          message's PubAck is back before the batch counts as stored
 *   take:  natsSubscription_Fetch(n, wait_ms) (of 1 when libnats 3.4's
 *          overflow threatens: fetch_size); each message checked, all
 *          but the last acknowledged with natsMsg_Ack and the last with
 *          natsMsg_AckSync, whose reply follows the earlier acks on the
 *          same connection: one round trip a batch
 *   teardown: delete the stream
 *
 * That is a window of 1.  A wider window is libnats's own pipelining:
 * no js_PublishAsyncComplete per batch, the library keeping up to
 * window x batch PubAcks outstanding (jsOptions.PublishAsync.MaxPending:
 * js_PublishAsync waits for the oldest when that many are), and one
 * js_PublishAsyncComplete at the end; every message acknowledged with
 * natsMsg_Ack, which has no answer to wait for, ahead of the next
 * Fetch's pull request on the same connection, and a flush of the
 * connection at the end (its PING answered after the server has read
 * every ack before it).
 *
 * SERVER is a NATS URL, nats://HOST:PORT.
 */
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define DURABLE "workers"
#define ACK_WAIT_NS (30 * INT64_C(1000000000))
/* How long a full window of publishes, or the final flush of the acks,
 * may wait for the server: as long as the harness lets a run go without
 * progress (STALL_SEC) before it fails it, so that the harness judges a
 * slow server, not libnats's defaults (200 ms for a stalled publish). */
#define SERVER_WAIT_MS 30000

struct nconn {
	natsConnection *nc;
	jsCtx *js;
	jsOptions jo;
	natsSubscription *sub;
	const struct qb_conf *conf;
	char subject[256];
};

/* Asynchronous publish failures arrive on a library thread. */
static atomic_int publish_failed;

static void on_publish_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
	(void)js;
	(void)closure;
	qb_error("publish: %s (%d)", pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err),
		 (int)pae->ErrCode);
	atomic_store(&publish_failed, 1);
}

static int failed(const char *what, natsStatus s, jsErrCode jerr)
{
	qb_error("%s: %s (JetStream error %d)", what, natsStatus_GetText(s), (int)jerr);
	return -1;
}

static void n_close(void *conn)
{
	struct nconn *c = conn;

	if (c->sub)
		natsSubscription_Destroy(c->sub);
	if (c->js)
		jsCtx_Destroy(c->js);
	if (c->nc)
		natsConnection_Destroy(c->nc);
	free(c);
}

static struct nconn *connect_js(const struct qb_conf *conf)
{
	struct nconn *c = calloc(1, sizeof *c);
	natsStatus s;

	if (c == NULL)
		return NULL;
	c->conf = conf;
	snprintf(c->subject, sizeof c->subject, "bench.%s", conf->queue);
	jsOptions_Init(&c->jo);
	c->jo.PublishAsync.MaxPending = (int64_t)conf->window * conf->batch;
	c->jo.PublishAsync.StallWait = SERVER_WAIT_MS;
	c->jo.PublishAsync.ErrHandler = on_publish_error;
	if ((s = natsConnection_ConnectTo(&c->nc, conf->server)) != NATS_OK ||
	    (s = natsConnection_JetStream(&c->js, c->nc, &c->jo)) != NATS_OK) {
		qb_error("%s: %s", conf->server, natsStatus_GetText(s));
		n_close(c);
		return NULL;
	}
	return c;
}

static int n_setup(const struct qb_conf *conf)
{
	struct nconn *c = connect_js(conf);
	const char *subjects[1];
	jsStreamConfig sc;
	jsConsumerConfig cc;
	jsStreamInfo *si = NULL;
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	int rc = 0;

	if (c == NULL)
		return -1;
	subjects[0] = c->subject;
	jsStreamConfig_Init(&sc);
	sc.Name = conf->queue;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Retention = js_WorkQueuePolicy;
	if ((s = js_AddStream(&si, c->js, &sc, NULL, &jerr)) != NATS_OK) {
		rc = failed("add stream", s, jerr);
		goto out;
	}
	jsConsumerConfig_Init(&cc);
	cc.Durable = DURABLE;
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = ACK_WAIT_NS;
	/* No cap below what the run puts in flight (the default is 1000). */
	cc.MaxAckPending = (int64_t)conf->batch * (conf->consumers + 1) * 4;
	if ((s = js_AddConsumer(&ci, c->js, conf->queue, &cc, NULL, &jerr)) != NATS_OK)
		rc = failed("add consumer", s, jerr);
out:
	if (si)
		jsStreamInfo_Destroy(si);
	if (ci)
		jsConsumerInfo_Destroy(ci);
	n_close(c);
	return rc;
}

static int n_teardown(const struct qb_conf *conf)
{
	struct nconn *c = connect_js(conf);
	jsErrCode jerr = 0;
	natsStatus s;
	int rc = 0;

	if (c == NULL)
		return -1;
	if ((s = js_DeleteStream(c->js, conf->queue, NULL, &jerr)) != NATS_OK)
		rc = failed("delete stream", s, jerr);
	n_close(c);
	return rc;
}

static void *n_open(const struct qb_conf *conf, int consumer)
{
	struct nconn *c = connect_js(conf);
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;

	if (c == NULL || consumer < 0)
		return c;
	jsSubOptions_Init(&so);
	so.Stream = conf->queue;
	so.Consumer = DURABLE;
	if ((s = js_PullSubscribe(&c->sub, c->js, c->subject, DURABLE, &c->jo, &so,
				  &jerr)) != NATS_OK) {
		failed("pull subscribe", s, jerr);
		n_close(c);
		return NULL;
	}
	return c;
}

static int n_put(void *conn, const struct qb_atom *atoms, int n)
{
	struct nconn *c = conn;
	natsStatus s;

	/* js_PublishAsync copies the data into its message. */
	for (int i = 0; i < n; i++)
		if ((s = js_PublishAsync(c->js, c->subject, atoms[i].data,
					 (int)atoms[i].len, NULL)) != NATS_OK)
			return failed("publish", s, 0);
	if (c->conf->window == 1 && (s = js_PublishAsyncComplete(c->js, NULL)) != NATS_OK)
		return failed("publish complete", s, 0);
	return atomic_load(&publish_failed) ? -1 : 0;
}

static int n_put_flush(void *conn)
{
	struct nconn *c = conn;
	natsStatus s;

	if ((s = js_PublishAsyncComplete(c->js, NULL)) != NATS_OK)
		return failed("publish complete", s, 0);
	return atomic_load(&publish_failed) ? -1 : 0;
}

/*
 * libnats before 3.8.3 (Debian 12 has 3.4) writes past a fetch's list
 * when the fetch finds W messages of an earlier, timed-out fetch already
 * waiting and 2W + 1 > MAX: the run then dies of heap corruption.  A
 * user of that libnats must fetch one then (those waiting cost no round
 * trip), as here.  (A window remains: messages arriving between the look
 * and the fetch.)
 */
static int fetch_size(natsSubscription *sub, int max)
{
	int waiting = 0;

	if (max == 1 || nats_GetVersionNumber() >= 0x030803)
		return max;
	if (natsSubscription_GetPending(sub, &waiting, NULL) != NATS_OK ||
	    2 * waiting + 1 > max)
		return 1;
	return max;
}

static int n_take(void *conn, int max, int wait_ms, qb_check_fn check,
		  void *ctx)
{
	struct nconn *c = conn;
	natsMsgList list = { 0 };
	jsErrCode jerr = 0;
	natsStatus s;
	int n, rc = 0;

	s = natsSubscription_Fetch(&list, c->sub, fetch_size(c->sub, max), wait_ms, &jerr);
	if (s == NATS_TIMEOUT)
		return 0;
	if (s != NATS_OK)
		return failed("fetch", s, jerr);
	n = list.Count;
	for (int i = 0; i < n && rc == 0; i++) {
		natsMsg *m = list.Msgs[i];
		if (check(ctx, (const uint8_t *)natsMsg_GetData(m),
			  (size_t)natsMsg_GetDataLength(m)) < 0) {
			qb_error("fetch: a message the producer did not make");
			rc = -1;
		} else if (i + 1 < n || c->conf->window > 1) {
			if ((s = natsMsg_Ack(m, &c->jo)) != NATS_OK)
				rc = failed("ack", s, 0);
		} else if ((s = natsMsg_AckSync(m, &c->jo, &jerr)) != NATS_OK) {
			rc = failed("ack", s, jerr);
		}
	}
	natsMsgList_Destroy(&list);
	return rc < 0 ? -1 : n;
}

/* With a window of 1 every take's AckSync was answered; beyond, the
 * acks are sent but unanswered, and this makes sure the server has them
 * all. */
static int n_take_flush(void *conn)
{
	struct nconn *c = conn;
	natsStatus s;

	if (c->conf->window > 1 &&
	    (s = natsConnection_FlushTimeout(c->nc, SERVER_WAIT_MS)) != NATS_OK)
		return failed("flush", s, 0);
	return 0;
}

const struct qb_driver qb_driver = {
	.name = "nats",
	.setup = n_setup,
	.open = n_open,
	.put = n_put,
	.put_flush = n_put_flush,
	.take = n_take,
	.take_flush = n_take_flush,
	.close = n_close,
	.teardown = n_teardown,
};
