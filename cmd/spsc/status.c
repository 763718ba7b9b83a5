/*
 * status: spsc status.  The stages as the running launcher sees them
 * (state.json) beside their input queues as the coordinator sees them,
 * in one table, or as JSON (spsc(1), STATUS JSON).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "coordq.h"
#include "dag.h"
#include "fdio.h"
#include "graph.h"
#include "log.h"
#include "mem.h"
#include "opt.h"
#include "rundir.h"
#include "spsc.h"
#include "unitname.h"
#include "units.h"

/* The launcher's state.json, if a launcher holds the DAG's lock. */
static cJSON *launcher_state(const struct rundir *rd)
{
	char path[4200], buf[1 << 16];
	size_t got;
	int fd;

	if (rundir_owner(rd) == 0 ||
	    rundir_file(rd, "state.json", path, sizeof path) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fd_read_full(fd, buf, sizeof buf - 1, &got) < 0)
		got = 0;
	close(fd);
	buf[got] = '\0';
	return cJSON_Parse(buf);
}

/* One unit's properties from systemctl show: "KEY=value" lines. */
static const char *prop(const char *block, const char *key, char *buf,
			size_t len)
{
	size_t kl = strlen(key);
	const char *l = block;

	/* the block ends at an empty line */
	while (*l && *l != '\n') {
		size_t n = strcspn(l, "\n");

		if (n > kl && strncmp(l, key, kl) == 0 && l[kl] == '=') {
			snprintf(buf, len, "%.*s", (int)(n - kl - 1), l + kl + 1);
			return buf;
		}
		l += n + (l[n] == '\n');
	}
	buf[0] = '\0';
	return buf;
}

/* A unit's state in spsc run's words (spsc(1), STATUS). */
static cJSON *unit_replica(const char *block, int replica)
{
	char active[32], sub[32], code[16], status[16], n[32], pid[32];
	char last[64] = "-";
	const char *state = "down";
	cJSON *o = cJSON_CreateObject();

	prop(block, "ActiveState", active, sizeof active);
	prop(block, "SubState", sub, sizeof sub);
	prop(block, "ExecMainCode", code, sizeof code);
	prop(block, "ExecMainStatus", status, sizeof status);
	if (strcmp(code, "1") == 0)
		snprintf(last, sizeof last, "exit status %s", status);
	else if (strcmp(code, "2") == 0 || strcmp(code, "3") == 0)
		snprintf(last, sizeof last, "killed by signal %s", status);
	if (strcmp(active, "active") == 0)
		state = "running";
	else if (strcmp(sub, "auto-restart") == 0)
		state = "backoff";
	else if (strcmp(active, "failed") == 0)
		state = "failed";
	else if (strcmp(active, "activating") == 0)
		state = "waiting";
	else if (strcmp(code, "1") == 0 &&
		 (strcmp(status, "0") == 0 || strcmp(status, "3") == 0))
		state = "finished";
	cJSON_AddNumberToObject(o, "replica", replica);
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddNumberToObject(o, "pid", atof(prop(block, "MainPID", pid, sizeof pid)));
	cJSON_AddNumberToObject(o, "restarts", atof(prop(block, "NRestarts", n, sizeof n)));
	cJSON_AddStringToObject(o, "last_exit", last);
	return o;
}

/*
 * With no spsc run holding the DAG, its units may be running under
 * systemd (spsc systemd): their states, from systemctl show, in the shape
 * of state.json.  NULL when systemctl is not there or knows no unit of it.
 */
static cJSON *systemd_state(const struct dag *d)
{
	static struct text out, errt;
	char **argv, err[600], unit[256];
	size_t n = 0, nunits = 3;
	cJSON *root = NULL, *stages;
	const char *block;
	int status, loaded = 0;

	for (size_t s = 0; s < d->nstages; s++)
		nunits += (size_t)d->stages[s].replicas;
	argv = xcalloc(nunits + 3, sizeof *argv);
	argv[n++] = "systemctl";
	argv[n++] = "show";
	argv[n++] = "--property=Id,LoadState,ActiveState,SubState,NRestarts,ExecMainCode,ExecMainStatus,MainPID";
	for (size_t s = 0; s < d->nstages; s++)
		for (int r = 0; r < d->stages[s].replicas; r++) {
			unit_stage(d, (int)s, r, unit, sizeof unit);
			argv[n++] = xstrdup(unit);
		}
	status = capture(argv, NULL, &out, &errt, err, sizeof err);
	if (status == 0) {
		root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "manager", "systemd");
		stages = cJSON_AddArrayToObject(root, "stages");
		block = out.buf;
		for (size_t s = 0; s < d->nstages; s++) {
			cJSON *st = cJSON_CreateObject(), *reps;

			cJSON_AddStringToObject(st, "name", d->stages[s].name);
			reps = cJSON_AddArrayToObject(st, "replicas");
			for (int r = 0; r < d->stages[s].replicas && block; r++) {
				char load[32];

				if (strcmp(prop(block, "LoadState", load, sizeof load),
					   "loaded") == 0) {
					loaded = 1;
					cJSON_AddItemToArray(reps, unit_replica(block, r));
				}
				block = strstr(block, "\n\n");
				block = block ? block + 2 : NULL;
			}
			cJSON_AddItemToArray(stages, st);
		}
	}
	for (size_t i = 3; i < n; i++)
		free(argv[i]);
	free(argv);
	if (!loaded) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static const char *str(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : dflt;
}

/* A stage's summary over its replicas: the state that most needs an eye
 * (failed, backoff, running, waiting, finished, stopped), how many run,
 * restarts in all and the latest exit. */
struct summary {
	const char *state;
	int running, restarts;
	const char *last_exit;
};

static void summarise(const cJSON *st, struct summary *sm)
{
	static const char *order[] = { "failed", "backoff", "running",
				       "waiting", "finished", "stopped" };
	const cJSON *rp;
	int best = 6;

	memset(sm, 0, sizeof *sm);
	sm->state = "down";
	sm->last_exit = "-";
	cJSON_ArrayForEach(rp, cJSON_GetObjectItemCaseSensitive(st, "replicas")) {
		const char *s = str(rp, "state", "");

		for (int i = 0; i < best; i++)
			if (strcmp(s, order[i]) == 0)
				best = i;
		sm->running += strcmp(s, "running") == 0;
		sm->restarts += (int)coordq_field(rp, "restarts");
		if (strcmp(str(rp, "last_exit", "-"), "-"))
			sm->last_exit = str(rp, "last_exit", "-");
	}
	if (best < 6)
		sm->state = order[best];
}

static cJSON *queue_json(const struct dag *d, const cJSON *coord, size_t i)
{
	const struct dagq *dq = &d->queues[i];
	const cJSON *q = coord ? coordq_queue(coord, dq->name) : NULL;
	cJSON *o = cJSON_CreateObject();
	const cJSON *wm;

	cJSON_AddStringToObject(o, "name", dq->name);
	cJSON_AddNumberToObject(o, "producers", dq->producers);
	if (q == NULL) {
		cJSON_AddBoolToObject(o, "known", 0);
		return o;
	}
	cJSON_AddBoolToObject(o, "known", 1);
	cJSON_AddNumberToObject(o, "ready", coordq_field(q, "ready"));
	cJSON_AddNumberToObject(o, "inflight", coordq_field(q, "inflight"));
	cJSON_AddNumberToObject(o, "dead_letters", coordq_field(q, "dlq"));
	cJSON_AddNumberToObject(o, "in_rate", coordq_field(q, "in_rate"));
	cJSON_AddNumberToObject(o, "out_rate", coordq_field(q, "out_rate"));
	wm = cJSON_GetObjectItemCaseSensitive(q, "watermark");
	if (cJSON_IsString(wm))
		cJSON_AddStringToObject(o, "watermark", wm->valuestring);
	else
		cJSON_AddNullToObject(o, "watermark");
	cJSON_AddBoolToObject(o, "complete",
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "complete")));
	return o;
}

/* The names of the queues stage S touches in ROLE, each once. */
static cJSON *stage_queues(const struct dag *d, size_t s, enum role role)
{
	const struct stage *st = &d->stages[s];
	cJSON *arr = cJSON_CreateArray();

	for (size_t q = 0; q < d->nqueues; q++) {
		int uses = 0;

		for (int r = 0; r < st->replicas && !uses; r++)
			for (size_t p = 0; p < st->rep[r].nports; p++)
				uses |= st->rep[r].ports[p].queue == (int)q &&
					st->rep[r].ports[p].role == role;
		if (uses)
			cJSON_AddItemToArray(arr,
					     cJSON_CreateString(d->queues[q].name));
	}
	return arr;
}

static cJSON *status_json(const struct dag *d, const struct rundir *rd,
			  const cJSON *state, const cJSON *coord,
			  const char *wanted)
{
	cJSON *root = cJSON_CreateObject(), *stages, *queues;

	cJSON_AddStringToObject(root, "dag", d->name);
	cJSON_AddStringToObject(root, "file", d->path);
	cJSON_AddBoolToObject(root, "running", state != NULL);
	cJSON_AddStringToObject(root, "manager",
				state == NULL ? "none"
				: cJSON_GetObjectItemCaseSensitive(state, "manager")
				? "systemd" : "spsc");
	cJSON_AddNumberToObject(root, "pid", state ? coordq_field(state, "pid") : 0);
	cJSON_AddStringToObject(root, "coord", rd->coord_url);
	cJSON_AddBoolToObject(root, "coord_reachable", coord != NULL);
	stages = cJSON_AddArrayToObject(root, "stages");
	for (size_t s = 0; s < d->nstages; s++) {
		cJSON *o;
		struct summary sm;

		if (!wanted[s])
			continue;
		o = cJSON_CreateObject();
		summarise(coordq_named(state, "stages", d->stages[s].name), &sm);
		cJSON_AddStringToObject(o, "name", d->stages[s].name);
		cJSON_AddNumberToObject(o, "replicas", d->stages[s].replicas);
		cJSON_AddNumberToObject(o, "running", sm.running);
		cJSON_AddStringToObject(o, "state", state ? sm.state : "down");
		cJSON_AddNumberToObject(o, "restarts", sm.restarts);
		cJSON_AddStringToObject(o, "last_exit", sm.last_exit);
		cJSON_AddItemToObject(o, "inputs", stage_queues(d, s, ROLE_IN));
		cJSON_AddItemToObject(o, "outputs", stage_queues(d, s, ROLE_OUT));
		cJSON_AddItemToArray(stages, o);
	}
	queues = cJSON_AddArrayToObject(root, "queues");
	for (size_t q = 0; q < d->nqueues; q++)
		cJSON_AddItemToArray(queues, queue_json(d, coord, q));
	return root;
}

static void print_input(const cJSON *q)
{
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "known"))) {
		printf(" %-18s %7s %8s %5s %8s %s\n", str(q, "name", "?"), "?",
		       "?", "?", "?", "?");
		return;
	}
	printf(" %-18s %7.0f %8.0f %5.0f %8.1f %s\n", str(q, "name", "?"),
	       coordq_field(q, "ready"), coordq_field(q, "inflight"),
	       coordq_field(q, "dead_letters"), coordq_field(q, "out_rate"),
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "complete"))
	       ? "complete" : str(q, "watermark", "-"));
}

static void print_table(const cJSON *root)
{
	const cJSON *s, *in;

	printf("DAG %s: %s", str(root, "dag", "?"),
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "running"))
	       ? "running" : "not running");
	if (strcmp(str(root, "manager", ""), "systemd") == 0)
		printf(" (under systemd)");
	else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "running")))
		printf(" (pid %.0f)", coordq_field(root, "pid"));
	printf(", coordinator %s%s\n", str(root, "coord", "?"),
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "coord_reachable"))
	       ? "" : " (not reachable)");
	printf("%-14s %4s %-9s %8s %-22s %-18s %7s %8s %5s %8s %s\n", "STAGE",
	       "RUN", "STATE", "RESTARTS", "LAST EXIT", " INPUT", "READY",
	       "INFLIGHT", "DLQ", "RATE/s", "WATERMARK");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(root, "stages")) {
		char run[32];
		int first = 1;

		snprintf(run, sizeof run, "%.0f/%.0f", coordq_field(s, "running"),
			 coordq_field(s, "replicas"));
		printf("%-14s %4s %-9s %8.0f %-22.22s", str(s, "name", "?"), run,
		       str(s, "state", "?"), coordq_field(s, "restarts"),
		       str(s, "last_exit", "-"));
		cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(s, "inputs")) {
			if (!first)
				printf("%-62s", "");
			print_input(coordq_named(root, "queues", in->valuestring));
			first = 0;
		}
		if (first)
			printf(" -\n");
	}
}

static int status_once(const struct spsc_opts *o, const struct dag *d,
		       const struct rundir *rd, const char *wanted)
{
	char err[600];
	cJSON *state = launcher_state(rd);

	if (state == NULL)
		state = systemd_state(d);
	cJSON *coord = coordq_status(rd->coord_url, "2s", err, sizeof err);
	cJSON *root = status_json(d, rd, state, coord, wanted);
	char *text;

	if (o->json) {
		if ((text = cJSON_PrintUnformatted(root)) != NULL)
			puts(text);
		free(text);
	} else {
		print_table(root);
	}
	cJSON_Delete(root);
	cJSON_Delete(state);
	cJSON_Delete(coord);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* Which stages to show: those named, or all.  NULL after a usage error
 * (a name the DAG does not have). */
static char *wanted_stages(const struct dag *d, char **names, int n)
{
	char *wanted = xcalloc(d->nstages, 1);

	memset(wanted, n == 0, d->nstages);
	for (int i = 0; i < n; i++) {
		int s = dag_stage_named(d, names[i]);

		if (s < 0) {
			log_error("%s has no stage '%s'", d->path, names[i]);
			free(wanted);
			return NULL;
		}
		wanted[s] = 1;
	}
	return wanted;
}

int status_main(const struct spsc_opts *o, const char *path, char **stages,
		int nstages)
{
	struct dag d;
	struct diag dg;
	struct rundir rd;
	char err[600], *wanted;
	int rc;

	if (spsc_load(&d, &dg, path, 0) < 0) {
		dag_free(&d);
		return EXIT_FAIL;
	}
	if ((wanted = wanted_stages(&d, stages, nstages)) == NULL) {
		dag_free(&d);
		return EXIT_USAGE;
	}
	if (rundir_open(&rd, &d, err, sizeof err) < 0) {
		log_error("%s", err);
		free(wanted);
		dag_free(&d);
		return EXIT_FAIL;
	}
	for (;;) {
		if (o->watch && isatty(STDOUT_FILENO))
			fputs("\033[H\033[2J", stdout);
		rc = status_once(o, &d, &rd, wanted);
		if (!o->watch || rc != EXIT_OK)
			break;
		struct timespec ts = { o->watch / 1000000000LL,
				       o->watch % 1000000000LL };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	free(wanted);
	dag_free(&d);
	return rc;
}

/* For spsc graph --status: each DAG queue's depths, or NULL. */
struct queue_depth *status_depths(const struct dag *d)
{
	struct rundir rd;
	struct queue_depth *depth;
	char err[600];
	cJSON *coord;

	if (rundir_open(&rd, d, err, sizeof err) < 0 ||
	    (coord = coordq_status(rd.coord_url, "2s", err, sizeof err)) == NULL) {
		log_warn("no live depths: %s", err);
		return NULL;
	}
	depth = xcalloc(d->nqueues, sizeof *depth);
	for (size_t i = 0; i < d->nqueues; i++) {
		const cJSON *q = coordq_queue(coord, d->queues[i].name);

		if (q == NULL)
			continue;
		depth[i].known = 1;
		depth[i].ready = (long long)coordq_field(q, "ready");
		depth[i].inflight = (long long)coordq_field(q, "inflight");
		depth[i].dead = (long long)coordq_field(q, "dlq");
	}
	cJSON_Delete(coord);
	return depth;
}
