/*
 * reduce: the stage itself, apart from its options and its endpoints.
 * Input atoms go in (reduce_atom); what they make comes out in the outbox:
 * results of the windows that closed, late events, dead letters.  The
 * caller decides when the outbox is written: at once over pipes, or once
 * a checkpoint covers the atoms that made it (main.c).
 */
#ifndef SPSC_REDUCE_REDUCE_H
#define SPSC_REDUCE_REDUCE_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "atom.h"
#include "deadletter.h"
#include "idset.h"
#include "key.h"
#include "state.h"
#include "window.h"

/* Times an event may have: far from the int64 ends, so that END and the
 * watermark's arithmetic never overflow (the years 1824 to 2116). */
#define EVENT_TIME_MIN (-(INT64_C(1) << 62))
#define EVENT_TIME_MAX (INT64_C(1) << 62)
/* The longest window, session gap or lateness (73 years). */
#define SPAN_MAX (INT64_C(1) << 61)

/* Results per output atom, and bytes: spsc-source's defaults. */
#define RESULT_ATOM_EVENTS 1000
#define RESULT_ATOM_BYTES ((size_t)1 << 20)

/* The late-event atom's ordinal among an input's children. */
#define LATE_ORDINAL 0xFFFFFFFEu

enum out_dest { DEST_RESULTS = 0, DEST_LATE = 1, DEST_DLQ = 2 };

/* Outputs made and not yet written, in the order they were made.  The
 * atoms are kept (and their buffers reused) across clears. */
struct outbox {
	struct atom **v;
	uint8_t *dest;
	size_t n, cap, made;	/* made: atoms allocated, >= n */
};

struct atom *outbox_add(struct outbox *o, int dest);
void outbox_clear(struct outbox *o);
void outbox_free(struct outbox *o);

struct reduce {
	/* what the options say */
	struct key_spec key;
	struct agg_set aggs;
	struct window_spec win;
	struct key_spec time;
	const char *time_text;	/* --time as given, for messages */
	int event_time;		/* --time given; else processing time */
	int64_t lateness;
	int lateness_given;	/* --lateness on the command line */
	int json;
	uint64_t salt;
	/* the state, all of it in checkpoints */
	struct state state;
	int64_t wm;		/* the watermark; ATOM_TIME_NONE at first */
	int64_t maxt;		/* the largest event time seen (processing
				 * time without --time) */
	uint64_t seq;		/* events read, for first and last */
	uint64_t atoms, events, late_events, results;
	struct idset applied;	/* input atoms applied */
	struct outbox outbox;
	struct bad_events bad;	/* its total is in the checkpoint too */
	/* while applying an atom */
	struct atom late;
	struct key_buf kb, tb, vb[AGGS_MAX];
	struct agg_value vals[AGGS_MAX];
	/* while closing windows */
	struct win **closing;
	size_t closing_cap;
	/* Called with spill_arg after each result atom is made, when set:
	 * a run without checkpoints writes results out as they come. */
	int (*spill)(void *arg);
	void *spill_arg;
	char err[800];
};

int reduce_init(struct reduce *r);
void reduce_free(struct reduce *r);
int reduce_atom(struct reduce *r, const struct atom *in);
void reduce_watermark(struct reduce *r, int64_t wm);
int reduce_pass(struct reduce *r);

#endif
