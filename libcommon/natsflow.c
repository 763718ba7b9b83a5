#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "natsflow.h"
#include "units.h"

#define CAS_TRIES 100

/* The status of the last failed call, for the retry in each entry point. */
static natsStatus last;

static int kv_failed(struct natsq *q, const char *what, natsStatus s)
{
	char why[300];

	last = s;
	snprintf(q->err, sizeof q->err, "%.200s: %s %s: %.300s", q->url, what,
		 NATSFLOW_BUCKET, natsq_error(s, 0, why, sizeof why));
	return -1;
}

/* After a failed call: 0 to try again (the server may be coming back,
 * or a leader being elected), -1 once that is not so or takes too long. */
static int retry(struct natsq *q, int64_t *since, int *ms)
{
	if (!natsq_retryable(last, 0))
		return -1;
	if (*since == 0)
		*since = mono_ns();
	return natsq_backoff(q, *since, ms, "flow", last, 0);
}

/* The bucket, made on first use with the queues' replicas. */
static int bucket(struct natsq *q)
{
	kvConfig cfg;
	const char *env = getenv("SPSC_NATS_REPLICAS");
	natsStatus s;

	int64_t since = mono_ns();
	int ms = 0;

	if (q->flow)
		return 0;
	/* retried while a server is away or a leader is being elected */
	while ((s = js_KeyValue(&q->flow, q->js, NATSFLOW_BUCKET)) != NATS_OK &&
	       s != NATS_NOT_FOUND && natsq_retryable(s, 0))
		if (natsq_backoff(q, since, &ms, "open " NATSFLOW_BUCKET, s, 0) < 0)
			return -1;
	if (s == NATS_OK)
		return 0;
	if (s != NATS_NOT_FOUND)
		return kv_failed(q, "open", s);
	kvConfig_Init(&cfg);
	cfg.Bucket = NATSFLOW_BUCKET;
	cfg.Description = "spsc: the producers of each queue";
	cfg.History = 1;
	cfg.StorageType = js_FileStorage;
	cfg.Replicas = env && atoi(env) > 0 ? atoi(env) : 1;
	s = js_CreateKeyValue(&q->flow, q->js, &cfg);
	/* made meanwhile by another client */
	if (s != NATS_OK && (s = js_KeyValue(&q->flow, q->js, NATSFLOW_BUCKET)) != NATS_OK)
		return kv_failed(q, "create", s);
	return 0;
}

/* The queue's value and its revision (0: no key yet); NULL on error. */
static cJSON *get(struct natsq *q, const char *key, uint64_t *rev)
{
	kvEntry *e = NULL;
	natsStatus s = kvStore_Get(&e, q->flow, key);
	cJSON *v;

	*rev = 0;
	if (s == NATS_NOT_FOUND)
		return cJSON_CreateObject();
	if (s != NATS_OK) {
		kv_failed(q, "get from", s);
		return NULL;
	}
	*rev = kvEntry_Revision(e);
	v = cJSON_Parse(kvEntry_ValueString(e));
	kvEntry_Destroy(e);
	if (v == NULL)
		snprintf(q->err, sizeof q->err, "%.200s: %s %s: not JSON", q->url,
			 NATSFLOW_BUCKET, key);
	return v;
}

static cJSON *producers_of(cJSON *v)
{
	cJSON *p = cJSON_GetObjectItemCaseSensitive(v, "producers");

	return cJSON_IsObject(p) ? p : cJSON_AddObjectToObject(v, "producers");
}

/* put's answer when another client wrote first: not NATSFLOW_FINISHED,
 * which a lost race must never be taken for. */
#define RACED 2

/* Writes V at revision REV: 0 done, RACED, -1 error. */
static int put(struct natsq *q, const char *key, const cJSON *v, uint64_t rev)
{
	char *text = cJSON_PrintUnformatted(v);
	uint64_t nrev = 0;
	natsStatus s;

	if (text == NULL) {
		snprintf(q->err, sizeof q->err, "%.200s: out of memory", q->url);
		return -1;
	}
	s = rev ? kvStore_UpdateString(&nrev, q->flow, key, text, rev)
		: kvStore_CreateString(&nrev, q->flow, key, text);
	free(text);
	if (s == NATS_OK)
		return 0;
	/* a wrong last sequence, or a key made meanwhile: read again */
	if (s == NATS_ERR || s == NATS_NOT_FOUND)
		return RACED;
	return kv_failed(q, "put to", s);
}

/* What a change does to the value; NATSFLOW_FINISHED refuses it. */
struct change {
	enum { NOTE, EXPECT, RESET, SEAL } what;
	const char *id;		/* NOTE: the producer, in hex */
	int done;		/* NOTE */
	uint32_t expect;	/* NOTE, EXPECT: > 0 sets it */
	int sealed;		/* SEAL */
};

static int apply(struct natsq *q, const char *queue, cJSON *v,
		 const struct change *c)
{
	cJSON *p = producers_of(v);
	cJSON *was = c->id ? cJSON_GetObjectItemCaseSensitive(p, c->id) : NULL;

	if (c->what == NOTE && !c->done && cJSON_IsNumber(was) && was->valueint == 1) {
		snprintf(q->err, sizeof q->err,
			 "producer %s has finished queue %s; it accepts nothing more from it (spsc-coord reopen %s starts it afresh)",
			 c->id, queue, queue);
		return NATSFLOW_FINISHED;
	}
	if (c->what == NOTE) {
		cJSON_DeleteItemFromObjectCaseSensitive(p, c->id);
		cJSON_AddNumberToObject(p, c->id, c->done);
	} else if (c->what == RESET) {
		cJSON_DeleteItemFromObjectCaseSensitive(v, "producers");
		cJSON_DeleteItemFromObjectCaseSensitive(v, "sealed");
	} else if (c->what == SEAL) {
		cJSON_DeleteItemFromObjectCaseSensitive(v, "sealed");
		cJSON_AddBoolToObject(v, "sealed", c->sealed);
	}
	if (c->expect > 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(v, "expect");
		cJSON_AddNumberToObject(v, "expect", c->expect);
	}
	return 0;
}

/* Reads, changes and writes back the queue's value, again from the read
 * when another client wrote first. */
static int change(struct natsq *q, const char *queue, const struct change *c)
{
	struct natsq_names n;
	const char *key;
	int64_t since = 0;
	int ms = 0;

	if (natsq_names(queue, &n) < 0 || bucket(q) < 0)
		return -1;
	key = n.stream + strlen("SPSC_");
	for (int i = 0; i < CAS_TRIES; i++) {
		uint64_t rev;
		cJSON *v = get(q, key, &rev);
		int rc;
		if (v == NULL) {
			if (retry(q, &since, &ms) == 0)
				continue;
			return -1;
		}
		if ((rc = apply(q, queue, v, c)) == 0)
			rc = put(q, key, v, rev);
		cJSON_Delete(v);
		if (rc == 0 || rc == NATSFLOW_FINISHED ||
		    (rc < 0 && retry(q, &since, &ms) < 0))
			return rc;
	}
	snprintf(q->err, sizeof q->err, "%.200s: %s: too many concurrent changes",
		 q->url, queue);
	return -1;
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
	char id[17];

	snprintf(id, sizeof id, "%016" PRIx64, producer);
	return change(q, queue, &(struct change){ .what = NOTE, .id = id,
						  .done = done, .expect = expect });
}

/* spsc-coord create --producers N: how many producers to wait for. */
int natsflow_expect(struct natsq *q, const char *queue, uint32_t expect)
{
	return change(q, queue, &(struct change){ .what = EXPECT, .expect = expect });
}

/* spsc-coord reopen: forgets the producers and the seal, keeps expect. */
int natsflow_reopen(struct natsq *q, const char *queue)
{
	return change(q, queue, &(struct change){ .what = RESET });
}

/* spsc-coord seal (1) and reopen's undoing of it. */
int natsflow_seal(struct natsq *q, const char *queue, int sealed)
{
	return change(q, queue, &(struct change){ .what = SEAL, .sealed = sealed });
}

/* The queue's producers as flow.h keeps them (no watermarks). */
int natsflow_read(struct natsq *q, const char *queue, struct flow *f)
{
	struct natsq_names n;
	uint64_t rev;
	cJSON *v, *e;

	int64_t since = 0;
	int ms = 0;

	flow_free(f);
	if (natsq_names(queue, &n) < 0 || bucket(q) < 0)
		return -1;
	while ((v = get(q, n.stream + strlen("SPSC_"), &rev)) == NULL)
		if (retry(q, &since, &ms) < 0)
			return -1;
	f->sealed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "sealed"));
	e = cJSON_GetObjectItemCaseSensitive(v, "expect");
	f->expect = cJSON_IsNumber(e) && e->valuedouble > 0 ? (uint32_t)e->valuedouble : 0;
	cJSON_ArrayForEach(e, producers_of(v)) {
		uint64_t id = strtoull(e->string, NULL, 16);
		if (flow_note(f, id, ATOM_TIME_NONE, cJSON_IsNumber(e) && e->valueint == 1) < 0) {
			cJSON_Delete(v);
			snprintf(q->err, sizeof q->err, "%.200s: %s: too many producers",
				 q->url, queue);
			return -1;
		}
	}
	cJSON_Delete(v);
	return 0;
}
