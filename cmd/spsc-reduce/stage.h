/*
 * stage: one spsc-reduce process: its options, its endpoints, the reduce
 * it runs and the checkpoints that make it exactly once (stage.c).
 */
#ifndef SPSC_REDUCE_STAGE_H
#define SPSC_REDUCE_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "deadletter.h"
#include "endpoint.h"
#include "reduce.h"

struct options {
	const char *input, *output, *key, *sep, *time, *late, *dlq, *name;
	const char *state;
	struct window_spec win;
	int nwin;
	int64_t lateness, every;
	long every_atoms;
	enum on_error on_error;
	int json, drain, lateness_set;
	size_t max_atom;
	char **aggs;
	int naggs;
};

/* An applied (or already applied) atom waiting for the checkpoint that
 * covers it, to be acknowledged. */
struct pending {
	struct atom_id id;
	uint32_t attempt;
};

struct stage {
	struct reduce r;
	struct options o;
	struct endpoint in, out;
	struct endpoint_opts eo_in, eo_out, eo_side;
	struct lazy_output dlq, late;
	struct lazy_output *late_out;	/* &late, or &dlq without --late */
	int durable;			/* checkpoints are taken */
	struct ckpt ck;
	struct pending *pending;
	size_t npending, pending_cap;
	int64_t first_pending;		/* mono_ns of the oldest pending */
	int results_waiting;		/* windows closed since the checkpoint */
	char options_text[2048];
	char dlq_spec[1024], state_dir[4096], dlq_note[1200];
};

int stage_flush(void *arg);
int stage_run(struct stage *st);

#endif
