/*
 * admin_nats: spsc-coord's client commands for queues on NATS JetStream
 * (-c nats://...).  status builds the same JSON the coordinator sends, from
 * each queue's stream and consumer info, so that one renderer shows both;
 * create sets a queue's settings, seal and reopen its producers' record
 * (natsflow.h), purge empties it (put goes through the endpoints, as on
 * spsc-coord).  The other commands are the nats CLI's on that backend.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "atom.h"
#include "flowjson.h"
#include "log.h"
#include "natsflow.h"
#include "natsq.h"
#include "opt.h"
#include "qname.h"
#include "render.h"
#include "units.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What NAME.dlq holds, and all it was ever given (0, 0 without one). */
static void dlq_counts(struct natsq *nq, const char *queue, uint64_t *held,
		       uint64_t *moved)
{
	char dlq[QUEUE_NAME_MAX + 8];
	struct natsq_info info;

	snprintf(dlq, sizeof dlq, "%s.dlq", queue);
	*held = *moved = 0;
	if (natsq_info(nq, dlq, &info) == 0) {
		*held = info.msgs;
		*moved = info.put;
	}
}

/* The DONE and WATERMARK columns: producers, completion, event time. */
static void add_flow(struct natsq *nq, const char *name,
		     const struct natsq_info *info, cJSON *q)
{
	struct flow f = { 0 };
	int64_t wm = ATOM_TIME_NONE;
	int complete;

	if (natsflow_read(nq, name, &f) < 0) {
		log_warn("%s: %s", name, nq->err);
		return;
	}
	/* the stream, not the consumer's counters (endpoint_nats.c) */
	complete = flow_complete(&f, info->msgs);
	if (complete)
		wm = ATOM_TIME_END;
	else if (natsflow_watermark(nq, name, &f, info->first_seq, info->msgs, &wm) < 0)
		log_warn("%s: %s", name, nq->err);
	flow_json(q, &f, complete, wm);
	flow_free(&f);
}

static cJSON *queue_json(struct natsq *nq, const char *name)
{
	struct natsq_info info;
	uint64_t dead, moved, acked;
	cJSON *q;
	int64_t age = 0;

	if (natsq_info(nq, name, &info) < 0)
		return NULL;
	if (info.first_ns > 0 && wall_ns() > info.first_ns)
		age = (wall_ns() - info.first_ns) / NS_PER_MS;
	q = cJSON_CreateObject();
	cJSON_AddStringToObject(q, "name", name);
	cJSON_AddNumberToObject(q, "ready", (double)info.ready);
	cJSON_AddNumberToObject(q, "inflight", (double)info.inflight);
	cJSON_AddNumberToObject(q, "delayed", 0);
	dlq_counts(nq, name, &dead, &moved);
	cJSON_AddNumberToObject(q, "dlq", (double)dead);
	cJSON_AddNumberToObject(q, "bytes", (double)info.bytes);
	cJSON_AddNumberToObject(q, "put", (double)info.put);
	/* a work queue's message leaves when acknowledged, or moved to the
	 * dead-letter queue (whose stream counts what it was given) */
	acked = info.put - info.msgs;
	cJSON_AddNumberToObject(q, "acked", (double)(acked > moved ? acked - moved : 0));
	cJSON_AddNumberToObject(q, "redelivered", (double)info.redelivered);
	cJSON_AddNumberToObject(q, "consumers", (double)info.consumers);
	cJSON_AddNumberToObject(q, "oldest_age_ms", (double)age);
	cJSON_AddNumberToObject(q, "visibility_ms", (double)(info.conf.vis_ns / NS_PER_MS));
	cJSON_AddNumberToObject(q, "max_receives", info.conf.max_receives);
	cJSON_AddNumberToObject(q, "max_depth", (double)info.conf.max_depth);
	cJSON_AddNumberToObject(q, "max_bytes", (double)info.conf.max_bytes);
	cJSON_AddNumberToObject(q, "replicas", info.conf.replicas);
	if (info.leader[0])
		cJSON_AddStringToObject(q, "leader", info.leader);
	add_flow(nq, name, &info, q);
	return q;
}

/* The status object, as spsc-coord serve would send it; NULL on error. */
static cJSON *status_json(struct natsq *nq)
{
	char **names;
	size_t n;
	cJSON *root, *qs;

	if (natsq_queues(nq, &names, &n) < 0) {
		log_error("%s", nq->err);
		return NULL;
	}
	if (n > 1)	/* names is NULL when there is no queue */
		qsort(names, n, sizeof *names, by_name);
	root = cJSON_CreateObject();
	qs = cJSON_AddArrayToObject(root, "queues");
	cJSON_AddStringToObject(root, "backend", "nats");
	for (size_t i = 0; i < n; i++) {
		cJSON *q = queue_json(nq, names[i]);
		if (q)
			cJSON_AddItemToArray(qs, q);
		else	/* deleted meanwhile, or the server went */
			log_warn("%s: %s", names[i], nq->err);
		free(names[i]);
	}
	free(names);
	return root;
}

static int create(struct natsq *nq, const struct admin_opts *o, const char *queue)
{
	struct natsq_conf c = {
		.vis_ns = o->set_vis ? o->defaults.visibility_ns : 0,
		.max_receives = o->set_recv ? o->defaults.max_receives : 0,
		.max_depth = o->set_depth ? (int64_t)o->defaults.max_depth : 0,
		.max_bytes = o->set_bytes ? (int64_t)o->defaults.max_bytes : 0,
	};

	if (o->set_retention)
		opt_usage_error("create: --retention is not supported on NATS");
	if (natsq_create(nq, queue, &c) < 0 ||
	    (o->producers > 0 && natsflow_expect(nq, queue, (uint32_t)o->producers) < 0)) {
		log_error("%s", nq->err);
		return EXIT_FAIL;
	}
	log_info("queue %s created or updated on %s", queue, nq->url);
	return EXIT_OK;
}

static int status(struct natsq *nq, const struct admin_opts *o, int argc,
		  char **argv)
{
	for (;;) {
		cJSON *root = status_json(nq);
		int rc = root ? render_status(root, o->json, argc, argv) : -1;
		struct timespec ts = { (time_t)(o->watch_ns / NS_PER_SEC),
				       (long)(o->watch_ns % NS_PER_SEC) };
		cJSON_Delete(root);
		if (rc < 0)
			return EXIT_FAIL;
		if (o->watch_ns == 0)
			return EXIT_OK;
		putchar('\n');
		nanosleep(&ts, NULL);
	}
}

/* seal: nothing more will be put; reopen: forget the producers and the
 * seal, so that a job can run again over the queue. */
static int seal(struct natsq *nq, const char *queue, int sealed)
{
	struct natsq_conf c;

	if (natsq_open(nq, queue, &c) < 0 ||
	    (sealed ? natsflow_seal(nq, queue, 1) : natsflow_reopen(nq, queue)) < 0) {
		log_error("%s", nq->err);
		return EXIT_FAIL;
	}
	log_info("queue %s %s", queue, sealed ? "sealed" : "reopened");
	return EXIT_OK;
}

static int purge(struct natsq *nq, const char *queue)
{
	uint64_t n;

	if (natsq_purge(nq, queue, &n) < 0) {
		log_error("%s", nq->err);
		return EXIT_FAIL;
	}
	log_info("queue %s: %llu atoms purged", queue, (unsigned long long)n);
	return EXIT_OK;
}

int admin_nats_main(const struct admin_opts *o, const char *url, const char *cmd,
		    int argc, char **argv)
{
	struct natsq nq;
	int rc = EXIT_FAIL;

	if (strcmp(cmd, "status") != 0 && strcmp(cmd, "create") != 0 &&
	    strcmp(cmd, "reopen") != 0 && strcmp(cmd, "seal") != 0 &&
	    strcmp(cmd, "purge") != 0)
		opt_usage_error("%s: not supported on NATS; use the nats CLI (nats stream ...)", cmd);
	if (natsq_connect(&nq, url) < 0) {
		log_error("%s", nq.err);
		return EXIT_FAIL;
	}
	if (strcmp(cmd, "create") == 0) {
		rc = create(&nq, o, argv[0]);
	} else if (strcmp(cmd, "purge") == 0) {
		rc = purge(&nq, argv[0]);
	} else if (strcmp(cmd, "reopen") == 0 || strcmp(cmd, "seal") == 0) {
		rc = seal(&nq, argv[0], strcmp(cmd, "seal") == 0);
	} else {
		rc = status(&nq, o, argc, argv);
	}
	natsq_close(&nq);
	return rc;
}
