#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "log.h"
#include "partition.h"
#include "shuffle.h"

/* Bad events named one by one, per input atom; the rest are counted. */
#define BAD_WARNINGS 3

int shuffle_init(struct shuffle *s, uint32_t n)
{
	s->n = n;
	s->part = calloc(n, sizeof *s->part);
	if (s->part == NULL)
		return -1;
	for (uint32_t p = 0; p < n; p++)
		atom_init(&s->part[p]);
	atom_init(&s->bad);
	key_buf_init(&s->kb);
	return 0;
}

void shuffle_free(struct shuffle *s)
{
	for (uint32_t p = 0; s->part && p < s->n; p++)
		atom_free(&s->part[p]);
	free(s->part);
	atom_free(&s->bad);
	key_buf_free(&s->kb);
}

static void start(struct atom *out, const struct atom *in, uint64_t salt,
		  uint32_t ordinal)
{
	atom_reset(out);
	out->id = atomid_child(&in->id, salt, ordinal);
	out->created_ns = in->created_ns;
}

static int add_event(struct shuffle *s, struct atom *out, const char *ev,
		     size_t len)
{
	if (atom_append(out, ev, len) < 0) {
		snprintf(s->err, sizeof s->err, "out of memory");
		return -1;
	}
	out->events++;
	return 0;
}

/* An event whose key cannot be had: dead-lettered, skipped, or the end. */
static int bad_event(struct shuffle *s, const struct atom *in, uint64_t ordinal,
		     const char *ev, size_t len, const char *why)
{
	char hex[ATOMID_HEX_LEN + 1];

	atomid_hex(&in->id, hex);
	if (s->on_error == ON_ERROR_FAIL) {
		snprintf(s->err, sizeof s->err, "atom %s, event %llu: %s", hex,
			 (unsigned long long)ordinal, why);
		return -1;
	}
	s->bad_events++;
	if (s->bad_in_atom++ < BAD_WARNINGS)
		log_warn("atom %s, event %llu: %s; %s", hex,
			 (unsigned long long)ordinal, why,
			 s->on_error == ON_ERROR_DLQ ? "dead-lettered" : "skipped");
	return s->on_error == ON_ERROR_SKIP ? 0 : add_event(s, &s->bad, ev, len);
}

/* Sorts the events of in into the partition atoms (and the bad one). */
static int route(struct shuffle *s, const struct atom *in)
{
	struct event_iter it;
	const char *ev;
	size_t len;
	uint64_t ordinal = 0;
	char why[300];

	event_iter_init(&it, in->data, in->len);
	while (event_next(&it, &ev, &len)) {
		ordinal++;
		if (s->mode == ROUTE_BROADCAST) {
			for (uint32_t p = 0; p < s->n; p++)
				if (add_event(s, &s->part[p], ev, len) < 0)
					return -1;
			continue;
		}
		if (key_extract(&s->key, ev, len, &s->kb, why, sizeof why) != KEY_OK) {
			if (bad_event(s, in, ordinal, ev, len, why) < 0)
				return -1;
			continue;
		}
		if (add_event(s, &s->part[partition_of(s->kb.ptr, s->kb.len, s->n)],
			      ev, len) < 0)
			return -1;
	}
	s->events += ordinal;
	return 0;
}

static int emit(struct shuffle *s, struct endpoint *ep, const struct atom *a)
{
	if (endpoint_write(ep, a) < 0) {
		snprintf(s->err, sizeof s->err, "%s", ep->err);
		return -1;
	}
	s->written++;
	return 0;
}

/* The whole atom to one output, chosen by its id: a redelivered atom goes
 * where it went before, so de-duplication there absorbs it. */
static int spread(struct shuffle *s, const struct atom *in)
{
	uint32_t p = partition_of(in->id.b, sizeof in->id.b, s->n);
	struct atom *out = &s->part[p];

	start(out, in, s->salt, p);
	if (atom_append(out, in->data, in->len) < 0) {
		snprintf(s->err, sizeof s->err, "out of memory");
		return -1;
	}
	out->events = in->events;
	s->events += in->events;
	return emit(s, &s->out[p], out);
}

/*
 * Routes one input atom and writes what it makes.  Returns once every
 * output has taken its atom (a queue has logged it), so the caller may
 * then acknowledge the input; -1 with s->err set otherwise.  A partition
 * with no event gets nothing.
 */
int shuffle_atom(struct shuffle *s, const struct atom *in)
{
	s->atoms++;
	if (s->mode == ROUTE_SPREAD)
		return spread(s, in);
	for (uint32_t p = 0; p < s->n; p++)
		start(&s->part[p], in, s->salt, p);
	start(&s->bad, in, s->salt, DLQ_ORDINAL);
	s->bad_in_atom = 0;
	if (route(s, in) < 0)
		return -1;
	if (s->bad_in_atom > BAD_WARNINGS)
		log_warn("... and %u more events of that atom %s", s->bad_in_atom - BAD_WARNINGS,
			 s->on_error == ON_ERROR_DLQ ? "dead-lettered" : "skipped");
	for (uint32_t p = 0; p < s->n; p++)
		if (s->part[p].events && emit(s, &s->out[p], &s->part[p]) < 0)
			return -1;
	if (s->on_error == ON_ERROR_DLQ && s->bad.events) {
		s->bad.fail_kind = ATOM_FAIL_KEY;
		s->bad.fail_code = (int32_t)s->bad.events;
		if (!s->dlq_open && endpoint_open(&s->dlq, s->dlq_spec, 1, s->eo) < 0) {
			snprintf(s->err, sizeof s->err, "%s", s->dlq.err);
			return -1;
		}
		s->dlq_open = 1;
		return emit(s, &s->dlq, &s->bad);
	}
	return 0;
}
