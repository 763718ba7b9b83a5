/*
 * contents: a queue's atoms as the log records them: the checks a frame
 * passes before it is stored or served, an atom stored or moved in, an
 * atom gone for good, a queue emptied.  Every change here buffers its log
 * record; the server writes the log before any reply leaves.
 */
#include <stdio.h>
#include <stdlib.h>

#include "contents.h"
#include "crc32c.h"
#include "units.h"

/*
 * Checks a frame from a client or from the log: its header, its length,
 * its size against the limit and, if payload_too, its payload's CRC.  0 if
 * it may be stored or handed out, with its header in a and f; else the
 * status to answer with and why.
 */
int frame_verify(struct coord *c, const uint8_t *buf, size_t len,
		 int payload_too, struct atom *a, struct atom_frame *f,
		 char *why, size_t whylen)
{
	int rc = atom_parse_header(buf, len, SIZE_MAX, a, f, why, whylen);

	if (rc == 1) {
		snprintf(why, whylen, "truncated frame (%zu bytes)", len);
		return ST_BADATOM;
	}
	if (rc < 0)
		return ST_BADATOM;
	if (f->stored > c->opt.limit || f->raw > c->opt.limit) {
		snprintf(why, whylen, "frame of %u bytes is over the limit of %zu",
			 f->raw > f->stored ? f->raw : f->stored, c->opt.limit);
		return ST_TOOBIG;
	}
	if (len != f->header_len + f->stored) {
		snprintf(why, whylen, "frame length %zu != header %zu + payload %u",
			 len, f->header_len, f->stored);
		return ST_BADATOM;
	}
	if (payload_too && crc32c(0, buf + f->header_len, f->stored) != f->payload_crc) {
		snprintf(why, whylen, "payload CRC mismatch");
		return ST_BADATOM;
	}
	return 0;
}

/* frame_verify, payload and all. */
int frame_check(struct coord *c, const uint8_t *buf, size_t len,
		struct atom *a, char *why, size_t whylen)
{
	struct atom_frame f;

	return frame_verify(c, buf, len, 1, a, &f, why, whylen);
}

/* The atom has left q for good: log it and why (the counters rebuilt
 * after a crash need the reason), release its segment, remember its id
 * for the de-duplication window. */
void entry_remove(struct coord *c, struct queue *q, struct entry *e,
		  int64_t now, enum ack_reason why)
{
	uint8_t reason = (uint8_t)why;

	store_append(&c->store, REC_ACK, q->name, e->id.b, 16, &reason, 1, NULL);
	store_unref(&c->store, e->pos.seq, e->len);
	queue_forget(q, e, now);
}

/* Stores a frame (owned by buf, kept until the flush) in q under id,
 * replacing a forgotten id, skipping one still queued.  For moves between
 * queues: dead-lettering and redrive.  Like a PUT, a move needs room in
 * the log; -1 (buf freed) if the disk is full or memory runs out. */
int queue_insert_frame(struct coord *c, struct queue *q, uint8_t *buf,
		       uint32_t len, const struct atom *a)
{
	struct entry *old = queue_find(q, &a->id);
	struct record_pos pos;

	if (old && old->state != E_GONE) {
		free(buf);
		return 0;
	}
	if (store_room(&c->store, store_record_size(q->name, len), 1) < 0) {
		free(buf);
		return -1;
	}
	if (old)
		queue_drop(q, old);
	if (coord_keep_buffer(c, buf) < 0 ||
	    store_append(&c->store, REC_PUT, q->name, buf, len, NULL, 0, &pos) < 0 ||
	    queue_put(q, &a->id, &pos, len, a->events, wall_ns(), a->tmin) == NULL)
		return -1;
	store_ref(&c->store, pos.seq, len);
	return 0;
}

/* Takes every atom out of q; with log, writes a PURGE record so a replay
 * drops what came before it.  Returns how many went. */
uint64_t purge_entries(struct coord *c, struct queue *q, int log)
{
	uint64_t n = 0;

	if (log)
		store_append(&c->store, REC_PURGE, q->name, NULL, 0, NULL, 0, NULL);
	/* Dropping reshuffles the id map, so restart the scan after each. */
	for (size_t i = 0; i < q->nslots;) {
		struct entry *e = q->slots[i].e;
		if (e == NULL || e->state == E_GONE) {
			i++;
			continue;
		}
		store_unref(&c->store, e->pos.seq, e->len);
		queue_drop(q, e);
		n++;
	}
	return n;
}
