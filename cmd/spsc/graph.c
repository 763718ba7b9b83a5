/*
 * graph: a DAG drawn, as DOT for graphviz or as text for a terminal.
 *
 * Stages are boxes labelled with their replica count, queues cylinders;
 * an edge runs from a queue to each stage that reads it and from each
 * stage to each queue it writes, dashed when what flows is dead letters
 * or late events.  With live depths (spsc graph --status) each queue's
 * label carries its ready and in-flight counts.
 */
#include <stdio.h>
#include <string.h>

#include "dag.h"
#include "graph.h"

/* Each (stage, queue, role) once, however many replicas share it. */
static int edge_seen(const struct dag *d, size_t s, int r, size_t p)
{
	const struct port *pt = &d->stages[s].rep[r].ports[p];

	for (int rr = 0; rr <= r; rr++) {
		const struct replica *rp = &d->stages[s].rep[rr];
		size_t end = rr == r ? p : rp->nports;

		for (size_t i = 0; i < end; i++)
			if (rp->ports[i].queue == pt->queue &&
			    rp->ports[i].role == pt->role)
				return 1;
	}
	return 0;
}

static void dot_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void dot_queue(FILE *f, const struct dag *d, size_t q,
		      const struct queue_depth *depth)
{
	const struct dagq *dq = &d->queues[q];

	fprintf(f, "  \"q:%s\" [shape=cylinder, label=", dq->name);
	if (depth && depth[q].known) {
		char label[512];

		int n = snprintf(label, sizeof label, "%s\\n%lld ready, %lld in flight",
				 dq->name, depth[q].ready, depth[q].inflight);

		if (depth[q].dead > 0 && n > 0 && (size_t)n < sizeof label)
			snprintf(label + n, sizeof label - (size_t)n,
				 ", %lld dead", depth[q].dead);
		fprintf(f, "\"%s\"", label);
	} else {
		dot_quote(f, dq->name);
	}
	fprintf(f, "%s];\n", dq->dlq ? ", style=dashed" : "");
}

void graph_dot(FILE *f, const struct dag *d, const struct queue_depth *depth)
{
	fprintf(f, "digraph ");
	dot_quote(f, d->name);
	fprintf(f, " {\n  rankdir=LR;\n");
	for (size_t s = 0; s < d->nstages; s++) {
		const struct stage *st = &d->stages[s];

		fprintf(f, "  \"s:%s\" [shape=box, label=\"%s", st->name, st->name);
		if (st->replicas > 1)
			fprintf(f, " x%d", st->replicas);
		fprintf(f, "\"];\n");
	}
	for (size_t q = 0; q < d->nqueues; q++)
		dot_queue(f, d, q, depth);
	for (size_t s = 0; s < d->nstages; s++) {
		const struct stage *st = &d->stages[s];

		for (int r = 0; st->rep && r < st->replicas; r++)
			for (size_t p = 0; p < st->rep[r].nports; p++) {
				const struct port *pt = &st->rep[r].ports[p];
				const char *qn;

				if (pt->queue < 0 || edge_seen(d, s, r, p))
					continue;
				qn = d->queues[pt->queue].name;
				if (pt->role == ROLE_IN)
					fprintf(f, "  \"q:%s\" -> \"s:%s\";\n", qn,
						st->name);
				else
					fprintf(f, "  \"s:%s\" -> \"q:%s\"%s;\n",
						st->name, qn,
						pt->role == ROLE_OUT ? ""
						: " [style=dashed]");
			}
	}
	fprintf(f, "}\n");
}

/* The queues a stage touches in ROLE, each once, comma-separated. */
static void text_list(FILE *f, const struct dag *d, size_t s, enum role role,
		      const struct queue_depth *depth)
{
	const struct stage *st = &d->stages[s];
	int first = 1;

	for (int r = 0; st->rep && r < st->replicas; r++)
		for (size_t p = 0; p < st->rep[r].nports; p++) {
			const struct port *pt = &st->rep[r].ports[p];

			if (pt->queue < 0 || pt->role != role ||
			    edge_seen(d, s, r, p))
				continue;
			fprintf(f, "%s%s", first ? "" : ", ",
				d->queues[pt->queue].name);
			if (depth && depth[pt->queue].known)
				fprintf(f, " [%lld ready, %lld in flight%s]",
					depth[pt->queue].ready,
					depth[pt->queue].inflight,
					depth[pt->queue].dead > 0 ? ", dead letters"
								  : "");
			first = 0;
		}
	if (first)
		fprintf(f, "-");
}

void graph_text(FILE *f, const struct dag *d, const struct queue_depth *depth)
{
	for (size_t s = 0; s < d->nstages; s++) {
		const struct stage *st = &d->stages[s];
		char name[DAG_NAME_MAX + 16];

		snprintf(name, sizeof name, "%s*%d", st->name, st->replicas);
		fprintf(f, "%-16s ", name);
		text_list(f, d, s, ROLE_IN, depth);
		fprintf(f, " -> ");
		text_list(f, d, s, ROLE_OUT, depth);
		fprintf(f, "\n");
		for (enum role role = ROLE_DLQ; role <= ROLE_LATE; role++) {
			int any = 0;

			for (int r = 0; st->rep && r < st->replicas && !any; r++)
				for (size_t p = 0; p < st->rep[r].nports; p++)
					any |= st->rep[r].ports[p].queue >= 0 &&
					       st->rep[r].ports[p].role == role;
			if (!any)
				continue;
			fprintf(f, "%-16s %s: ", "",
				role == ROLE_DLQ ? "dead letters" : "late events");
			text_list(f, d, s, role, depth);
			fprintf(f, "\n");
		}
	}
}
