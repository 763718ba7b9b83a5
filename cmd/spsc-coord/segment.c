#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "le.h"
#include "segment.h"

void segment_header(uint8_t head[SEGMENT_HEAD], uint64_t seq)
{
	memcpy(head, SEGMENT_MAGIC, 8);
	le_put64(head + 8, seq);
}

/* How to read the records: for fsck, which may have to guess it for a
 * segment whose header is damaged. */
void segment_map_version(struct segment_map *m, int version)
{
	m->version = version;
	m->head = version >= 3 ? RECORD_HEAD : RECORD_HEAD_V2;
}

void segment_map_init(struct segment_map *m, const uint8_t *p, size_t size)
{
	m->p = p;
	m->size = size;
	segment_map_version(m, 0);
	m->seq = 0;
	if (size < SEGMENT_HEAD)
		return;
	if (memcmp(p, SEGMENT_MAGIC, 8) == 0)
		segment_map_version(m, 3);
	else if (memcmp(p, SEGMENT_MAGIC_V2, 8) == 0)
		segment_map_version(m, 2);
	else if (memcmp(p, SEGMENT_MAGIC_V1, 8) == 0)
		segment_map_version(m, 1);
	m->seq = le_get64(p + 8);
}

/*
 * Is this the header of segment seq, in a format this reader knows?  A
 * SPSCLOG3 header must also bear the file's number, which its records are
 * checked against; older formats did not rely on it.
 */
int segment_header_ok(const struct segment_map *m, uint64_t seq)
{
	return m->version != 0 && (m->version < 3 || m->seq == seq);
}

/* The record head without its CRC; returns its length (16 + Q). */
size_t record_head(uint8_t *head, int type, const char *queue,
		   uint32_t total, uint64_t seq)
{
	size_t qlen = strlen(queue);

	le_put32(head, total);
	le_put32(head + 4, 0);
	head[8] = (uint8_t)type;
	head[9] = (uint8_t)qlen;
	le_put16(head + 10, RECORD_MARK);
	le_put32(head + 12, (uint32_t)seq);
	memcpy(head + RECORD_HEAD, queue, qlen);
	return RECORD_HEAD + qlen;
}

const char *record_type_name(int type)
{
	static const char *names[] = { "?", "PUT", "ACK", "RECV", "PURGE", "MOVE" };

	return type >= 1 && type <= REC_TYPE_MAX ? names[type] : "?";
}

enum check { CHECK_DAMAGE, CHECK_RECORD, CHECK_EARLIER };

/*
 * Checks the record at p: CHECK_RECORD with *len set, CHECK_DAMAGE with
 * why set if the bytes there are not a whole, intact record, or
 * CHECK_EARLIER for an intact record of the file's earlier life.
 */
static enum check record_check(const struct segment_map *m, const uint8_t *p,
			       size_t avail, size_t *len, char *why,
			       size_t whylen)
{
	uint16_t mark = m->version >= 2 ? RECORD_MARK : 0;
	uint32_t n;

	if (avail < m->head) {
		snprintf(why, whylen, "torn record head (%zu bytes)", avail);
		return CHECK_DAMAGE;
	}
	n = le_get32(p);
	if (le_get16(p + 10) != mark) {
		snprintf(why, whylen, "no record mark");
		return CHECK_DAMAGE;
	}
	if (n < m->head || n > avail) {
		snprintf(why, whylen, "record length %" PRIu32 " runs past the end (%zu bytes left)",
			 n, avail);
		return CHECK_DAMAGE;
	}
	if (crc32c(0, p + 8, n - 8) != le_get32(p + 4)) {
		snprintf(why, whylen, "record CRC mismatch");
		return CHECK_DAMAGE;
	}
	if (m->head + (size_t)p[9] > n || p[9] == 0 || p[9] > 200 ||
	    p[8] < REC_PUT || p[8] > REC_TYPE_MAX) {
		snprintf(why, whylen, "malformed record (type %u)", p[8]);
		return CHECK_DAMAGE;
	}
	if (m->version >= 3 && le_get32(p + 12) != (uint32_t)m->seq)
		return CHECK_EARLIER;
	*len = n;
	return CHECK_RECORD;
}

/* The first offset after off where an intact record begins, of this
 * segment or of an earlier life; the size of the segment if there is
 * none.  *earlier says which. */
static size_t resync(const struct segment_map *m, size_t off, int *earlier)
{
	char why[160];
	uint8_t lo = RECORD_MARK & 0xff, hi = RECORD_MARK >> 8;
	size_t len;

	*earlier = 0;
	for (size_t at = off + 1; at + m->head <= m->size; at++) {
		const uint8_t *p = m->p + at;
		enum check c;
		if (m->version >= 2 && (p[10] != lo || p[11] != hi))
			continue;
		if (m->version < 2 && (p[10] != 0 || p[11] != 0))
			continue;
		c = record_check(m, p, m->size - at, &len, why, sizeof why);
		if (c != CHECK_DAMAGE) {
			*earlier = c == CHECK_EARLIER;
			return at;
		}
	}
	return m->size;
}

/*
 * One step of a walk over a segment, from *off (start at SEGMENT_HEAD):
 * a record, a run of damaged bytes (the walk goes on at the next intact
 * record), or the end of the segment's records, where *off stays: the
 * end of the file, or a record of the file's earlier life.
 */
enum scan_step segment_next(const struct segment_map *m, size_t *off,
			    struct log_record *rec, struct log_damage *dmg)
{
	const uint8_t *p = m->p + *off;
	size_t len = 0, next;
	int earlier;

	if (*off >= m->size)
		return SCAN_END;
	switch (record_check(m, p, m->size - *off, &len, dmg->why, sizeof dmg->why)) {
	case CHECK_EARLIER:
		return SCAN_END;
	case CHECK_DAMAGE:
		next = resync(m, *off, &earlier);
		dmg->off = *off;
		dmg->len = next - *off;
		dmg->at_end = next == m->size || earlier;
		*off = next;
		return SCAN_DAMAGE;
	case CHECK_RECORD:
		break;
	}
	rec->off = *off;
	rec->len = (uint32_t)len;
	rec->type = p[8];
	memcpy(rec->queue, p + m->head, p[9]);
	rec->queue[p[9]] = '\0';
	rec->body_off = *off + m->head + p[9];
	rec->body = m->p + rec->body_off;
	rec->body_len = *off + len - rec->body_off;
	*off += len;
	return SCAN_RECORD;
}

/* Does the segment hold any record of its own (or damage)? */
int segment_holds_records(const struct segment_map *m)
{
	struct log_record rec;
	struct log_damage dmg;
	size_t off = SEGMENT_HEAD;

	if (m->version == 0)	/* not a segment: whatever it is, it is there */
		return m->size > SEGMENT_HEAD;
	return segment_next(m, &off, &rec, &dmg) != SCAN_END;
}
