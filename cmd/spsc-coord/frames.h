/*
 * frames: atom frames served from the log to a GET, in place where they
 * can be.
 *
 * A frame in a segment's mapping (segview.h) is served with no read(2)
 * and no malloc: its header is copied (every delivery stamps its receive
 * count in it) and, for a client that takes a frame in two parts (GET
 * split=1), a large payload goes straight from the mapping.  Small frames
 * are copied whole: a copy costs less than ZeroMQ's bookkeeping for a
 * buffer it does not own.  A frame the mapping cannot serve is read.
 *
 * The payload CRC, checked when the atom came in (PUT) and when the log
 * was replayed (the record CRC), is checked again only where the bytes
 * may have changed since: a frame in a segment no longer being written,
 * whose pages may have left memory and come back from the disk, or one
 * read with read(2).  Readers check it too (spsc-protocol(7)).
 */
#ifndef SPSC_FRAMES_H
#define SPSC_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "coord.h"
#include "reply.h"

/* Frames at least this large go in two parts to a client that asked. */
#define FRAME_SPLIT_MIN 8192

struct frame_ref {
	const uint8_t *p;	/* the frame */
	uint8_t *owned;		/* read into the heap: p, ours to free */
	struct segview *view;	/* or in place in this mapping */
	uint32_t len;
	uint32_t header_len;
};

int frame_get(struct coord *c, struct queue *q, struct entry *e, int64_t now,
	      struct frame_ref *f);
int frame_send(struct reply *r, struct frame_ref *f, uint32_t attempt,
	       int split);
void frame_put(struct frame_ref *f);
uint8_t *entry_load(struct coord *c, struct queue *q, struct entry *e,
		    int64_t now);

#endif
