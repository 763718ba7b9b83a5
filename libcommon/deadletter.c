#include <stdio.h>
#include <string.h>

#include "deadletter.h"
#include "log.h"
#include "opt.h"

enum on_error opt_on_error(const char *arg)
{
	if (strcmp(arg, "dlq") == 0)
		return ON_ERROR_DLQ;
	if (strcmp(arg, "skip") == 0)
		return ON_ERROR_SKIP;
	if (strcmp(arg, "fail") == 0)
		return ON_ERROR_FAIL;
	opt_usage_error("--on-error: '%s' is not dlq, skip or fail", arg);
}

void bad_events_init(struct bad_events *b, enum on_error mode, uint64_t salt)
{
	memset(b, 0, sizeof *b);
	b->mode = mode;
	b->salt = salt;
	atom_init(&b->atom);
}

void bad_events_free(struct bad_events *b)
{
	atom_free(&b->atom);
}

const char *bad_events_verb(const struct bad_events *b)
{
	return b->mode == ON_ERROR_DLQ ? "dead-lettered" : "skipped";
}

/* Before the first event of an input atom. */
void bad_events_start(struct bad_events *b, const struct atom *in)
{
	atom_reset(&b->atom);
	b->atom.id = atomid_child(&in->id, b->salt, DLQ_ORDINAL);
	b->atom.created_ns = in->created_ns;
	b->in_atom = 0;
	atomid_hex(&in->id, b->hex);
}

/*
 * The event ev (len bytes, its '\n' included) of the input atom in hand,
 * the ordinal-th from 1, cannot be used because of why.  0: it was dealt
 * with; -1: the stage must stop (--on-error fail, or no memory for the
 * dead letter), with the reason in err.
 */
int bad_event(struct bad_events *b, uint64_t ordinal, const char *ev,
	      size_t len, const char *why, char *err, size_t errlen)
{
	if (b->mode == ON_ERROR_FAIL) {
		snprintf(err, errlen, "atom %s, event %llu: %s", b->hex,
			 (unsigned long long)ordinal, why);
		return -1;
	}
	b->total++;
	if (b->in_atom++ < BAD_WARNINGS)
		log_warn("atom %s, event %llu: %s; %s", b->hex,
			 (unsigned long long)ordinal, why, bad_events_verb(b));
	if (b->mode == ON_ERROR_SKIP)
		return 0;
	if (atom_append(&b->atom, ev, len) < 0) {
		snprintf(err, errlen, "out of memory for a dead letter");
		return -1;
	}
	b->atom.events++;
	return 0;
}

/*
 * After the last event of the input atom: sums up the warnings not given
 * and stamps the dead-letter atom.  1: b->atom holds dead letters to be
 * written; 0: there are none.
 */
int bad_events_end(struct bad_events *b)
{
	if (b->in_atom > BAD_WARNINGS)
		log_warn("... and %u more events of that atom %s",
			 b->in_atom - BAD_WARNINGS, bad_events_verb(b));
	if (b->mode != ON_ERROR_DLQ || b->atom.events == 0)
		return 0;
	b->atom.fail_kind = ATOM_FAIL_KEY;
	b->atom.fail_code = (int32_t)b->atom.events;
	return 1;
}

int lazy_output_write(struct lazy_output *o, const struct atom *a, char *err,
		      size_t errlen)
{
	if (!o->open) {
		if (endpoint_open(&o->ep, o->spec, 1, o->eo) < 0) {
			snprintf(err, errlen, "%s", o->ep.err);
			return -1;
		}
		o->open = 1;
		if (o->note)
			log_warn("%s", o->note);
	}
	if (endpoint_write(&o->ep, a) < 0) {
		snprintf(err, errlen, "%s", o->ep.err);
		return -1;
	}
	return 0;
}

/* -1 if closing lost data (a file's close failed); the reason is logged. */
int lazy_output_close(struct lazy_output *o)
{
	int rc = 0;

	if (!o->open)
		return 0;
	if (endpoint_close(&o->ep) < 0) {
		log_error("%s", o->ep.err);
		rc = -1;
	}
	o->open = 0;
	return rc;
}
