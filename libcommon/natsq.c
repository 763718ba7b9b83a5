#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "home.h"
#include "natsq.h"
#include "units.h"

#define DEFAULT_VIS_NS (30 * NS_PER_SEC)
/* How long a stream just made elsewhere may take to be known cluster-wide */
#define STREAM_SETTLE_NS (5 * NS_PER_SEC)
#define DEFAULT_MAX_RECEIVES 5
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
#define API_WAIT_MS 5000
/* A consumer's default (1000) would cap the atoms in flight below what
 * many consumers with prefetch hold. */
#define MAX_ACK_PENDING 100000

/* '_' is "_u" and '.' is "_d": one-to-one, and with no '.' left. */
static int encode(const char *queue, char *out, size_t len)
{
	size_t o = 0;

	for (const char *p = queue; *p; p++) {
		const char *esc = *p == '_' ? "_u" : *p == '.' ? "_d" : NULL;
		size_t need = esc ? 2 : 1;
		if (o + need > NATSQ_NAME_MAX || o + need >= len)
			return -1;
		if (esc)
			memcpy(out + o, esc, 2);
		else
			out[o] = *p;
		o += need;
	}
	out[o] = '\0';
	return 0;
}

static int decode(const char *enc, char *out, size_t len)
{
	size_t o = 0;

	for (const char *p = enc; *p; p++) {
		char c = *p;
		if (c == '_') {
			c = p[1] == 'u' ? '_' : p[1] == 'd' ? '.' : 0;
			if (c == 0)
				return -1;
			p++;
		}
		if (o + 1 >= len)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* nats://... names NATS JetStream servers; anything else is spsc-coord's. */
int natsq_is_url(const char *url)
{
	return strncmp(url, "nats://", 7) == 0;
}

int natsq_names(const char *queue, struct natsq_names *n)
{
	if (encode(queue, n->key, sizeof n->key) < 0)
		return -1;
	snprintf(n->stream, sizeof n->stream, "SPSC_%s", n->key);
	snprintf(n->subject, sizeof n->subject, "spsc.q.%s", n->key);
	snprintf(n->chunks, sizeof n->chunks, "SPSCC_%s", n->key);
	snprintf(n->chunk_subject, sizeof n->chunk_subject, "spsc.c.%s", n->key);
	return 0;
}

const char *natsq_error(natsStatus s, jsErrCode jerr, char *buf, size_t len)
{
	const char *last = nats_GetLastError(NULL);

	if (jerr)
		snprintf(buf, len, "%s (JetStream error %d)",
			 last && *last ? last : natsStatus_GetText(s), (int)jerr);
	else
		snprintf(buf, len, "%s", natsStatus_GetText(s));
	return buf;
}

/* Failures that a server coming back, a leader being elected or a
 * client reconnecting cure: worth retrying with the same request. */
int natsq_retryable(natsStatus s, jsErrCode jerr)
{
	if (jerr == JSClusterNotAvailErr || jerr == JSClusterNoPeersErr)
		return 1;
	return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ||
	       s == NATS_CONNECTION_DISCONNECTED || s == NATS_STALE_CONNECTION ||
	       s == NATS_IO_ERROR || s == NATS_NO_SERVER;
}

void natsq_nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * After a retryable failure of WHAT at mono time SINCE: waits *ms
 * (doubling it up to a second) and returns 0 to retry, or -1 with q->err
 * set once the give-up time has passed.
 */
int natsq_backoff(struct natsq *q, int64_t since, int *ms, const char *what,
		  natsStatus s, jsErrCode jerr)
{
	char why[300];

	if (mono_ns() - since > q->give_up_ns) {
		snprintf(q->err, sizeof q->err,
			 "%.200s: %s: no answer for %llds: %s", q->url, what,
			 (long long)(q->give_up_ns / NS_PER_SEC),
			 natsq_error(s, jerr, why, sizeof why));
		return -1;
	}
	if (*ms < BACKOFF_MIN_MS)
		*ms = BACKOFF_MIN_MS;
	natsq_nap(*ms);
	*ms = *ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *ms * 2;
	return 0;
}

/* "nats://a:1,b:2" as the list libnats takes: every item with a scheme. */
static int server_list(const char *url, char buf[][512], const char **servers,
		       int max)
{
	const char *p = url + strlen("nats://");
	int n = 0;

	while (*p && n < max) {
		size_t len = strcspn(p, ",");
		if (len == 0 || len > 400)
			return -1;
		snprintf(buf[n], sizeof buf[n], "nats://%.*s", (int)len, p);
		servers[n] = buf[n];
		n++;
		p += len;
		if (*p == ',')
			p++;
	}
	return *p || n == 0 ? -1 : n;
}

static int set_options(struct natsq *q, natsOptions *o)
{
	char buf[16][512];
	const char *servers[16];
	int n = server_list(q->url, buf, servers, 16);

	if (n < 0) {
		snprintf(q->err, sizeof q->err,
			 "%.200s: not a NATS URL: use nats://HOST:PORT[,HOST:PORT...] (at most 16)",
			 q->url);
		return -1;
	}
	/* Reconnect for ever: giving up is ours to decide, per request. */
	if (natsOptions_SetServers(o, servers, n) != NATS_OK ||
	    natsOptions_SetMaxReconnect(o, -1) != NATS_OK ||
	    natsOptions_SetReconnectWait(o, 100) != NATS_OK ||
	    natsOptions_SetTimeout(o, 2000) != NATS_OK ||
	    natsOptions_SetName(o, "spsc") != NATS_OK) {
		snprintf(q->err, sizeof q->err, "%.200s: cannot set up the NATS client",
			 q->url);
		return -1;
	}
	return 0;
}

#define ASYNC_MAX_PENDING 256

/*
 * The library's thread, for an asynchronous publish that failed: a copy
 * is kept for the program's thread to send again, since the library
 * destroys the message once this returns.  One that cannot be kept
 * (out of memory) is counted, and fails the next completion.
 */
static void on_publish_failed(jsCtx *js, jsPubAckErr *pae, void *closure)
{
	struct natsq *q = closure;
	struct natsq_failed *f = calloc(1, sizeof *f);
	const char *id = NULL;
	int len = natsMsg_GetDataLength(pae->Msg);

	(void)js;
	if (f && (f->subject = strdup(natsMsg_GetSubject(pae->Msg))) != NULL &&
	    (f->data = malloc(len > 0 ? (size_t)len : 1)) != NULL) {
		memcpy(f->data, natsMsg_GetData(pae->Msg), (size_t)len);
		f->len = len;
		if (natsMsgHeader_Get(pae->Msg, "Nats-Msg-Id", &id) == NATS_OK)
			snprintf(f->id, sizeof f->id, "%s", id);
	} else {
		natsq_failed_free(f);
		f = NULL;
	}
	pthread_mutex_lock(&q->lock);
	if (f) {
		f->next = q->failed;
		q->failed = f;
	} else {
		q->lost = 1;
	}
	pthread_mutex_unlock(&q->lock);
}

/* What failed since the last call, for the caller to send again. */
struct natsq_failed *natsq_take_failed(struct natsq *q, int *lost)
{
	struct natsq_failed *f;

	pthread_mutex_lock(&q->lock);
	f = q->failed;
	q->failed = NULL;
	*lost = q->lost;
	pthread_mutex_unlock(&q->lock);
	return f;
}

void natsq_failed_free(struct natsq_failed *f)
{
	while (f) {
		struct natsq_failed *next = f->next;
		free(f->subject);
		free(f->data);
		free(f);
		f = next;
	}
}

/* Connects, retrying with backoff while no server answers, for up to
 * $SPSC_CONNECT_TIMEOUT (default 30s). */
int natsq_connect(struct natsq *q, const char *url)
{
	natsOptions *o = NULL;
	sigset_t all, saved;
	int64_t since = mono_ns();
	int ms = 0, rc = -1;
	natsStatus s;

	memset(q, 0, sizeof *q);
	pthread_mutex_init(&q->lock, NULL);
	snprintf(q->url, sizeof q->url, "%s", url);
	q->give_up_ns = coord_connect_timeout();
	/* libnats starts its threads from here on; they inherit this mask,
	 * so that SIGTERM and SIGINT reach the program's own thread, which
	 * waits for them, not a library thread that would never act on them.
	 * (A signal during the connect's retries waits for their end.) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	if (natsOptions_Create(&o) != NATS_OK) {
		snprintf(q->err, sizeof q->err, "%.200s: out of memory", url);
		goto out;
	}
	if (set_options(q, o) < 0)
		goto out;
	while ((s = natsConnection_Connect(&q->nc, o)) != NATS_OK) {
		q->nc = NULL;
		if (!natsq_retryable(s, 0) ||
		    natsq_backoff(q, since, &ms, "connect", s, 0) < 0) {
			char why[300];
			snprintf(q->err, sizeof q->err,
				 "%.200s: no NATS server answered for %llds (is nats-server running, with -js?): %s",
				 url, (long long)(q->give_up_ns / NS_PER_SEC),
				 natsq_error(s, 0, why, sizeof why));
			goto out;
		}
	}
	jsOptions_Init(&q->jo);
	q->jo.Wait = API_WAIT_MS;
	q->jo.PublishAsync.MaxPending = ASYNC_MAX_PENDING;
	q->jo.PublishAsync.StallWait = API_WAIT_MS;
	q->jo.PublishAsync.ErrHandler = on_publish_failed;
	q->jo.PublishAsync.ErrHandlerClosure = q;
	if ((s = natsConnection_JetStream(&q->js, q->nc, &q->jo)) != NATS_OK) {
		snprintf(q->err, sizeof q->err, "%.200s: JetStream: %s", url,
			 natsStatus_GetText(s));
		goto out;
	}
	rc = 0;
out:
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (o)
		natsOptions_Destroy(o);
	if (rc < 0)
		natsq_close(q);
	return rc;
}

void natsq_close(struct natsq *q)
{
	if (q->flow)
		kvStore_Destroy(q->flow);
	q->flow = NULL;
	if (q->js)
		jsCtx_Destroy(q->js);
	if (q->nc) {
		(void)natsConnection_FlushTimeout(q->nc, 2000);
		natsConnection_Destroy(q->nc);
	}
	q->js = NULL;
	q->nc = NULL;
	natsq_failed_free(q->failed);
	q->failed = NULL;
}

static long env_long(const char *name)
{
	const char *v = getenv(name);

	return v && atol(v) > 0 ? atol(v) : 0;
}

/* The replicas of what a program makes: $SPSC_NATS_REPLICAS, else 1. */
int natsq_replicas(void)
{
	return env_long("SPSC_NATS_REPLICAS") ? (int)env_long("SPSC_NATS_REPLICAS") : 1;
}

/* What a new queue gets, as from spsc-coord serve: $SPSC_VISIBILITY,
 * $SPSC_MAX_RECEIVES, $SPSC_MAX_DEPTH, and $SPSC_NATS_REPLICAS. */
static void conf_defaults(struct natsq_conf *c)
{
	const char *vis = getenv("SPSC_VISIBILITY");
	int64_t ns;

	if (c->vis_ns <= 0)
		c->vis_ns = vis && parse_duration(vis, &ns) == 0 && ns > 0 ? ns
									 : DEFAULT_VIS_NS;
	if (c->max_receives == 0)
		c->max_receives = env_long("SPSC_MAX_RECEIVES") ? (uint32_t)env_long("SPSC_MAX_RECEIVES")
								 : DEFAULT_MAX_RECEIVES;
	if (c->max_depth == 0)
		c->max_depth = env_long("SPSC_MAX_DEPTH");
	if (c->replicas <= 0)
		c->replicas = natsq_replicas();
}

/*
 * Calls FN(q, arg, &jerr) until it succeeds, fails for good, or the
 * give-up time passes: the one retry loop of every request that may meet
 * a server away or a leader being elected.  -1 with q->err naming WHAT.
 */
int natsq_call(struct natsq *q, const char *what, natsq_fn fn, void *arg,
	       jsErrCode *jerr_out)
{
	int64_t since = mono_ns();
	int ms = 0;
	natsStatus s;
	jsErrCode jerr;

	for (;;) {
		jerr = 0;
		s = fn(q, arg, &jerr);
		if (jerr_out)
			*jerr_out = jerr;
		if (s == NATS_OK)
			return 0;
		if (!natsq_retryable(s, jerr)) {
			char why[300];
			snprintf(q->err, sizeof q->err, "%.200s: %s: %.300s", q->url, what,
				 natsq_error(s, jerr, why, sizeof why));
			return -1;
		}
		if (natsq_backoff(q, since, &ms, what, s, jerr) < 0)
			return -1;
	}
}

struct stream_call {
	const char *name;
	jsStreamConfig *cfg;
	jsStreamInfo *si;
	const char *consumer;
	jsConsumerConfig *cc;
	jsConsumerInfo *ci;
};

static natsStatus get_stream(struct natsq *q, void *arg, jsErrCode *jerr)
{
	struct stream_call *c = arg;

	return js_GetStreamInfo(&c->si, q->js, c->name, NULL, jerr);
}

static natsStatus add_stream(struct natsq *q, void *arg, jsErrCode *jerr)
{
	struct stream_call *c = arg;

	return js_AddStream(&c->si, q->js, c->cfg, NULL, jerr);
}

static natsStatus update_stream(struct natsq *q, void *arg, jsErrCode *jerr)
{
	struct stream_call *c = arg;

	return js_UpdateStream(&c->si, q->js, c->cfg, NULL, jerr);
}

static natsStatus get_consumer(struct natsq *q, void *arg, jsErrCode *jerr)
{
	struct stream_call *c = arg;

	return js_GetConsumerInfo(&c->ci, q->js, c->name, NATSQ_CONSUMER, NULL, jerr);
}

static natsStatus add_consumer(struct natsq *q, void *arg, jsErrCode *jerr)
{
	struct stream_call *c = arg;

	return js_AddConsumer(&c->ci, q->js, c->name, c->cc, NULL, jerr);
}

static natsStatus update_consumer(struct natsq *q, void *arg, jsErrCode *jerr)
{
	struct stream_call *c = arg;

	return js_UpdateConsumer(&c->ci, q->js, c->name, c->cc, NULL, jerr);
}

static void call_free(struct stream_call *c)
{
	if (c->si)
		jsStreamInfo_Destroy(c->si);
	if (c->ci)
		jsConsumerInfo_Destroy(c->ci);
	c->si = NULL;
	c->ci = NULL;
}

/* Adds the stream, or (replace) makes an existing one's settings these. */
static int put_stream(struct natsq *q, jsStreamConfig *cfg, int replace)
{
	struct stream_call c = { .name = cfg->Name, .cfg = cfg };
	jsErrCode jerr = 0;
	int rc = natsq_call(q, "add stream", add_stream, &c, &jerr);

	call_free(&c);
	if (rc < 0 && jerr == JSStreamNameExistErr) {
		/* made meanwhile by another client (open), or there before
		 * with other settings (create) */
		rc = replace ? natsq_call(q, "update stream", update_stream, &c, NULL) : 0;
		call_free(&c);
	}
	return rc;
}

static int put_consumer(struct natsq *q, const char *stream,
			const struct natsq_conf *conf, int replace)
{
	jsConsumerConfig cc;
	struct stream_call c = { .name = stream, .cc = &cc };
	jsErrCode jerr = 0;
	int rc;

	jsConsumerConfig_Init(&cc);
	cc.Durable = NATSQ_CONSUMER;
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = conf->vis_ns;
	cc.MaxDeliver = -1;
	cc.MaxAckPending = MAX_ACK_PENDING;
	for (int64_t since = mono_ns();;) {
		rc = natsq_call(q, "add consumer", add_consumer, &c, &jerr);
		call_free(&c);
		/* A stream another client is making at the same time (ours
		 * said it exists) may not be known yet where consumers are
		 * added, in a cluster: the answer is "stream not found". */
		if (!(rc < 0 && jerr == JSStreamNotFoundErr) ||
		    mono_ns() - since > STREAM_SETTLE_NS)
			break;
		natsq_nap(50);
	}
	if (rc < 0 && (jerr == JSConsumerNameExistErr || jerr == JSConsumerExistingActiveErr)) {
		rc = replace ? natsq_call(q, "update consumer", update_consumer, &c, NULL) : 0;
		call_free(&c);
	}
	return rc;
}

static void queue_stream_config(jsStreamConfig *sc, const struct natsq_names *n,
				 const char **subject, const struct natsq_conf *conf,
				 char *desc, size_t desclen, const char *queue)
{
	jsStreamConfig_Init(sc);
	snprintf(desc, desclen, "spsc queue %s max-receives=%u", queue,
		 (unsigned)conf->max_receives);
	*subject = n->subject;
	sc->Name = n->stream;
	sc->Description = desc;
	sc->Subjects = subject;
	sc->SubjectsLen = 1;
	sc->Storage = js_FileStorage;
	sc->Retention = js_WorkQueuePolicy;
	sc->MaxMsgs = conf->max_depth > 0 ? conf->max_depth : -1;
	sc->MaxBytes = conf->max_bytes > 0 ? conf->max_bytes : -1;
	sc->Discard = js_DiscardNew;
	sc->Duplicates = NATSQ_DUP_WINDOW_NS;
	sc->Replicas = conf->replicas;
}

static int bad_name(struct natsq *q, const char *queue)
{
	snprintf(q->err, sizeof q->err,
		 "%.200s: queue name too long for NATS (at most %d characters, '_' and '.' counting twice)",
		 queue, NATSQ_NAME_MAX);
	return -1;
}

static int make_queue(struct natsq *q, const char *queue,
		      const struct natsq_conf *conf, int replace)
{
	struct natsq_names n;
	jsStreamConfig sc;
	const char *subject;
	char desc[512];

	if (natsq_names(queue, &n) < 0)
		return bad_name(q, queue);
	queue_stream_config(&sc, &n, &subject, conf, desc, sizeof desc, queue);
	if (put_stream(q, &sc, replace) < 0)
		return -1;
	return put_consumer(q, n.stream, conf, replace);
}

/* spsc-coord create: the queue with these settings, made or changed. */
int natsq_create(struct natsq *q, const char *queue,
		 const struct natsq_conf *want)
{
	struct natsq_conf conf = *want;

	conf_defaults(&conf);
	return make_queue(q, queue, &conf, 1);
}

/* The settings of an existing queue, from its stream and consumer. */
static void conf_read(const jsStreamInfo *si, const jsConsumerInfo *ci,
		      struct natsq_conf *conf)
{
	const char *d = si->Config->Description;
	const char *mr = d ? strstr(d, "max-receives=") : NULL;

	memset(conf, 0, sizeof *conf);
	if (mr)
		conf->max_receives = (uint32_t)strtoul(mr + strlen("max-receives="), NULL, 10);
	conf->max_depth = si->Config->MaxMsgs > 0 ? si->Config->MaxMsgs : 0;
	conf->max_bytes = si->Config->MaxBytes > 0 ? si->Config->MaxBytes : 0;
	conf->replicas = (int)si->Config->Replicas;
	conf->vis_ns = ci && ci->Config ? ci->Config->AckWait : 0;
	conf_defaults(conf);
}

static int lookup(struct natsq *q, const char *stream, struct stream_call *c,
		  jsErrCode *jerr)
{
	*c = (struct stream_call){ .name = stream };
	if (natsq_call(q, "stream info", get_stream, c, jerr) < 0)
		return -1;
	return natsq_call(q, "consumer info", get_consumer, c, jerr);
}

/*
 * The queue, made with the default settings if it is not there (as
 * spsc-coord makes a queue on first use), and its settings in *conf.
 */
int natsq_open(struct natsq *q, const char *queue, struct natsq_conf *conf)
{
	struct natsq_names n;
	struct stream_call c;
	jsErrCode jerr = 0;
	int rc;

	if (natsq_names(queue, &n) < 0)
		return bad_name(q, queue);
	rc = lookup(q, n.stream, &c, &jerr);
	if (rc < 0 && (jerr == JSStreamNotFoundErr || jerr == JSConsumerNotFoundErr)) {
		struct natsq_conf def = { 0 };
		call_free(&c);
		conf_defaults(&def);
		if (make_queue(q, queue, &def, 0) < 0)
			return -1;
		rc = lookup(q, n.stream, &c, NULL);
	}
	if (rc == 0)
		conf_read(c.si, c.ci, conf);
	call_free(&c);
	return rc;
}

/* The stream that holds the chunks of the queue's large atoms. */
int natsq_chunks_open(struct natsq *q, const char *queue)
{
	struct natsq_names n;
	jsStreamConfig sc;
	const char *subject;

	if (natsq_names(queue, &n) < 0)
		return bad_name(q, queue);
	subject = n.chunk_subject;
	jsStreamConfig_Init(&sc);
	sc.Name = n.chunks;
	sc.Description = "spsc chunks of large atoms";
	sc.Subjects = &subject;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Duplicates = NATSQ_DUP_WINDOW_NS;
	sc.Replicas = natsq_replicas();
	return put_stream(q, &sc, 0);
}

int natsq_info(struct natsq *q, const char *queue, struct natsq_info *info)
{
	struct natsq_names n;
	struct stream_call c;
	jsErrCode jerr = 0;

	if (natsq_names(queue, &n) < 0)
		return bad_name(q, queue);
	memset(info, 0, sizeof *info);
	/* A stream without its consumer yet is a queue being made (the
	 * consumer of a replicated stream comes a moment later): all of it
	 * is ready, none of it in flight. */
	if (lookup(q, n.stream, &c, &jerr) < 0 &&
	    !(c.si && jerr == JSConsumerNotFoundErr)) {
		call_free(&c);
		return -1;
	}
	info->ready = c.ci ? c.ci->NumPending : c.si->State.Msgs;
	if (c.ci) {
		info->inflight = (uint64_t)c.ci->NumAckPending;
		info->redelivered = (uint64_t)c.ci->NumRedelivered;
		info->consumers = c.ci->NumWaiting;
	}
	info->msgs = c.si->State.Msgs;
	info->bytes = c.si->State.Bytes;
	info->put = c.si->State.LastSeq;
	info->first_seq = c.si->State.FirstSeq;
	if (c.si->Cluster && c.si->Cluster->Leader)
		snprintf(info->leader, sizeof info->leader, "%s", c.si->Cluster->Leader);
	info->first_ns = c.si->State.Msgs ? c.si->State.FirstTime : 0;
	conf_read(c.si, c.ci, &info->conf);
	call_free(&c);
	return 0;
}

/* No stream at all is an empty list, not an error. */
static natsStatus stream_names(struct natsq *q, void *arg, jsErrCode *jerr)
{
	natsStatus s = js_StreamNames((jsStreamNamesList **)arg, q->js, NULL, jerr);

	return s == NATS_NOT_FOUND ? NATS_OK : s;
}

/* The names of every spsc queue on the server, sorted by the caller. */
/* At most this many orphans go in one look: they are rare (one per
 * failover, seen), and a reader looks again. */
#define ORPHANS_MAX 1000

struct delete_call {
	const char *stream;
	uint64_t seq;
	int found;
};

static natsStatus delete_msg(struct natsq *q, void *arg, jsErrCode *jerr)
{
	struct delete_call *c = arg;
	natsStatus s = js_DeleteMsg(q->js, c->stream, c->seq, NULL, jerr);

	c->found = s == NATS_OK;
	return s != NATS_OK && *jerr == JSNoMessageFoundErr ? NATS_OK : s;
}

static int delete_orphans(struct natsq *q, const char *stream, uint64_t first,
			  uint64_t floor, uint64_t *n)
{
	for (uint64_t seq = first; seq <= floor && seq - first < ORPHANS_MAX; seq++) {
		struct delete_call d = { stream, seq, 0 };
		if (natsq_call(q, "delete an orphan", delete_msg, &d, NULL) < 0)
			return -1;
		*n += (uint64_t)d.found;
	}
	return 0;
}

/* A new consumer leader reads the stream afresh. */
static natsStatus step_down(struct natsq *q, void *arg, jsErrCode *jerr)
{
	char subject[NATSQ_NAME_MAX + 64];
	natsMsg *reply = NULL;
	natsStatus s;

	(void)jerr;
	snprintf(subject, sizeof subject, "$JS.API.CONSUMER.LEADER.STEPDOWN.%s.%s",
		 (const char *)arg, NATSQ_CONSUMER);
	s = natsConnection_RequestString(&reply, q->nc, subject, "", 5000);
	natsMsg_Destroy(reply);
	return s;
}

/*
 * Mends what a failover left between a queue's stream and its consumer,
 * when the consumer has nothing to deliver or in flight but the stream
 * still holds messages (nats-server 2.9 was seen to leave the second
 * after a failover; the first is the same disagreement the other way):
 *
 *  - orphans: messages at or below the consumer's ack floor, which it
 *    counts as acknowledged but whose deletion the stream never applied.
 *    They are deleted, as their acks should have done.  A consumer just
 *    taken over may know less than it did, never more, so its ack floor
 *    never covers a message not acknowledged.
 *  - messages past the last the consumer delivered, which it does not
 *    count as pending: its leader steps down, and the next one reads the
 *    stream afresh and delivers them.
 *
 * Either way the queue would never empty, and never complete.
 */
int natsq_repair(struct natsq *q, const char *queue, struct natsq_repair *r)
{
	struct natsq_names names;
	struct stream_call c;
	uint64_t first, last, floor, delivered;
	int idle;

	memset(r, 0, sizeof *r);
	if (natsq_names(queue, &names) < 0)
		return bad_name(q, queue);
	if (lookup(q, names.stream, &c, NULL) < 0) {
		call_free(&c);
		return -1;
	}
	first = c.si->State.FirstSeq;
	last = c.si->State.LastSeq;
	floor = c.ci->AckFloor.Stream;
	delivered = c.ci->Delivered.Stream;
	idle = c.si->State.Msgs > 0 && c.ci->NumPending == 0 && c.ci->NumAckPending == 0;
	call_free(&c);
	if (!idle)
		return 0;
	if (floor >= first && delete_orphans(q, names.stream, first, floor, &r->orphans) < 0)
		return -1;
	if (last > delivered && last > floor) {
		if (natsq_call(q, "consumer leader step-down", step_down,
			       (void *)names.stream, NULL) < 0)
			return -1;
		r->stepped_down = 1;
	}
	return 0;
}

struct purge_call {
	const char *stream;
};

static natsStatus purge_stream(struct natsq *q, void *arg, jsErrCode *jerr)
{
	natsStatus s = js_PurgeStream(q->js, ((struct purge_call *)arg)->stream, NULL, jerr);

	/* a queue whose atoms all fitted a message has no chunk stream */
	return s == NATS_NOT_FOUND || *jerr == JSStreamNotFoundErr ? NATS_OK : s;
}

/* Takes every atom out of QUEUE (and its chunks); *n: how many went. */
int natsq_purge(struct natsq *q, const char *queue, uint64_t *n)
{
	struct natsq_names names;
	struct natsq_info info;

	if (natsq_names(queue, &names) < 0)
		return bad_name(q, queue);
	if (natsq_info(q, queue, &info) < 0)
		return -1;
	*n = info.msgs;
	if (natsq_call(q, "purge", purge_stream, &(struct purge_call){ names.stream }, NULL) < 0 ||
	    natsq_call(q, "purge", purge_stream, &(struct purge_call){ names.chunks }, NULL) < 0)
		return -1;
	return 0;
}

int natsq_queues(struct natsq *q, char ***names, size_t *n)
{
	jsStreamNamesList *list = NULL;
	jsErrCode jerr = 0;

	*names = NULL;
	*n = 0;
	if (natsq_call(q, "stream names", stream_names, &list, &jerr) < 0)
		return -1;
	if (list == NULL)
		return 0;
	*names = calloc((size_t)list->Count + 1, sizeof **names);
	for (int i = 0; *names && i < list->Count; i++) {
		char name[NATSQ_NAME_MAX + 1];
		if (strncmp(list->List[i], "SPSC_", 5) != 0 ||
		    decode(list->List[i] + 5, name, sizeof name) < 0)
			continue;
		if (((*names)[*n] = strdup(name)) != NULL)
			(*n)++;
	}
	jsStreamNamesList_Destroy(list);
	if (*names == NULL) {
		snprintf(q->err, sizeof q->err, "%.200s: out of memory", q->url);
		return -1;
	}
	return 0;
}
