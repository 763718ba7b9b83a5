/*
 * check: what is wrong with a DAG once its stages have said what they
 * read and write.  The rules (spsc-dag(5), CHECKS):
 *
 *   - a queue read but written by no stage, nor declared external;
 *   - a shuffle's partitions and their readers that do not line up;
 *   - a queue written but never read (a warning: it may be read later);
 *   - a cycle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dag.h"

static const struct port *port_of(const struct dag *d, const struct queue_use *u)
{
	return &d->stages[u->stage].rep[u->replica].ports[u->port];
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[128], cur[128];

	if (lb >= 128 || la >= 128)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof *prev);
	}
	return prev[lb];
}

/* A written queue whose name is close to NAME: the likely typo. */
static const struct dagq *nearest_written(const struct dag *d, const char *name)
{
	const struct dagq *best = NULL;
	size_t best_d = strlen(name) / 3 + 2;

	for (size_t i = 0; i < d->nqueues; i++) {
		const struct dagq *q = &d->queues[i];
		size_t dist;

		if (q->nwriters == 0 && !q->external)
			continue;
		dist = edit_distance(name, q->name);
		if (dist > 0 && dist < best_d) {
			best = q;
			best_d = dist;
		}
	}
	return best;
}

/* BASE.N: the length of BASE and N, or 0 when NAME is no partition. */
static size_t partition_of(const char *name, long *n)
{
	const char *dot = strrchr(name, '.');
	char *end;

	if (dot == NULL || dot == name || dot[1] < '0' || dot[1] > '9')
		return 0;
	*n = strtol(dot + 1, &end, 10);
	return *end == '\0' ? (size_t)(dot - name) : 0;
}

/* The partitions BASE.0, BASE.1, ... that exist among written (WANT_WRITTEN)
 * or read queues: how many, and the stage behind the first. */
static int siblings(const struct dag *d, const char *name, int want_written,
		    long *count, const struct queue_use **who)
{
	long n, m;
	size_t base = partition_of(name, &n);

	*count = 0;
	*who = NULL;
	if (base == 0)
		return 0;
	for (size_t i = 0; i < d->nqueues; i++) {
		const struct dagq *q = &d->queues[i];
		size_t nu = want_written ? q->nwriters : q->nreaders;

		if (nu == 0 || strcmp(q->name, name) == 0 ||
		    partition_of(q->name, &m) != base ||
		    strncmp(q->name, name, base) != 0)
			continue;
		(*count)++;
		if (*who == NULL)
			*who = want_written ? &q->writers[0] : &q->readers[0];
	}
	return *count > 0;
}

static void unwritten(const struct dag *d, const struct dagq *q)
{
	const struct queue_use *r = &q->readers[0], *w;
	const struct port *p = port_of(d, r);
	const struct dagq *near;
	long count;

	if (siblings(d, q->name, 1, &count, &w)) {
		diag_error(d->diag, p->pos,
			   "%s.%d reads queue '%s', but %s on line %d writes %ld partitions of it: its -p and %s's replicas disagree",
			   d->stages[r->stage].name, r->replica, q->name,
			   d->stages[w->stage].name, d->stages[w->stage].pos.line,
			   count, d->stages[r->stage].name);
		return;
	}
	near = nearest_written(d, q->name);
	if (near && near->nwriters > 0)
		diag_error(d->diag, p->pos,
			   "queue '%s' is read but never written; did you mean %s, written by %s on line %d?",
			   q->name, near->name,
			   d->stages[near->writers[0].stage].name,
			   d->stages[near->writers[0].stage].pos.line);
	else if (near)
		diag_error(d->diag, p->pos,
			   "queue '%s' is read but never written; did you mean %s, declared external on line %d?",
			   q->name, near->name, near->external_pos.line);
	else
		diag_error(d->diag, p->pos,
			   "queue '%s' is read but never written (if something outside this file writes it, add: external %s)",
			   q->name, q->name);
}

static void unread(const struct dag *d, const struct dagq *q)
{
	const struct queue_use *w = &q->writers[0], *r;
	const struct port *p = port_of(d, w);
	long count;

	if (siblings(d, q->name, 0, &count, &r))
		diag_error(d->diag, p->pos,
			   "queue '%s' is written by %s but never read: %s on line %d reads %ld partitions of it, so its replicas and the -p disagree",
			   q->name, d->stages[w->stage].name,
			   d->stages[r->stage].name, d->stages[r->stage].pos.line,
			   count);
	else
		diag_warn(d->diag, p->pos,
			  "queue '%s' is written by %s but never read", q->name,
			  d->stages[w->stage].name);
}

/* Depth-first search for a stage that is its own upstream. */
static int cycle_from(const struct dag *d, int s, char *color, int *path,
		      int depth)
{
	color[s] = 1;
	path[depth] = s;
	for (size_t o = 0; o < d->nstages; o++) {
		if (!dag_stage_upstream(d, (int)o, s))
			continue;
		if (color[o] == 1) {
			char text[1024];
			size_t used = 0;
			int from = depth;

			while (from > 0 && path[from] != (int)o)
				from--;
			for (int k = from; k <= depth && used < sizeof text; k++)
				used += (size_t)snprintf(text + used, sizeof text - used,
							 "%s -> ", d->stages[path[k]].name);
			if (used < sizeof text)
				snprintf(text + used, sizeof text - used, "%s",
					 d->stages[o].name);
			diag_error(d->diag, d->stages[o].pos,
				   "cycle: %s (a stage must not read what it, or what it feeds, writes)",
				   text);
			return 1;
		}
		if (color[o] == 0 && cycle_from(d, (int)o, color, path, depth + 1))
			return 1;
	}
	color[s] = 2;
	return 0;
}

static void cycles(const struct dag *d)
{
	char *color = calloc(d->nstages + 1, 1);
	int *path = calloc(d->nstages + 1, sizeof *path);

	if (color == NULL || path == NULL) {
		free(color);
		free(path);
		return;
	}
	for (size_t s = 0; s < d->nstages; s++)
		if (color[s] == 0 && cycle_from(d, (int)s, color, path, 0))
			break;
	free(color);
	free(path);
}

int dag_check(struct dag *d)
{
	/* with a stage's queues unknown, what looks unconnected may not be */
	if (d->unresolved)
		return d->diag->errors ? -1 : 0;
	for (size_t i = 0; i < d->nqueues; i++) {
		const struct dagq *q = &d->queues[i];

		if (q->nreaders > 0 && q->nwriters == 0 && !q->external)
			unwritten(d, q);
		else if (q->nwriters > 0 && q->nreaders == 0 && !q->dlq)
			unread(d, q);
	}
	cycles(d);
	return d->diag->errors ? -1 : 0;
}
