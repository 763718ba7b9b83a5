/*
 * graph: spsc graph's drawings of a resolved DAG.
 */
#ifndef SPSC_GRAPH_H
#define SPSC_GRAPH_H

#include <stdio.h>

struct dag;

/* A queue's live depth, per dag.queues index; known 0: no answer. */
struct queue_depth {
	int known;
	long long ready, inflight, dead;
	double rate;
	char watermark[64];
};

void graph_dot(FILE *f, const struct dag *d, const struct queue_depth *depth);
void graph_text(FILE *f, const struct dag *d, const struct queue_depth *depth);

#endif
