#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "natsflow.h"
#include "natswm.h"
#include "units.h"

#define STREAM "KV_" NATSFLOW_BUCKET
#define SUBJECT_MAX (NATSQ_NAME_MAX + 64)

/* The bucket, made on first use with the queues' replicas. */
static natsStatus open_bucket(struct natsq *q, void *arg, jsErrCode *jerr)
{
	kvConfig cfg;
	natsStatus s = js_KeyValue(&q->flow, q->js, NATSFLOW_BUCKET);

	(void)arg;
	(void)jerr;
	if (s != NATS_NOT_FOUND)
		return s;
	kvConfig_Init(&cfg);
	cfg.Bucket = NATSFLOW_BUCKET;
	cfg.Description = "spsc: the producers of each queue";
	cfg.History = 1;
	cfg.StorageType = js_FileStorage;
	cfg.Replicas = natsq_replicas();
	s = js_CreateKeyValue(&q->flow, q->js, &cfg);
	/* made meanwhile by another client */
	return s == NATS_OK ? s : js_KeyValue(&q->flow, q->js, NATSFLOW_BUCKET);
}

static int bucket(struct natsq *q)
{
	return q->flow ? 0 : natsq_call(q, "open " NATSFLOW_BUCKET, open_bucket, NULL, NULL);
}

struct put_call {
	const char *key;
	const char *value;
};

static natsStatus put_key(struct natsq *q, void *arg, jsErrCode *jerr)
{
	struct put_call *c = arg;

	(void)jerr;
	return kvStore_PutString(NULL, q->flow, c->key, c->value);
}

/* KEY.SUFFIX of QUEUE's keys := VALUE: a plain put, never a read first. */
static int put(struct natsq *q, const char *queue, const char *suffix,
	       const char *value)
{
	struct natsq_names n;
	char key[SUBJECT_MAX];

	if (natsq_names(queue, &n) < 0 || bucket(q) < 0)
		return -1;
	snprintf(key, sizeof key, "%s.%s", n.key, suffix);
	return natsq_call(q, "put to " NATSFLOW_BUCKET, put_key,
			  &(struct put_call){ key, value }, NULL);
}

struct last_call {
	const char *subject;
	natsMsg *msg;		/* NULL: no such key */
};

static natsStatus last_msg(struct natsq *q, void *arg, jsErrCode *jerr)
{
	struct last_call *c = arg;
	natsStatus s = js_GetLastMsg(&c->msg, q->js, STREAM, c->subject, NULL, jerr);

	return s == NATS_NOT_FOUND ? NATS_OK : s;
}

/* The value of QUEUE's key KEY.SUFFIX, read from the stream's leader; 0
 * and an empty value if there is none. */
static int get(struct natsq *q, const char *queue, const char *suffix,
	       char *value, size_t len)
{
	struct natsq_names n;
	char subject[SUBJECT_MAX];
	struct last_call c = { subject, NULL };

	value[0] = '\0';
	if (natsq_names(queue, &n) < 0 || bucket(q) < 0)
		return -1;
	snprintf(subject, sizeof subject, "$KV.%s.%s.%s", NATSFLOW_BUCKET, n.key, suffix);
	if (natsq_call(q, "get from " NATSFLOW_BUCKET, last_msg, &c, NULL) < 0)
		return -1;
	if (c.msg) {
		snprintf(value, len, "%.*s", natsMsg_GetDataLength(c.msg),
			 natsMsg_GetData(c.msg));
		natsMsg_Destroy(c.msg);
	}
	return 0;
}

/*
 * Registers PRODUCER with QUEUE (done 0) or says it is done (done 1), and
 * with expect > 0 sets how many producers the queue waits for.  Returns
 * NATSFLOW_FINISHED, with q->err saying so, for a registration of a
 * producer that is done already; 0 when noted; -1 on error.
 */
int natsflow_note(struct natsq *q, const char *queue, uint64_t producer,
		  uint32_t expect, int done)
{
	char key[64], was[8];

	snprintf(key, sizeof key, "p.%016" PRIx64 ".done", producer);
	if (!done) {
		if (get(q, queue, key, was, sizeof was) < 0)
			return -1;
		if (was[0]) {
			snprintf(q->err, sizeof q->err,
				 "producer %016" PRIx64 " has finished queue %s; it accepts nothing more from it (spsc-coord reopen %s starts it afresh)",
				 producer, queue, queue);
			return NATSFLOW_FINISHED;
		}
		snprintf(key, sizeof key, "p.%016" PRIx64 ".run", producer);
	}
	if (put(q, queue, key, "1") < 0)
		return -1;
	return expect > 0 ? natsflow_expect(q, queue, expect) : 0;
}

/* spsc-coord create --producers N: how many producers to wait for. */
int natsflow_expect(struct natsq *q, const char *queue, uint32_t expect)
{
	char n[16];

	snprintf(n, sizeof n, "%u", (unsigned)expect);
	return put(q, queue, "expect", n);
}

/* spsc-coord seal: nothing more will be put. */
int natsflow_seal(struct natsq *q, const char *queue, int sealed)
{
	return sealed ? put(q, queue, "sealed", "1") : natsflow_reopen(q, queue);
}

struct purge_call {
	const char *subject;
};

static natsStatus purge(struct natsq *q, void *arg, jsErrCode *jerr)
{
	jsOptions o;

	jsOptions_Init(&o);
	o.Stream.Purge.Subject = ((struct purge_call *)arg)->subject;
	return js_PurgeStream(q->js, STREAM, &o, jerr);
}

/* spsc-coord reopen: forgets the producers and the seal, keeps expect. */
int natsflow_reopen(struct natsq *q, const char *queue)
{
	struct natsq_names n;
	char subject[SUBJECT_MAX];
	const char *const what[] = { "p.>", "sealed" };

	if (natsq_names(queue, &n) < 0 || bucket(q) < 0)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		snprintf(subject, sizeof subject, "$KV.%s.%s.%s", NATSFLOW_BUCKET,
			 n.key, what[i]);
		if (natsq_call(q, "purge " NATSFLOW_BUCKET, purge,
			       &(struct purge_call){ subject }, NULL) < 0)
			return -1;
	}
	return 0;
}

struct info_call {
	const char *filter;
	jsStreamInfo *si;
};

static natsStatus subjects(struct natsq *q, void *arg, jsErrCode *jerr)
{
	struct info_call *c = arg;
	jsOptions o;

	jsOptions_Init(&o);
	o.Stream.Info.SubjectsFilter = c->filter;
	return js_GetStreamInfo(&c->si, q->js, STREAM, &o, jerr);
}

/* One key of the queue's (its subject less "$KV.BUCKET.KEY."). */
static int note_key(struct flow *f, const char *k, const char *expect)
{
	uint64_t id;
	char state[8];

	if (strcmp(k, "sealed") == 0)
		f->sealed = 1;
	else if (strcmp(k, "expect") == 0)
		f->expect = (uint32_t)strtoul(expect, NULL, 10);
	else if (sscanf(k, "p.%16" SCNx64 ".%7s", &id, state) == 2 &&
		 (strcmp(state, "run") == 0 || strcmp(state, "done") == 0) &&
		 flow_note(f, id, ATOM_TIME_NONE, strcmp(state, "done") == 0) < 0)
		return -1;
	return 0;
}

/*
 * The queue's producers as flow.h keeps them (no watermarks), from the
 * names of its keys, as the bucket's stream leader lists them: nothing is
 * read, changed and written back, so producers writing at once never
 * undo each other.
 */
int natsflow_read(struct natsq *q, const char *queue, struct flow *f)
{
	struct natsq_names n;
	char filter[SUBJECT_MAX], expect[16];
	struct info_call c = { filter, NULL };
	const jsStreamStateSubjects *list;
	size_t prefix;
	int rc = 0;

	flow_free(f);
	if (natsq_names(queue, &n) < 0 || bucket(q) < 0 ||
	    get(q, queue, "expect", expect, sizeof expect) < 0)
		return -1;
	prefix = (size_t)snprintf(filter, sizeof filter, "$KV.%s.%s.", NATSFLOW_BUCKET, n.key);
	snprintf(filter + prefix, sizeof filter - prefix, ">");
	if (natsq_call(q, "list " NATSFLOW_BUCKET, subjects, &c, NULL) < 0)
		return -1;
	list = c.si->State.Subjects;
	for (int i = 0; list && i < list->Count && rc == 0; i++)
		if (list->List[i].Msgs > 0 && strlen(list->List[i].Subject) > prefix)
			rc = note_key(f, list->List[i].Subject + prefix, expect);
	jsStreamInfo_Destroy(c.si);
	if (rc < 0)
		snprintf(q->err, sizeof q->err, "%.200s: %s: too many producers",
			 q->url, queue);
	return rc;
}

/* A producer instance's watermark entry (natswm.h). */
int natsflow_say_watermark(struct natsq *q, const char *queue,
			   uint64_t producer, uint64_t instance, const char *text)
{
	char key[64];

	snprintf(key, sizeof key, "p.%016" PRIx64 ".wm.%016" PRIx64, producer, instance);
	return put(q, queue, key, text);
}

/* One entry, named by its subject, into its producer's promise (the
 * greatest of its instances') and held_min (the least of them). */
static int note_entry(struct natsq *q, const char *subject, size_t prefix,
		      const struct flow *f, uint64_t first_seq, uint64_t msgs,
		      int64_t *promise, int64_t *held)
{
	struct last_call c = { subject, NULL };
	const struct producer *p;
	char text[NATSWM_TEXT_MAX];
	uint64_t id;
	int64_t wm, hmin;
	size_t i;

	if (sscanf(subject + prefix, "p.%16" SCNx64 ".wm.", &id) != 1 ||
	    (p = flow_find(f, id)) == NULL)
		return 0;	/* a producer forgotten by a reopen meanwhile */
	if (natsq_call(q, "get from " NATSFLOW_BUCKET, last_msg, &c, NULL) < 0)
		return -1;
	if (c.msg == NULL)
		return 0;
	snprintf(text, sizeof text, "%.*s", natsMsg_GetDataLength(c.msg),
		 natsMsg_GetData(c.msg));
	natsMsg_Destroy(c.msg);
	if (natswm_parse(text, first_seq, msgs, &wm, &hmin) < 0)
		return 0;	/* not ours: unknown, as if absent */
	i = (size_t)(p - f->p);
	if (wm > promise[i])
		promise[i] = wm;
	if (hmin < held[i])
		held[i] = hmin;
	return 0;
}

/* The least, over the producers, of min(promise, held). */
static int64_t least_term(const struct flow *f, const int64_t *promise,
			  const int64_t *held)
{
	int64_t wm = ATOM_TIME_END;

	if (!f->sealed && f->n < flow_expected(f))
		return ATOM_TIME_NONE;
	for (size_t i = 0; i < f->n; i++) {
		int64_t t = f->sealed ? ATOM_TIME_END : promise[i];
		if (held[i] < t)
			t = held[i];
		if (t < wm)
			wm = t;
	}
	return wm;
}

/*
 * The queue's watermark before it is complete (natswm.h), for the
 * producers F (natsflow_read) and the stream's state FIRST_SEQ and MSGS:
 * ATOM_TIME_NONE while a producer it waits for has told none.
 */
int natsflow_watermark(struct natsq *q, const char *queue, const struct flow *f,
		       uint64_t first_seq, uint64_t msgs, int64_t *wm)
{
	struct natsq_names n;
	char filter[SUBJECT_MAX];
	struct info_call c = { filter, NULL };
	const jsStreamStateSubjects *list;
	int64_t *promise, *held;
	size_t prefix;
	int rc = 0;

	*wm = ATOM_TIME_NONE;
	if (f->n == 0)
		return 0;
	if (natsq_names(queue, &n) < 0 || bucket(q) < 0)
		return -1;
	promise = malloc(f->n * sizeof *promise);
	held = malloc(f->n * sizeof *held);
	if (promise == NULL || held == NULL) {
		free(promise);
		free(held);
		snprintf(q->err, sizeof q->err, "%.200s: out of memory", q->url);
		return -1;
	}
	for (size_t i = 0; i < f->n; i++) {
		promise[i] = ATOM_TIME_NONE;
		held[i] = ATOM_TIME_END;
	}
	prefix = (size_t)snprintf(filter, sizeof filter, "$KV.%s.%s.", NATSFLOW_BUCKET, n.key);
	snprintf(filter + prefix, sizeof filter - prefix, "p.*.wm.*");
	if (natsq_call(q, "list " NATSFLOW_BUCKET, subjects, &c, NULL) < 0) {
		rc = -1;
	} else {
		list = c.si->State.Subjects;
		for (int i = 0; list && i < list->Count && rc == 0; i++)
			if (list->List[i].Msgs > 0)
				rc = note_entry(q, list->List[i].Subject, prefix, f,
						first_seq, msgs, promise, held);
		jsStreamInfo_Destroy(c.si);
	}
	if (rc == 0)
		*wm = least_term(f, promise, held);
	free(promise);
	free(held);
	return rc;
}
