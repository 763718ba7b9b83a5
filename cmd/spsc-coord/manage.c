/*
 * manage: the timers of the queues, and the management requests (STATUS,
 * CREATE, DELETE, PURGE, REDRIVE, PEEK).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord.h"
#include "flowjson.h"
#include "log.h"
#include "frames.h"
#include "contents.h"
#include "deliver.h"
#include "manage.h"
#include "request.h"
#include "reply.h"
#include "units.h"

#define CONSUMER_SEEN_NS (30 * NS_PER_SEC)
#define PEEK_MAX 1000
#define PEEK_MAX_BYTES ((size_t)16 << 20)	/* as a GET reply */

static void expire_retention(struct coord *c, struct queue *q, int64_t now)
{
	int64_t wall = wall_ns();
	struct entry *e;

	if (q->conf.retention_ns == 0)
		return;
	while ((e = queue_next_ready(q)) && wall - e->put_wall > q->conf.retention_ns) {
		char hex[ATOMID_HEX_LEN + 1];
		atomid_hex(&e->id, hex);
		log_warn("queue %s: atom %s passed its retention; removed", q->name, hex);
		q->n.expired++;
		entry_remove(c, q, e, now, ACK_EXPIRED);
	}
}

/* Leases and delays that ran out, ids past the de-duplication window,
 * and retention: only in the queues whose time has come (table.c). */
void queues_tick(struct coord *c, int64_t now)
{
	struct queue_extra *x;

	while ((x = queues_due(c, now)) != NULL) {
		queue_expire(x->q, now);
		if (x->q->conf.retention_ns && now - x->retention_checked >= NS_PER_SEC) {
			x->retention_checked = now;
			expire_retention(c, x->q, now);
		}
	}
}

static uint64_t consumers(const struct queue_extra *x, int64_t now)
{
	uint64_t n = 0;

	for (size_t i = 0; i < x->nconsumers; i++)
		n += now - x->consumers[i].seen < CONSUMER_SEEN_NS;
	return n;
}

static cJSON *queue_json(struct coord *c, size_t i, int64_t now)
{
	struct queue *q = c->queues[i], *dlq;
	struct queue_extra *x = c->extras[i];
	cJSON *o = cJSON_CreateObject();
	char name[256];
	struct entry *head = queue_next_ready(q);
	int64_t age = head ? (wall_ns() - head->put_wall) / NS_PER_MS : 0;

	snprintf(name, sizeof name, "%s.dlq", q->name);
	dlq = queue_named(c, name);
	queue_roll_rates(x, now);
	cJSON_AddStringToObject(o, "name", q->name);
	cJSON_AddNumberToObject(o, "ready", (double)q->n.ready);
	cJSON_AddNumberToObject(o, "inflight", (double)q->n.inflight);
	cJSON_AddNumberToObject(o, "delayed", (double)q->n.delayed);
	cJSON_AddNumberToObject(o, "dlq", dlq ? (double)queue_depth(dlq) : 0);
	cJSON_AddNumberToObject(o, "bytes", (double)q->n.bytes);
	cJSON_AddNumberToObject(o, "put", (double)q->n.put);
	cJSON_AddNumberToObject(o, "acked", (double)q->n.acked);
	cJSON_AddNumberToObject(o, "redelivered", (double)q->n.redelivered);
	cJSON_AddNumberToObject(o, "dead_lettered", (double)q->n.dead);
	cJSON_AddNumberToObject(o, "expired", (double)q->n.expired);
	cJSON_AddNumberToObject(o, "consumers", (double)consumers(x, now));
	cJSON_AddNumberToObject(o, "oldest_age_ms", (double)(age > 0 ? age : 0));
	cJSON_AddNumberToObject(o, "in_rate", (double)(x->put_hist[0] - x->put_hist[RATE_WINDOW - 1]) / (RATE_WINDOW - 1));
	cJSON_AddNumberToObject(o, "out_rate", (double)(x->out_hist[0] - x->out_hist[RATE_WINDOW - 1]) / (RATE_WINDOW - 1));
	cJSON_AddNumberToObject(o, "visibility_ms", (double)(q->conf.visibility_ns / NS_PER_MS));
	cJSON_AddNumberToObject(o, "max_receives", q->conf.max_receives);
	cJSON_AddNumberToObject(o, "max_depth", (double)q->conf.max_depth);
	cJSON_AddNumberToObject(o, "max_bytes", (double)q->conf.max_bytes);
	cJSON_AddNumberToObject(o, "retention_ms", (double)(q->conf.retention_ns / NS_PER_MS));
	flow_json(o, &q->flow, queue_complete(q), queue_watermark(q));
	return o;
}

static struct coord *sort_coord;

static int by_name(const void *a, const void *b)
{
	const size_t *x = a, *y = b;

	return strcmp(sort_coord->queues[*x]->name, sort_coord->queues[*y]->name);
}

void op_status(struct request *r)
{
	struct coord *c = r->c;
	struct proto_header h = { .reply = 1, .code = ST_OK, .reqid = r->h.reqid };
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "queues");
	size_t *order = calloc(c->nqueues + 1, sizeof *order);
	struct reply *rep;
	char *text;

	if (order == NULL) {
		cJSON_Delete(root);
		return reply_error(c, r->identity, r->h.reqid, ST_ERROR, "out of memory");
	}
	for (size_t i = 0; i < c->nqueues; i++)
		order[i] = i;
	sort_coord = c;
	qsort(order, c->nqueues, sizeof *order, by_name);
	for (size_t i = 0; i < c->nqueues; i++)
		cJSON_AddItemToArray(arr, queue_json(c, order[i], r->now));
	free(order);
	cJSON_AddNumberToObject(root, "pid", getpid());
	cJSON_AddNumberToObject(root, "disk_bytes", (double)store_disk_bytes(&c->store));
	cJSON_AddNumberToObject(root, "segments", (double)c->store.nsegs);
	cJSON_AddBoolToObject(root, "disk_full", c->store.nospace);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL)
		return reply_error(c, r->identity, r->h.reqid, ST_ERROR, "out of memory");
	proto_set(&h, "queues", c->nqueues);
	if ((rep = reply_begin(c, r->identity, &h)) != NULL)
		reply_add(rep, text, strlen(text));
	free(text);
}

static void reply_counts(struct request *r, const char *key, uint64_t n)
{
	struct proto_header h = { .reply = 1, .code = ST_OK, .reqid = r->h.reqid };

	proto_set(&h, key, n);
	reply_begin(r->c, r->identity, &h);
}

static struct queue *existing(struct request *r)
{
	struct queue *q = queue_lookup(r->c, r->h.queue, 0);

	if (q == NULL)
		reply_error(r->c, r->identity, r->h.reqid, ST_NOQUEUE, "no queue %s",
			    r->h.queue);
	return q;
}

/* Creates a queue, or changes the settings of one that exists: only the
 * settings named in the request change, and only if all of them are valid. */
void op_create(struct request *r)
{
	const struct proto_header *h = &r->h;
	struct queue *q;
	int created;

	if ((proto_has(h, "max_receives") &&
	     (proto_get(h, "max_receives", 0) == 0 || proto_get(h, "max_receives", 0) > 1000000)) ||
	    (proto_has(h, "vis") && (proto_get(h, "vis", 0) == 0 || proto_get(h, "vis", 0) > UINT32_MAX)) ||
	    proto_get(h, "retention", 0) > INT64_MAX / NS_PER_MS ||
	    proto_get(h, "producers", 0) > FLOW_PRODUCERS_MAX)
		return reply_error(r->c, r->identity, h->reqid, ST_BADREQ,
				   "CREATE takes vis=1..%u (ms), max_receives=1..1000000, retention in ms, producers=0..%d",
				   UINT32_MAX, FLOW_PRODUCERS_MAX);
	if ((q = client_queue(r, &created)) == NULL)
		return;
	q->conf.visibility_ns = (int64_t)proto_get(h, "vis", (uint64_t)(q->conf.visibility_ns / NS_PER_MS)) * NS_PER_MS;
	q->conf.max_receives = (uint32_t)proto_get(h, "max_receives", q->conf.max_receives);
	q->conf.max_depth = proto_get(h, "max_depth", q->conf.max_depth);
	q->conf.max_bytes = proto_get(h, "max_bytes", q->conf.max_bytes);
	q->conf.retention_ns = (int64_t)proto_get(h, "retention", (uint64_t)(q->conf.retention_ns / NS_PER_MS)) * NS_PER_MS;
	q->flow.expect = (uint32_t)proto_get(h, "producers", q->flow.expect);
	r->c->conf_dirty = 1;
	reply_counts(r, "created", (uint64_t)created);
}

void op_delete(struct request *r)
{
	struct coord *c = r->c;
	struct queue *q = existing(r);
	uint64_t n;

	if (q == NULL)
		return;
	n = purge_entries(c, q, 1);
	queue_destroy(c, q);
	log_info("queue %s deleted with %llu atoms", r->h.queue, (unsigned long long)n);
	reply_counts(r, "purged", n);
	waiters_deleted(c, r->h.queue);
}

void op_purge(struct request *r)
{
	struct queue *q = existing(r);

	if (q)
		reply_counts(r, "purged", purge_entries(r->c, q, 1));
}

/* Moves every ready atom of NAME.dlq back into NAME, failure stamp and
 * delivery count cleared, so they get a fresh set of receives.  NAME is
 * made only if there is something to move. */
void op_redrive(struct request *r)
{
	struct coord *c = r->c;
	struct queue *q, *dlq;
	char name[256], why[64];
	uint64_t moved = 0;
	struct entry *e;

	snprintf(name, sizeof name, "%s.dlq", r->h.queue);
	if ((dlq = queue_lookup(c, name, 0)) == NULL || dlq->n.ready == 0)
		return reply_counts(r, "moved", 0);
	if ((q = client_queue(r, NULL)) == NULL)
		return;
	while ((e = queue_next_ready(dlq)) != NULL) {
		uint8_t *buf = entry_load(c, dlq, e, r->now);
		struct atom a;
		if (buf == NULL)
			continue;
		atom_header_restamp(buf, 0, ATOM_FAIL_NONE, 0);
		/* checked by entry_load: only its header is wanted */
		frame_verify(c, buf, e->len, 0, &a, &(struct atom_frame){ 0 }, why,
			     sizeof why);
		if (queue_insert_frame(c, q, buf, e->len, &a) < 0)
			return reply_error(c, r->identity, r->h.reqid,
					   c->store.nospace ? ST_NOSPACE : ST_ERROR,
					   "moved %llu, then: %s",
					   (unsigned long long)moved,
					   c->store.nospace ? "the coordinator's disk is full"
							    : "out of memory");
		entry_remove(c, dlq, e, r->now, ACK_MOVED);
		dlq->n.acked++;
		moved++;
	}
	reply_counts(r, "moved", moved);
}

/* Shows the first N ready atoms without leasing them. */
void op_peek(struct request *r)
{
	struct coord *c = r->c;
	struct proto_header h = { .reply = 1, .code = ST_OK, .reqid = r->h.reqid };
	struct queue *q = existing(r);
	uint64_t want = proto_get(&r->h, "n", 10), n = 0;
	size_t bytes = 0;
	uint8_t *bufs[PEEK_MAX];
	uint32_t lens[PEEK_MAX];
	struct reply *rep;

	if (q == NULL)
		return;
	if (want == 0 || want > PEEK_MAX)
		return reply_error(c, r->identity, r->h.reqid, ST_BADREQ,
				   "PEEK takes n=1..%d", PEEK_MAX);
	for (struct entry *e = queue_next_ready(q), *next;
	     e && n < want && bytes < PEEK_MAX_BYTES; e = next) {
		next = e->next;
		if ((bufs[n] = entry_load(c, q, e, r->now)) != NULL) {
			bytes += e->len;
			lens[n++] = e->len;
		}
	}
	proto_set(&h, "n", n);
	rep = reply_begin(c, r->identity, &h);
	for (uint64_t i = 0; i < n; i++) {
		if (rep == NULL)
			free(bufs[i]);
		else
			reply_add_owned(rep, bufs[i], lens[i]);
	}
}
