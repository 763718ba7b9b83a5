/*
 * batch: events -> atoms.
 *
 * This is the hot path of every ingest, so it does as little as it can per
 * event: one memchr to find the newline and a few comparisons.  Bytes are
 * not copied event by event.  An atom that lies whole inside the block just
 * read is written straight from that block (no copy at all); only the atom
 * that straddles two blocks is gathered into the batcher's buffer, with one
 * memcpy per block.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "log.h"
#include "source.h"
#include "units.h"

void rate_init(struct rate *r, double per_sec)
{
	memset(r, 0, sizeof *r);
	if (per_sec <= 0)
		return;
	r->per_ns = per_sec / 1e9;
	/* 10 ms of events may go out in one burst: smooth to the eye and to
	 * latency measurements, yet high rates do not wait once per event. */
	r->burst = per_sec / 100 < 1 ? 1 : per_sec / 100;
	r->tokens = 1;
	r->last = mono_ns();
}

void batcher_init(struct batcher *b, struct source *src)
{
	memset(b, 0, sizeof *b);
	b->src = src;
	atom_init(&b->atom);
}

/* Points the batcher at a new input; the buffer is kept for reuse. */
int batcher_start(struct batcher *b, const char *label)
{
	char *copy = strdup(label);

	if (copy == NULL) {
		log_error("%s: out of memory", label);
		b->src->fatal = 1;
		return -1;
	}
	free(b->label);
	b->label = copy;
	b->ordinal = 0;
	b->offset = 0;
	b->atom.len = 0;
	b->done = 0;
	b->events = 0;
	b->failed = 0;
	return 0;
}

void batcher_free(struct batcher *b)
{
	free(b->label);
	atom_free(&b->atom);
	memset(b, 0, sizeof *b);
}

static int out_of_memory(struct batcher *b)
{
	log_error("%s: out of memory for a %zu-byte atom", b->label,
		  b->atom.len);
	b->src->fatal = 1;
	return -1;
}

/* Writes len bytes holding count whole events as this input's next atom. */
static int emit(struct batcher *b, const char *data, size_t len,
		uint32_t count)
{
	struct source *src = b->src;
	struct atom a;
	uint32_t crc = crc32c(0, data, len);

	atom_init(&a);
	a.data = (char *)data;	/* only read: atom_write takes it const */
	a.len = len;
	atom_note_crc(&a, crc);	/* the frame's CRC is the same sum */
	a.events = count;
	a.created_ns = b->first_wall;
	a.id = atomid_source(src->cfg->name, b->label, b->ordinal, crc, len);
	stamp_atom(&src->stamp, &a);
	if (endpoint_write(&src->out, &a) < 0) {
		log_error("%s", src->out.err);
		src->fatal = 1;
		return -1;
	}
	b->ordinal++;
	src->atoms++;
	src->events += count;
	src->bytes += len;
	progress_tick(src);
	return 0;
}

/*
 * Cuts the pending atom: the whole events in the buffer followed by the
 * whole events span[0..len) of the current block.  The buffer must hold no
 * unfinished event.  With nothing buffered the atom goes out zero-copy.
 */
static int cut(struct batcher *b, const char *span, size_t len)
{
	int rc;

	if (b->events == 0)
		return 0;
	if (b->atom.len == 0) {
		rc = emit(b, span, len, b->events);
	} else {
		if (atom_append(&b->atom, span, len) < 0)
			return out_of_memory(b);
		rc = emit(b, b->atom.data, b->atom.len, b->events);
		b->atom.len = 0;
	}
	b->done = 0;
	b->events = 0;
	return rc;
}

/*
 * Writes the whole events held in the buffer and keeps the unfinished
 * event, if any, as the start of the next atom.  This is the linger cut.
 */
int batcher_flush(struct batcher *b)
{
	size_t rest = b->atom.len - b->done;
	int rc = 0;

	if (b->events > 0)
		rc = emit(b, b->atom.data, b->done, b->events);
	if (rest > 0 && b->done > 0)
		memmove(b->atom.data, b->atom.data + b->done, rest);
	b->atom.len = rest;
	b->done = 0;
	b->events = 0;
	if (rest > 0) {
		b->first_wall = b->carry_wall;
		b->first_mono = b->carry_mono;
	}
	return rc;
}

void batcher_discard(struct batcher *b)
{
	b->atom.len = 0;
	b->done = 0;
	b->events = 0;
}

/* When the pending atom must go out, in mono_ns; INT64_MAX if never. */
int64_t batcher_deadline(const struct batcher *b)
{
	int64_t linger = b->src->cfg->linger_ns;

	if (b->events == 0)
		return INT64_MAX;
	if (b->first_mono > INT64_MAX - linger)
		return INT64_MAX;
	return b->first_mono + linger;
}

/* Cuts the pending atom if it has waited --linger; 0 or -1 (fatal). */
int batcher_linger(struct batcher *b)
{
	if (b->events > 0 && mono_ns() >= batcher_deadline(b))
		return batcher_flush(b);
	return 0;
}

/* An event over --max-atom cannot be framed: the input ends here.  The
 * whole events before it were already written. */
static int oversize(struct batcher *b, uint64_t at)
{
	log_error("%s: byte %" PRIu64 ": event longer than --max-atom (%zu bytes)",
		  b->label, at, b->src->cfg->max_atom);
	batcher_discard(b);
	b->failed = 1;
	b->src->failed = 1;
	return -1;
}

/*
 * Waits for one --rate token.  Everything pending must be in the buffer,
 * because a linger cut may happen while waiting.  -1: stopped or fatal.
 */
static int take_token(struct batcher *b)
{
	struct rate *r = &b->src->rate;
	int64_t now, wake, due;

	while (r->tokens < 1) {
		now = mono_ns();
		r->tokens += (double)(now - r->last) * r->per_ns;
		r->last = now;
		if (r->tokens > r->burst)
			r->tokens = r->burst;
		if (r->tokens >= 1)
			break;
		wake = now + (int64_t)((1 - r->tokens) / r->per_ns) + 1;
		due = batcher_deadline(b);
		if (due <= now) {
			if (batcher_flush(b) < 0)
				return -1;
			continue;
		}
		if (source_wait(b->src, -1, deadline_min(wake, due)) < 0 ||
		    b->src->stopping)
			return -1;
	}
	r->tokens -= 1;
	b->stamp_wall = wall_ns();
	b->stamp_mono = mono_ns();
	return 0;
}

static int need_token(const struct batcher *b)
{
	const struct rate *r = &b->src->rate;

	return r->per_ns > 0 && r->tokens < 1;
}

static void spend_token(struct batcher *b)
{
	if (b->src->rate.per_ns > 0)
		b->src->rate.tokens -= 1;
}

/*
 * The buffer ends with an unfinished event from an earlier block: finish it
 * (or keep collecting it) before the fast loop, which assumes every event
 * starts inside the block.  Returns where the fast loop goes on, or NULL.
 */
static const char *finish_carried(struct batcher *b, const char *p,
				  const char *end)
{
	const struct source_cfg *cfg = b->src->cfg;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t carried = b->atom.len - b->done;
	size_t take = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);
	size_t evlen = carried + take;

	/* Without its newline the event still needs one more byte. */
	if (nl ? evlen > cfg->max_atom : evlen >= cfg->max_atom) {
		if (batcher_flush(b) < 0)
			return NULL;
		oversize(b, b->offset - carried);
		return NULL;
	}
	if (atom_append(&b->atom, p, take) < 0) {
		out_of_memory(b);
		return NULL;
	}
	if (nl == NULL)
		return end;
	if (b->src->rate.per_ns > 0 && take_token(b) < 0)
		return NULL;
	if (b->events > 0 && b->done + evlen > cfg->atom_bytes &&
	    batcher_flush(b) < 0)
		return NULL;
	if (b->events == 0) {
		b->first_wall = b->carry_wall;
		b->first_mono = b->carry_mono;
	}
	b->done = b->atom.len;
	b->events++;
	if ((b->events >= cfg->atom_events || b->done >= cfg->atom_bytes) &&
	    cut(b, NULL, 0) < 0)
		return NULL;
	return nl + 1;
}

/* Moves what the block leaves pending into the buffer. */
static int stash(struct batcher *b, const char *span, const char *whole_end,
		 const char *end)
{
	if (span == end)
		return 0;
	if (b->atom.len == 0 && b->events == 0) {
		b->first_wall = b->stamp_wall;
		b->first_mono = b->stamp_mono;
	}
	if (whole_end < end) {
		b->carry_wall = b->stamp_wall;
		b->carry_mono = b->stamp_mono;
	}
	if (atom_append(&b->atom, span, (size_t)(end - span)) < 0)
		return out_of_memory(b);
	b->done += (size_t)(whole_end - span);
	return 0;
}

/* The fast loop: every event starts inside the block. */
static int feed_events(struct batcher *b, const char *base, const char *p,
		       const char *end)
{
	const struct source_cfg *cfg = b->src->cfg;
	const char *span = p, *q = p, *nl;
	size_t evlen, have;

	while (q < end && (nl = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		evlen = (size_t)(nl + 1 - q);
		if (evlen > cfg->max_atom) {
			if (cut(b, span, (size_t)(q - span)) < 0)
				return -1;
			return oversize(b, b->offset + (uint64_t)(q - base));
		}
		have = b->done + (size_t)(q - span);
		if (b->events > 0 && have + evlen > cfg->atom_bytes) {
			if (cut(b, span, (size_t)(q - span)) < 0)
				return -1;
			span = q;
			have = 0;
		}
		if (need_token(b)) {
			if (stash(b, span, q, q) < 0 || take_token(b) < 0)
				return -1;
			span = q;
			have = b->done;
		} else {
			spend_token(b);
		}
		if (b->events == 0 && b->atom.len == 0) {
			b->first_wall = b->stamp_wall;
			b->first_mono = b->stamp_mono;
		}
		q = nl + 1;
		b->events++;
		if (b->events >= cfg->atom_events ||
		    have + evlen >= cfg->atom_bytes) {
			if (cut(b, span, (size_t)(q - span)) < 0)
				return -1;
			span = q;
		}
	}
	if ((size_t)(end - q) >= cfg->max_atom) {
		if (cut(b, span, (size_t)(q - span)) < 0)
			return -1;
		return oversize(b, b->offset + (uint64_t)(q - base));
	}
	return stash(b, span, q, end);
}

/*
 * Feeds len bytes of the input.  0: fed; -1: this input ends here (it
 * failed: b->failed; a signal: src->stopping; or src->fatal).
 */
int batcher_feed(struct batcher *b, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	if (b->failed)
		return -1;
	if (len == 0)
		return 0;
	b->stamp_wall = wall_ns();
	b->stamp_mono = mono_ns();
	if (b->atom.len > b->done) {
		p = finish_carried(b, p, end);
		if (p == NULL)
			return -1;
	}
	if (feed_events(b, buf, p, end) < 0)
		return -1;
	b->offset += len;
	return 0;
}

/* End of input: a last event without its newline gets one, and whatever
 * is pending goes out. */
int batcher_finish(struct batcher *b)
{
	static const char nl[] = "\n";

	if (b->failed)
		return -1;
	if (b->atom.len > b->done) {
		b->stamp_wall = wall_ns();
		b->stamp_mono = mono_ns();
		if (finish_carried(b, nl, nl + 1) == NULL)
			return -1;
	}
	return batcher_flush(b);
}
