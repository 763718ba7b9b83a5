/*
 * store: the coordinator's append-only log.
 *
 * The log is a directory of numbered segment files (the format is in
 * segment.h).  Every change to a queue's contents is one CRC'd record
 * appended to the newest segment; records are buffered and written
 * together once per event-loop turn (group commit), and replies go out
 * only after that write(2).
 *
 * On start the segments are replayed in order to rebuild the queues.
 * Only a torn tail of the last segment that holds records may be cut off
 * (a crash in the middle of a write); damage anywhere else stops the start
 * with the file and offset, and changes nothing: `spsc-coord fsck` decides
 * what to do with it.
 *
 * Disk space: each segment is allocated in full (fallocate) when it is
 * made, and one spare segment is kept ready, so a write into a segment
 * cannot fail for want of space.  When the spare cannot be made, the disk
 * is full: PUTs are refused (NOSPACE) while ACKs and the like still go
 * into the room left, and PUTs resume once a spare can be made again.
 *
 * Segments are reclaimed oldest first once every atom put in them has
 * left its queue: deleting strictly in order keeps each ACK record alive
 * at least as long as the PUT it cancels.  Compaction (compact.c) copies
 * the few live atoms of an old segment forward so that one slow atom does
 * not pin the history behind it.
 *
 * A reclaimed segment's file is kept (renamed "reuse", out of the log) to
 * become the next spare, rather than deleted: writing over pages the page
 * cache already holds costs a fraction of filling new ones, which was a
 * third of the coordinator's time at full speed.  The new segment's
 * records carry its number (segment.h), so the old records past them are
 * told apart; a start cuts every file back to its own records.
 */
#ifndef SPSC_STORE_H
#define SPSC_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "segment.h"
#include "segview.h"
#include "segfile.h"
#include "spare.h"
#include "syncer.h"

/* Exit status of `spsc-coord serve` when the log is damaged. */
#define EXIT_LOG_DAMAGED 3

struct piece {
	const void *ptr;	/* NULL: the bytes are in hbuf at off */
	size_t off;
	size_t len;
};

/* Where a record's body landed: segment number and offset within it. */
struct record_pos {
	uint64_t seq;
	uint64_t off;
};

struct store {
	char dir[4096];
	uint64_t segment_max;
	enum fsync_policy fsync;
	int64_t fsync_interval_ns;
	int64_t last_sync_ns;
	int dirty;
	struct syncer syncer;	/* --fsync interval: syncs off the loop */
	int replaying;		/* no deletions until the replay is whole */
	int nospace;		/* no spare segment: the disk is full */
	int64_t space_tried;	/* mono ns of the last try for a spare */
	int failed;		/* a record could not be buffered: stop */
	int damaged;		/* start-up found damage: EXIT_LOG_DAMAGED */
	struct segment *segs;	/* oldest first */
	size_t nsegs, segs_cap;
	struct segment spare;	/* fd < 0: none */
	int reuse_fd;		/* a reclaimed file for the next spare, or -1 */
	struct spare maker;	/* makes the spare off the loop */
	struct segfiles files;	/* the loop's, for segments it makes itself */
	/* The group-commit buffer: record heads and small bodies are copied
	 * into hbuf; large bodies (atom frames) are referenced in place and
	 * must stay valid until store_flush. */
	struct piece *pieces;
	size_t npieces, pieces_cap;
	uint8_t *hbuf;
	size_t hlen, hcap;
	struct iovec *iov;
	size_t iov_cap;
	uint64_t pending;	/* bytes buffered, not yet written */
	char err[4600];
};

typedef void (*replay_fn)(void *ctx, int type, const char *queue,
			  const uint8_t *body, size_t len,
			  const struct record_pos *pos);

int store_open(struct store *s, const char *dir, uint64_t segment_max,
	       enum fsync_policy fsync, int64_t interval_ns, replay_fn fn,
	       void *ctx);
int store_list(const char *dir, uint64_t **seqs, size_t *n);
int store_room(struct store *s, uint64_t bytes, int is_put);
uint64_t store_record_size(const char *queue, size_t body);
int store_append(struct store *s, int type, const char *queue,
		 const void *body, size_t len, const void *body2,
		 size_t len2, struct record_pos *pos);
int store_append_frame(struct store *s, const char *queue, const uint8_t *frame,
		       size_t header_len, size_t stored, uint32_t payload_crc,
		       struct record_pos *pos);
int store_flush(struct store *s);
int store_sync_due(struct store *s, int64_t now);
void store_retry_space(struct store *s, int64_t now);
int store_read(struct store *s, const struct record_pos *pos, void *buf,
	       size_t len);
const uint8_t *store_frame(struct store *s, const struct record_pos *pos,
			   size_t len, struct segview **view);
int store_is_current(const struct store *s, uint64_t seq);
void store_ref(struct store *s, uint64_t seq, uint64_t bytes);
void store_unref(struct store *s, uint64_t seq, uint64_t bytes);
int store_reclaimable(const struct store *s);
void store_reclaim(struct store *s);
uint64_t store_compact_victim(const struct store *s);
uint64_t store_disk_bytes(const struct store *s);
void store_end(const struct store *s, struct record_pos *end);
void store_close(struct store *s);

#endif
