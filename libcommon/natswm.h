/*
 * natswm: a queue's watermark on NATS JetStream (spsc(7), "Event time and
 * watermarks"), without a coordinator to compute it.
 *
 * spsc-coord's watermark of a queue is the least of its producers'
 * watermarks and of the event times of the atoms it still holds.  Split
 * by producer, that is the least over producers P of
 *
 *     min(P's watermark, the least event time of P's atoms still held)
 *
 * and each producer can know its own term but for one thing: which of its
 * atoms are still in the stream.  (Replicas of a stage share its producer
 * id; as on spsc-coord, the producer's watermark is the greatest any of
 * them told, and the atoms of all of them count.)  A work-queue stream deletes a message
 * once it is acknowledged, so every message below the stream's first
 * sequence is gone.  A producer therefore keeps its atoms in segments,
 * each closed once all its publishes are stored, with the stream's last
 * sequence then (no atom of the segment lies above it) and the least
 * event time of its atoms; a segment is held while the stream's first
 * sequence is at or below its last.  It puts
 *
 *     WM SEQ:TMIN SEQ:TMIN ...
 *
 * in the key E.p.<id>.wm.<instance> of the SPSC_FLOW bucket (natsflow.h),
 * a key per process so that replicas never overwrite each other, "-" for
 * an unknown time and "end" for a producer that is done.  A reader evaluates it against the stream's state as
 * it reads it, so a producer that has gone quiet (or done: WM "end") still
 * lets the watermark rise as its atoms are consumed.  A reader's
 * evaluation is a lower bound of spsc-coord's: a segment counts as held
 * until all of it is gone.
 */
#ifndef SPSC_NATSWM_H
#define SPSC_NATSWM_H

#include <stddef.h>
#include <stdint.h>

#include "atom.h"

#define NATSWM_SEGMENTS 16
/* "WM" and NATSWM_SEGMENTS of " SEQ:TMIN", with room to spare. */
#define NATSWM_TEXT_MAX (24 + NATSWM_SEGMENTS * 48)

struct natswm_segment {
	uint64_t last_seq;	/* no atom of it lies above this sequence */
	int64_t tmin;		/* ATOM_TIME_NONE: an atom without times */
};

/* A producer's side. */
struct natswm {
	int64_t wm;		/* the greatest its atoms carried, or NONE */
	int timed;		/* it put an atom with times or a watermark */
	int open;		/* atoms put since the last segment closed */
	int64_t open_tmin;
	struct natswm_segment seg[NATSWM_SEGMENTS];
	size_t nseg;
	char said[NATSWM_TEXT_MAX];	/* the value last put */
};

void natswm_init(struct natswm *w);
void natswm_put(struct natswm *w, const struct atom *a);
void natswm_settled(struct natswm *w, uint64_t first_seq, uint64_t last_seq,
		    uint64_t msgs);
void natswm_format(const struct natswm *w, int done, char *buf, size_t len);
int natswm_parse(const char *text, uint64_t first_seq, uint64_t msgs,
		 int64_t *wm, int64_t *held_min);

#endif
