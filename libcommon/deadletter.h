/*
 * deadletter: what a stage does with an event it cannot use (no key, not
 * JSON, a value that is not a number, a time it cannot read), the same in
 * every program that takes --on-error:
 *
 *   dlq   the event goes to the dead-letter output, in one atom per input
 *         atom whose id derives from the input's, so that a redelivered
 *         input makes the same atom and de-duplication absorbs it
 *   skip  the event is dropped
 *   fail  the stage stops (exit 1), naming the atom and the event
 *
 * dlq and skip count the event and warn, naming the input atom and the
 * event's ordinal in it (from 1); past BAD_WARNINGS in one atom the rest
 * are summed up in one line.  The stage never dies of a bad event unless
 * told to.
 */
#ifndef SPSC_DEADLETTER_H
#define SPSC_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include "atom.h"
#include "endpoint.h"

enum on_error { ON_ERROR_DLQ, ON_ERROR_SKIP, ON_ERROR_FAIL };

/* The dead-letter atom's ordinal among an input's children: past any
 * partition number or output ordinal. */
#define DLQ_ORDINAL 0xFFFFFFFFu

/* Bad events named one by one, per input atom; the rest are counted. */
#define BAD_WARNINGS 3

enum on_error opt_on_error(const char *arg);

struct bad_events {
	enum on_error mode;
	uint64_t salt;		/* the stage's, for the dead-letter atom's id */
	struct atom atom;	/* the input atom's bad events (mode dlq) */
	uint32_t in_atom;	/* bad events in the input atom in hand */
	uint64_t total;		/* bad events over the run */
	char hex[ATOMID_HEX_LEN + 1];	/* the input atom's id, for messages */
};

void bad_events_init(struct bad_events *b, enum on_error mode, uint64_t salt);
void bad_events_free(struct bad_events *b);
void bad_events_start(struct bad_events *b, const struct atom *in);
int bad_event(struct bad_events *b, uint64_t ordinal, const char *ev,
	      size_t len, const char *why, char *err, size_t errlen);
int bad_events_end(struct bad_events *b);
const char *bad_events_verb(const struct bad_events *b);

/*
 * An output opened when its first atom comes, so that a clean run leaves
 * no empty file or queue behind: the dead letters, late events.  note, if
 * set, is logged once when it opens (say, that a default was used).
 */
struct lazy_output {
	const char *spec;
	const struct endpoint_opts *eo;
	const char *note;
	struct endpoint ep;
	int open;
};

int lazy_output_write(struct lazy_output *o, const struct atom *a, char *err,
		      size_t errlen);
int lazy_output_close(struct lazy_output *o);

#endif
