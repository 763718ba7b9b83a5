/*
 * checkpoint: spsc-reduce's state on disk, whole, in DIR/checkpoint.
 *
 * A checkpoint is a full snapshot: the options that shape the state, the
 * watermark, the counters, every open window, the ids of every input atom
 * applied, and the outbox (outputs made and not yet known to be written).
 * It is written to DIR/checkpoint.tmp, synced, renamed over
 * DIR/checkpoint, and the directory synced; so the file is always one
 * whole snapshot, old or new.  The format (all integers little-endian):
 *
 *   "SPSCRDCK"  u32 version (1)  u32 n, the options text (n bytes)
 *   i64 watermark  i64 largest event time
 *   u64 seq, atoms, events, late events, results, bad events
 *   u64 n, n atom ids (16 bytes each)
 *   u64 n, n keys: u32 len, the key, u32 m, m windows:
 *       i64 start, i64 end, u64 count, u32 flags, each aggregate's state
 *   u64 n, n atoms: u8 output (0 results, 1 late, 2 dead letters),
 *       id, i64 created, u32 events, u8 fail kind, i32 fail code,
 *       i64 tmin, i64 tmax, i64 watermark, u32 len, the events
 *   u32 CRC32C of everything before it
 *
 * DIR/lock is held (flock) while a stage uses the directory, so that two
 * stages never share one.
 */
#ifndef SPSC_REDUCE_CHECKPOINT_H
#define SPSC_REDUCE_CHECKPOINT_H

#include <stddef.h>

#include "reduce.h"
#include "ser.h"

struct ckpt {
	char dir[4096];
	char path[4200];	/* DIR/checkpoint */
	char tmp[4200];		/* DIR/checkpoint.tmp */
	const char *options;	/* what a checkpoint must have been made with */
	int lock_fd;
	struct ser_out out;
	uint64_t saved;		/* checkpoints written by this run */
	uint64_t bytes;		/* the size of the last one */
};

int ckpt_open(struct ckpt *c, const char *dir, const char *options,
	      char *err, size_t errlen);
int ckpt_load(struct ckpt *c, struct reduce *r, char *err, size_t errlen);
int ckpt_save(struct ckpt *c, const struct reduce *r, char *err,
	      size_t errlen);
void ckpt_close(struct ckpt *c);

#endif
