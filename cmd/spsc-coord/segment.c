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

void segment_map_init(struct segment_map *m, const uint8_t *p, size_t size)
{
	m->p = p;
	m->size = size;
	m->version = 0;
	m->seq = 0;
	if (size < SEGMENT_HEAD)
		return;
	if (memcmp(p, SEGMENT_MAGIC, 8) == 0)
		m->version = 2;
	else if (memcmp(p, SEGMENT_MAGIC_V1, 8) == 0)
		m->version = 1;
	m->seq = le_get64(p + 8);
}

/* The record head without its CRC; returns its length (12 + Q). */
size_t record_head(uint8_t *head, int type, const char *queue,
		   uint32_t total)
{
	size_t qlen = strlen(queue);

	le_put32(head, total);
	le_put32(head + 4, 0);
	head[8] = (uint8_t)type;
	head[9] = (uint8_t)qlen;
	le_put16(head + 10, RECORD_MARK);
	memcpy(head + RECORD_HEAD, queue, qlen);
	return RECORD_HEAD + qlen;
}

const char *record_type_name(int type)
{
	static const char *names[] = { "?", "PUT", "ACK", "RECV", "PURGE", "MOVE" };

	return type >= 1 && type <= REC_TYPE_MAX ? names[type] : "?";
}

/*
 * Checks the record at p; returns its length, or 0 with why set if the
 * bytes there are not a whole, intact record.
 */
static size_t record_check(const struct segment_map *m, const uint8_t *p,
			   size_t avail, char *why, size_t whylen)
{
	uint16_t mark = m->version >= 2 ? RECORD_MARK : 0;
	uint32_t len;

	if (avail < RECORD_HEAD) {
		snprintf(why, whylen, "torn record head (%zu bytes)", avail);
		return 0;
	}
	len = le_get32(p);
	if (le_get16(p + 10) != mark) {
		snprintf(why, whylen, "no record mark");
		return 0;
	}
	if (len < RECORD_HEAD || len > avail) {
		snprintf(why, whylen, "record length %" PRIu32 " runs past the end (%zu bytes left)",
			 len, avail);
		return 0;
	}
	if (crc32c(0, p + 8, len - 8) != le_get32(p + 4)) {
		snprintf(why, whylen, "record CRC mismatch");
		return 0;
	}
	if (RECORD_HEAD + (size_t)p[9] > len || p[9] == 0 || p[9] > 200 ||
	    p[8] < REC_PUT || p[8] > REC_TYPE_MAX) {
		snprintf(why, whylen, "malformed record (type %u)", p[8]);
		return 0;
	}
	return len;
}

/* The first offset after off where a whole, intact record begins; the
 * size of the segment if there is none. */
static size_t resync(const struct segment_map *m, size_t off)
{
	char why[160];
	uint8_t lo = RECORD_MARK & 0xff, hi = RECORD_MARK >> 8;

	for (size_t at = off + 1; at + RECORD_HEAD <= m->size; at++) {
		const uint8_t *p = m->p + at;
		if (m->version >= 2 && (p[10] != lo || p[11] != hi))
			continue;
		if (m->version < 2 && (p[10] != 0 || p[11] != 0))
			continue;
		if (record_check(m, p, m->size - at, why, sizeof why))
			return at;
	}
	return m->size;
}

/*
 * One step of a walk over a segment, from *off (start at SEGMENT_HEAD):
 * a record, a run of damaged bytes (the walk goes on at the next intact
 * record), or the end.
 */
enum scan_step segment_next(const struct segment_map *m, size_t *off,
			    struct log_record *rec, struct log_damage *dmg)
{
	const uint8_t *p = m->p + *off;
	size_t len, next;

	if (*off >= m->size)
		return SCAN_END;
	len = record_check(m, p, m->size - *off, dmg->why, sizeof dmg->why);
	if (len == 0) {
		next = resync(m, *off);
		dmg->off = *off;
		dmg->len = next - *off;
		dmg->at_end = next == m->size;
		*off = next;
		return SCAN_DAMAGE;
	}
	rec->off = *off;
	rec->len = (uint32_t)len;
	rec->type = p[8];
	memcpy(rec->queue, p + RECORD_HEAD, p[9]);
	rec->queue[p[9]] = '\0';
	rec->body_off = *off + RECORD_HEAD + p[9];
	rec->body = m->p + rec->body_off;
	rec->body_len = *off + len - rec->body_off;
	*off += len;
	return SCAN_RECORD;
}
