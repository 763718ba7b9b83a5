/*
 * store: the coordinator's append-only log.
 *
 * The log is a directory of numbered segment files.  Every change to a
 * queue's contents is one CRC'd record appended to the newest segment;
 * records are buffered and written together once per event-loop turn
 * (group commit), and replies go out only after that write(2).  On start
 * the segments are replayed in order to rebuild the queues; a torn or
 * corrupt tail is truncated and reported.
 *
 * Segment file: 16-byte header "SPSCLOG1" + u64 segment number, then
 * records:
 *
 *   off len
 *     0   4  record length R, these 12 bytes included
 *     4   4  CRC32C of bytes 8..R-1
 *     8   1  type (enum record_type)
 *     9   1  queue name length Q
 *    10   2  zero
 *    12   Q  queue name
 *  12+Q      body: PUT an atom frame; ACK an id (16); RECV an id and a
 *            u32 delivery count; PURGE nothing
 *
 * Segments are reclaimed oldest first, once every atom put in them has
 * left its queue: deleting strictly in order keeps each ACK record alive at
 * least as long as the PUT it cancels.
 */
#ifndef SPSC_STORE_H
#define SPSC_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "atomid.h"

enum record_type { REC_PUT = 1, REC_ACK = 2, REC_RECV = 3, REC_PURGE = 4 };

#define RECORD_HEAD 12
#define SEGMENT_HEAD 16

enum fsync_policy { FSYNC_NEVER, FSYNC_INTERVAL, FSYNC_ALWAYS };

struct piece {
	const void *ptr;	/* NULL: the bytes are in hbuf at off */
	size_t off;
	size_t len;
};

struct segment {
	uint64_t seq;
	int fd;
	uint64_t size;		/* bytes written (and flushed) */
	uint64_t live;		/* PUTs in it whose atoms are still queued */
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
	struct segment *segs;	/* oldest first */
	size_t nsegs, segs_cap;
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
int store_append(struct store *s, int type, const char *queue,
		 const void *body, size_t len, const void *body2,
		 size_t len2, struct record_pos *pos);
int store_flush(struct store *s);
int store_sync_due(struct store *s, int64_t now);
int store_read(struct store *s, const struct record_pos *pos, void *buf,
	       size_t len);
void store_unref(struct store *s, uint64_t seq);
void store_ref(struct store *s, uint64_t seq);
uint64_t store_disk_bytes(const struct store *s);
void store_close(struct store *s);

#endif
