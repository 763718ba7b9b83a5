/*
 * coordq: the launcher's requests to the coordinator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "capture.h"
#include "child.h"
#include "coordq.h"
#include "dag.h"
#include "log.h"

static struct text out, errt;

/* spsc-coord -c URL ARGS...; 0 when it succeeded, else -1 (logged
 * unless QUIET). */
static int coord_cmd_env(const char *url, const char *const *args, int quiet,
			 const char *const *env)
{
	char *argv[16], path[4096], err[600];
	int n = 0, status;

	if (child_find("spsc-coord", path, sizeof path, err, sizeof err) < 0) {
		log_error("%s", err);
		return -1;
	}
	argv[n++] = path;
	argv[n++] = "-c";
	argv[n++] = (char *)url;
	for (; *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	status = capture(argv, env, &out, &errt, err, sizeof err);
	if (status == 0)
		return 0;
	while (errt.len > 0 && errt.buf[errt.len - 1] == '\n')
		errt.buf[--errt.len] = '\0';
	if (!quiet)
		log_error("spsc-coord %s: %s", argv[3],
			  status < 0 ? err : errt.buf);
	return -1;
}

static int coord_cmd(const char *url, const char *const *args, int quiet)
{
	return coord_cmd_env(url, args, quiet, NULL);
}

/*
 * Before the stages start: each queue the DAG writes learns how many
 * producers its completion waits for, and forgets an earlier run's
 * "done" and seal (spsc(7)), so that the run can complete again.
 */
int coordq_prepare(const struct dag *d, const char *url)
{
	for (size_t i = 0; i < d->nqueues; i++) {
		const struct dagq *q = &d->queues[i];
		char n[16];

		if (q->nwriters == 0 || q->dlq || strchr(q->name, '@'))
			continue;
		snprintf(n, sizeof n, "%u", q->producers);
		/* create changes only what it is given, and makes the queue
		 * if it is new, so that reopen finds it */
		if (coord_cmd(url, q->producers
			      ? (const char *[]){ "create", "--producers", n,
						  q->name, NULL }
			      : (const char *[]){ "create", q->name, NULL },
			      0) < 0)
			return -1;
		if (coord_cmd(url, (const char *[]){ "reopen", q->name, NULL },
			      0) < 0)
			return -1;
	}
	return 0;
}

/* The coordinator's status; WAIT: how long to try to reach it (a status
 * of a DAG that is not running should not hang). */
/* Nothing more comes into NAME: it completes once empty. */
int coordq_seal(const char *url, const char *name)
{
	return coord_cmd(url, (const char *[]){ "seal", name, NULL }, 0);
}

cJSON *coordq_status(const char *url, const char *wait, char *err,
		     size_t errlen)
{
	char timeout[64];
	const char *env[] = { timeout, NULL };
	cJSON *root;

	snprintf(timeout, sizeof timeout, "SPSC_CONNECT_TIMEOUT=%s", wait);
	if (coord_cmd_env(url, (const char *[]){ "status", "--json", NULL }, 1,
			  wait ? env : NULL) < 0) {
		snprintf(err, errlen, "%s: %s", url,
			 errt.len ? errt.buf : "no answer");
		err[strcspn(err, "\n")] = '\0';
		return NULL;
	}
	if ((root = cJSON_Parse(out.buf)) == NULL)
		snprintf(err, errlen, "%s: spsc-coord status printed no JSON", url);
	return root;
}

/* The element of OBJ's array KEY whose "name" is NAME, or NULL: a queue
 * in a status, a stage in state.json. */
const cJSON *coordq_named(const cJSON *obj, const char *key, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(obj, key)) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");

		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return e;
	}
	return NULL;
}

const cJSON *coordq_queue(const cJSON *status, const char *name)
{
	return coordq_named(status, "queues", name);
}

double coordq_field(const cJSON *q, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(q, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/*
 * Atoms sitting in the DAG's dead-letter queues: QUEUE.dlq of every queue
 * it uses, and any queue a stage sends dead letters or late events to,
 * that were not there BEFORE.  WHERE gets "raw.dlq 2, bykey.dlq 1".
 */
static long long depth(const cJSON *status, const char *name)
{
	const cJSON *q = status ? coordq_queue(status, name) : NULL;

	return q ? (long long)(coordq_field(q, "ready") +
			       coordq_field(q, "inflight") +
			       coordq_field(q, "delayed"))
		 : 0;
}

long long coordq_dead_letters(const struct dag *d, const cJSON *before,
			      const cJSON *status, char *where, size_t len)
{
	long long total = 0;
	size_t used = 0;

	where[0] = '\0';
	for (size_t i = 0; i < d->nqueues; i++) {
		const struct dagq *dq = &d->queues[i];
		char name[512];
		long long n;

		if (dq->dlq)
			snprintf(name, sizeof name, "%s", dq->name);
		else
			snprintf(name, sizeof name, "%s.dlq", dq->name);
		if (!dq->dlq && dag_queue_named(d, name) >= 0)
			continue;	/* counted as a queue of its own */
		n = depth(status, name) - depth(before, name);
		if (n <= 0)
			continue;
		total += n;
		if (used < len)
			used += (size_t)snprintf(where + used, len - used, "%s%s %lld",
						 used ? ", " : "", name, n);
	}
	return total;
}
