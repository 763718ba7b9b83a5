/*
 * segment: the on-disk format of one log segment, and the walk over its
 * records that both the coordinator's replay and `spsc-coord fsck` use.
 *
 * Segment file: 16-byte header "SPSCLOG3" (or "SPSCLOG2", "SPSCLOG1" for
 * segments written by older versions) + u64 segment number, then records:
 *
 *   off len
 *     0   4  record length R, the head included
 *     4   4  CRC32C of bytes 8..R-1
 *     8   1  type (enum record_type)
 *     9   1  queue name length Q
 *    10   2  record mark 0xA75C (LOG2, LOG3); zero in LOG1 segments
 *    12   4  the segment's number, low 32 bits (LOG3 only)
 *   H     Q  queue name (H, the head: 16 in LOG3, 12 before)
 *   H+Q      body: PUT an atom frame; ACK an id (16) and a reason byte;
 *            RECV an id and a u32 delivery count; PURGE nothing;
 *            MOVE a u32 delivery count and an atom frame
 *
 * The mark is what lets a reader find the next record after damage: it
 * scans forward for the mark and takes the first place where a whole
 * record with a good CRC begins.  A PUT's payload could, in principle,
 * hold bytes that look like a record; the CRC makes a chance match
 * negligible, and fsck reports every resync so a forged one is visible.
 *
 * The segment number in each LOG3 record is what lets a segment file be
 * used again (store.h): a reused file still holds the records of its
 * earlier life past the new ones.  Such a record is intact, CRC and all,
 * but names another segment: where one begins, this segment's records
 * end, as they end at the end of the file.
 */
#ifndef SPSC_SEGMENT_H
#define SPSC_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

enum record_type {
	REC_PUT = 1,	/* an atom entered a queue */
	REC_ACK = 2,	/* an atom left it */
	REC_RECV = 3,	/* an atom was delivered */
	REC_PURGE = 4,	/* every earlier atom of the queue is gone */
	REC_MOVE = 5	/* an atom copied forward by compaction: not new */
};
#define REC_TYPE_MAX REC_MOVE

/* Why an atom left its queue: the reason byte of an ACK record.  The
 * counters rebuilt after a crash need to tell these apart. */
enum ack_reason {
	ACK_CONSUMED = 0, ACK_DEAD = 1, ACK_EXPIRED = 2, ACK_CORRUPT = 3,
	ACK_MOVED = 4
};

#define RECORD_HEAD 16		/* as written now (LOG3) */
#define RECORD_HEAD_V2 12	/* LOG1 and LOG2 */
#define SEGMENT_HEAD 16
#define RECORD_MARK 0xA75Cu
#define SEGMENT_MAGIC "SPSCLOG3"
#define SEGMENT_MAGIC_V2 "SPSCLOG2"
#define SEGMENT_MAGIC_V1 "SPSCLOG1"

/* A segment file mapped for reading. */
struct segment_map {
	const uint8_t *p;
	size_t size;
	int version;		/* 1 to 3; 0: not a segment (or too short) */
	uint64_t seq;		/* from the header */
	size_t head;		/* record head length in this version */
};

struct log_record {
	size_t off;		/* where the record starts */
	uint32_t len;
	int type;
	char queue[256];
	const uint8_t *body;
	size_t body_off;	/* offset of the body in the segment */
	size_t body_len;
};

/* Bytes that are not a record, from off up to the next record or EOF. */
struct log_damage {
	size_t off, len;
	int at_end;		/* no valid record follows in this segment */
	char why[160];
};

enum scan_step { SCAN_END, SCAN_RECORD, SCAN_DAMAGE };

void segment_header(uint8_t head[SEGMENT_HEAD], uint64_t seq);
void segment_map_init(struct segment_map *m, const uint8_t *p, size_t size);
void segment_map_version(struct segment_map *m, int version);
int segment_header_ok(const struct segment_map *m, uint64_t seq);
enum scan_step segment_next(const struct segment_map *m, size_t *off,
			    struct log_record *rec, struct log_damage *dmg);
int segment_holds_records(const struct segment_map *m);
size_t record_head(uint8_t *head, int type, const char *queue,
		   uint32_t total, uint64_t seq);
const char *record_type_name(int type);

#endif
