#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <zstd.h>

#include "atom.h"
#include "crc32c.h"
#include "le.h"
#include "fdio.h"
#include "grow.h"

#define READ_BUF (256 * 1024)
/* A payload this big is read straight into its atom, not through the
 * buffer: one more read(2) costs less than copying it out again. */
#define READ_DIRECT (32 * 1024)

void atom_init(struct atom *a)
{
	memset(a, 0, sizeof *a);
	a->tmin = a->tmax = a->wm = ATOM_TIME_NONE;
}

void atom_free(struct atom *a)
{
	free(a->data);
	atom_init(a);
}

/* Keeps the buffer: atoms are reused across the stream, no per-atom malloc. */
void atom_reset(struct atom *a)
{
	char *data = a->data;
	size_t cap = a->cap;

	atom_init(a);
	a->data = data;
	a->cap = cap;
}

int atom_reserve(struct atom *a, size_t len)
{
	return grow(&a->data, &a->cap, len, 1);
}

int atom_append(struct atom *a, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (atom_reserve(a, a->len + len) < 0)
		return -1;
	memcpy(a->data + a->len, buf, len);
	a->len += len;
	return 0;
}

/*
 * A payload is read by several checks on its way (the frame's CRC, a
 * source's atom id, a sink's journal): noting its CRC once lets the others
 * skip a pass over the bytes.  The note names the buffer and length it was
 * taken over, so that an atom whose data was replaced or appended to is
 * summed again rather than trusted.
 */
void atom_note_crc(struct atom *a, uint32_t crc)
{
	a->sum.data = a->data;
	a->sum.len = a->len;
	a->sum.crc = crc;
}

uint32_t atom_data_crc(const struct atom *a)
{
	if (a->sum.data == a->data && a->sum.len == a->len && a->data != NULL)
		return a->sum.crc;
	return crc32c(0, a->data, a->len);
}

/*
 * The watermark a stage may pass on downstream: its input's, held back by
 * the least event time of the atoms it still has in hand (held; NONE:
 * none with times), whose outputs are yet to come.  *promised is what it
 * passed on so far; it never goes back.
 */
int64_t atom_wm_pass(int64_t *promised, int64_t in_wm, int64_t held)
{
	int64_t wm = in_wm;

	if (wm != ATOM_TIME_NONE && held != ATOM_TIME_NONE && held < wm)
		wm = held;
	if (wm != ATOM_TIME_NONE && wm > *promised)
		*promised = wm;
	return *promised;
}

const char *atom_fail_name(int kind)
{
	static const char *names[] = { "none", "exit", "signal", "timeout",
				       "protocol", "output", "receives", "key",
				       "late" };

	if (kind < 0 || kind >= (int)(sizeof names / sizeof names[0]))
		return "unknown";
	return names[kind];
}

void atom_codec_init(struct atom_codec *c, int level, size_t limit)
{
	memset(c, 0, sizeof *c);
	c->level = level;
	c->limit = limit ? limit : ATOM_DEFAULT_LIMIT;
}

void atom_codec_free(struct atom_codec *c)
{
	ZSTD_freeCCtx(c->cctx);
	ZSTD_freeDCtx(c->dctx);
	free(c->scratch);
	memset(c, 0, sizeof *c);
}

static int scratch_reserve(struct atom_codec *c, size_t len)
{
	return grow(&c->scratch, &c->scratch_cap, len, 1);
}

/*
 * Compresses into the codec's scratch when a level is set and it pays; an
 * atom that zstd cannot shrink goes out raw, so readers never pay for a
 * decompression that saves nothing.
 */
static int compress_payload(struct atom_codec *c, const struct atom *a,
			    const void **payload, size_t *stored)
{
	size_t bound = ZSTD_compressBound(a->len), n;

	if (c->cctx == NULL && (c->cctx = ZSTD_createCCtx()) == NULL)
		return -1;
	if (scratch_reserve(c, bound) < 0)
		return -1;
	n = ZSTD_compressCCtx(c->cctx, c->scratch, bound, a->data, a->len,
			      c->level);
	if (ZSTD_isError(n) || n >= a->len)
		return 0;
	*payload = c->scratch;
	*stored = n;
	return 1;
}

/* Does the atom say anything about event time?  Only then does it need
 * a version 2 header: frames of untimed atoms stay as they always were. */
static int atom_timed(const struct atom *a)
{
	return a->tmin != ATOM_TIME_NONE || a->tmax != ATOM_TIME_NONE ||
	       a->wm != ATOM_TIME_NONE;
}

/* Returns the header's length (ATOM_HEADER_LEN, or ATOM_HEADER_V2_LEN for
 * an atom with event times), or -1 with errno set. */
int atom_encode(struct atom_codec *c, const struct atom *a,
		uint8_t hdr[ATOM_HEADER_BUF], const void **payload,
		size_t *stored)
{
	int codec = ATOM_CODEC_RAW;
	size_t hlen = atom_timed(a) ? ATOM_HEADER_V2_LEN : ATOM_HEADER_LEN;

	if (a->len > c->limit || a->len > UINT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	*payload = a->data;
	*stored = a->len;
	if (c->level > 0 && a->len > 0) {
		int rc = compress_payload(c, a, payload, stored);
		if (rc < 0) {
			errno = ENOMEM;
			return -1;
		}
		if (rc > 0)
			codec = ATOM_CODEC_ZSTD;
	}
	memset(hdr, 0, hlen);
	memcpy(hdr, ATOM_MAGIC, 4);
	hdr[4] = hlen == ATOM_HEADER_LEN ? 1 : 2;
	hdr[5] = (uint8_t)codec;
	le_put16(hdr + 6, (uint16_t)hlen);
	memcpy(hdr + ATOM_HEADER_ID, a->id.b, 16);
	le_put64(hdr + 24, (uint64_t)a->created_ns);
	le_put32(hdr + 32, a->events);
	le_put32(hdr + 36, a->attempt);
	le_put32(hdr + 40, (uint32_t)*stored);
	le_put32(hdr + 44, (uint32_t)a->len);
	hdr[48] = a->fail_kind;
	le_put32(hdr + 52, (uint32_t)a->fail_code);
	le_put32(hdr + 56, codec == ATOM_CODEC_RAW ? atom_data_crc(a)
						 : crc32c(0, *payload, *stored));
	if (hlen == ATOM_HEADER_V2_LEN) {
		le_put64(hdr + 60, (uint64_t)a->tmin);
		le_put64(hdr + 68, (uint64_t)a->tmax);
		le_put64(hdr + 76, (uint64_t)a->wm);
	}
	le_put32(hdr + hlen - 4, crc32c(0, hdr, hlen - 4));
	return (int)hlen;
}

/*
 * Rewrites the delivery fields of an encoded, already validated frame and
 * its header CRC: the coordinator stamps the receive count on every
 * delivery and the failure on a dead letter without re-encoding the
 * payload.
 */
void atom_header_restamp(uint8_t *frame, uint32_t attempt, uint8_t fail_kind,
			 int32_t fail_code)
{
	size_t header_len = le_get16(frame + 6);

	le_put32(frame + 36, attempt);
	frame[48] = fail_kind;
	le_put32(frame + 52, (uint32_t)fail_code);
	le_put32(frame + header_len - 4, crc32c(0, frame, header_len - 4));
}

/* The delivery count alone; a dead letter keeps its failure stamp. */
void atom_header_set_attempt(uint8_t *frame, uint32_t attempt)
{
	atom_header_restamp(frame, attempt, frame[48], (int32_t)le_get32(frame + 52));
}

/*
 * Returns 0 with the header decoded into a and f, 1 if avail is too short
 * (f->header_len then says how much is needed, or 8 if not yet known), or -1
 * with a reason in why.  Checks run from the cheapest that can tell garbage
 * from a frame (magic) to the most specific, so the message names the first
 * thing that is wrong.
 */
int atom_parse_header(const uint8_t *p, size_t avail, size_t limit,
		      struct atom *a, struct atom_frame *f, char *why,
		      size_t whylen)
{
	uint32_t want;

	f->header_len = 8;
	if (avail < 8)
		return 1;
	if (memcmp(p, ATOM_MAGIC, 4) != 0) {
		snprintf(why, whylen,
			 "not an atom frame (bad magic %02x %02x %02x %02x)",
			 p[0], p[1], p[2], p[3]);
		return -1;
	}
	if (p[4] < 1 || p[4] > ATOM_VERSION) {
		snprintf(why, whylen,
			 "unknown frame version %u (this reader knows 1 to %u)",
			 p[4], ATOM_VERSION);
		return -1;
	}
	f->header_len = le_get16(p + 6);
	if (f->header_len < (p[4] == 1 ? ATOM_HEADER_LEN : ATOM_HEADER_V2_LEN) ||
	    f->header_len > ATOM_HEADER_MAX) {
		snprintf(why, whylen, "bad header length %zu", f->header_len);
		return -1;
	}
	if (avail < f->header_len)
		return 1;
	want = le_get32(p + f->header_len - 4);
	if (crc32c(0, p, f->header_len - 4) != want) {
		snprintf(why, whylen, "header CRC mismatch");
		return -1;
	}
	f->codec = p[5];
	f->stored = le_get32(p + 40);
	f->raw = le_get32(p + 44);
	f->payload_crc = le_get32(p + 56);
	if (f->codec != ATOM_CODEC_RAW && f->codec != ATOM_CODEC_ZSTD) {
		snprintf(why, whylen, "unknown codec %d", f->codec);
		return -1;
	}
	if (f->stored > limit || f->raw > limit) {
		snprintf(why, whylen,
			 "frame of %u bytes is over the size limit of %zu bytes (see --max-atom)",
			 f->raw > f->stored ? f->raw : f->stored, limit);
		return -1;
	}
	if (f->codec == ATOM_CODEC_RAW && f->stored != f->raw) {
		snprintf(why, whylen, "raw frame with stored length %u != raw length %u",
			 f->stored, f->raw);
		return -1;
	}
	memcpy(a->id.b, p + 8, 16);
	a->created_ns = (int64_t)le_get64(p + 24);
	a->events = le_get32(p + 32);
	a->attempt = le_get32(p + 36);
	a->fail_kind = p[48];
	a->fail_code = (int32_t)le_get32(p + 52);
	a->tmin = a->tmax = a->wm = ATOM_TIME_NONE;
	if (p[4] >= 2) {
		a->tmin = (int64_t)le_get64(p + 60);
		a->tmax = (int64_t)le_get64(p + 68);
		a->wm = (int64_t)le_get64(p + 76);
	}
	return 0;
}

/*
 * Checks and, for zstd, decodes a payload.  For a raw frame the stored bytes
 * may already be a->data (readers place them there to avoid a copy).
 */
int atom_load_payload(struct atom_codec *c, const struct atom_frame *f,
		      const void *stored, struct atom *a, char *why,
		      size_t whylen)
{
	a->sum.data = NULL;	/* until these bytes are checked */
	if (crc32c(0, stored, f->stored) != f->payload_crc) {
		snprintf(why, whylen, "payload CRC mismatch");
		return -1;
	}
	if (atom_reserve(a, f->raw) < 0) {
		snprintf(why, whylen, "out of memory for a %u-byte atom", f->raw);
		return -1;
	}
	if (f->codec == ATOM_CODEC_ZSTD) {
		size_t n;
		if (c->dctx == NULL && (c->dctx = ZSTD_createDCtx()) == NULL) {
			snprintf(why, whylen, "out of memory for zstd");
			return -1;
		}
		n = ZSTD_decompressDCtx(c->dctx, a->data, f->raw, stored,
					f->stored);
		if (ZSTD_isError(n) || n != f->raw) {
			snprintf(why, whylen, "bad zstd payload: %s",
				 ZSTD_isError(n) ? ZSTD_getErrorName(n)
						 : "wrong decoded length");
			return -1;
		}
	} else if (stored != a->data && f->raw > 0) {
		/* An atom with no events may have no buffer at all: memcpy
		 * must not see a null pointer, even for zero bytes. */
		memcpy(a->data, stored, f->raw);
	}
	a->len = f->raw;
	if (a->len > 0 && a->data[a->len - 1] != '\n') {
		snprintf(why, whylen, "payload does not end with a newline");
		return -1;
	}
	if (f->codec == ATOM_CODEC_RAW)
		atom_note_crc(a, f->payload_crc);
	return 0;
}

/*
 * Decodes a frame given whole (payload NULL), or as its header alone and
 * then its payload: the coordinator serves large frames in two parts so
 * that the payload goes out from its log with no copy (spsc-protocol(7)).
 */
int atom_decode_parts(struct atom_codec *c, const void *head, size_t len,
		      const void *payload, size_t plen, struct atom *a, char *why,
		      size_t whylen)
{
	struct atom_frame f;
	int rc = atom_parse_header(head, len, c->limit, a, &f, why, whylen);

	if (rc == 1) {
		snprintf(why, whylen, "truncated frame header (%zu bytes)", len);
		return -1;
	}
	if (rc < 0)
		return -1;
	if (payload == NULL) {
		payload = (const uint8_t *)head + f.header_len;
		plen = len - f.header_len;
	} else if (len != f.header_len) {
		snprintf(why, whylen, "header part of %zu bytes != header %zu", len,
			 f.header_len);
		return -1;
	}
	if (plen != f.stored) {
		snprintf(why, whylen, "frame length %zu != header %zu + payload %u",
			 f.header_len + plen, f.header_len, f.stored);
		return -1;
	}
	return atom_load_payload(c, &f, payload, a, why, whylen);
}

int atom_decode(struct atom_codec *c, const void *buf, size_t len,
		struct atom *a, char *why, size_t whylen)
{
	return atom_decode_parts(c, buf, len, NULL, 0, a, why, whylen);
}

/* Is this a header alone, whose payload (not empty) comes apart?  Only
 * the lengths are looked at; decoding checks the rest. */
int atom_frame_is_head(const void *p, size_t len)
{
	const uint8_t *b = p;

	return len >= ATOM_HEADER_LEN && memcmp(b, ATOM_MAGIC, 4) == 0 &&
	       le_get16(b + 6) == len && le_get32(b + 40) > 0;
}

int atom_reader_init(struct atom_reader *r, int fd, const char *name,
		     struct atom_codec *codec)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->name = name;
	r->codec = codec;
	r->cap = READ_BUF;
	r->buf = malloc(r->cap);
	return r->buf ? 0 : -1;
}

void atom_reader_free(struct atom_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Makes at least want bytes available; 1 if so, 0 at EOF, -1 on error. */
static int fill(struct atom_reader *r, size_t want)
{
	if (r->end - r->start >= want)
		return 1;
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	while (r->end < want) {
		size_t room = r->cap - r->end;
		/* After a big payload the next is likely big too: take about a
		 * header, and let read_payload read the rest in place. */
		if (r->big && room > ATOM_HEADER_BUF && want - r->end <= ATOM_HEADER_BUF)
			room = ATOM_HEADER_BUF;
		ssize_t n = fd_read(r->fd, r->buf + r->end, room);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		r->end += (size_t)n;
	}
	return 1;
}

static int reader_fail(struct atom_reader *r, const char *what)
{
	r->failed = 1;
	snprintf(r->err, sizeof r->err, "%s: byte %llu: %s", r->name,
		 (unsigned long long)r->offset, what);
	return -1;
}

/* Moves the stored payload into place: buffered bytes first, then straight
 * from the fd into the destination so big atoms are not copied twice. */
static int read_payload(struct atom_reader *r, char *dst, size_t len)
{
	size_t have = r->end - r->start, got;
	char why[160];

	if (len == 0)
		return 0;	/* an empty atom: dst may be NULL */
	if (have > len)
		have = len;
	memcpy(dst, r->buf + r->start, have);
	r->start += have;
	if (have == len)
		return 0;
	if (fd_read_full(r->fd, dst + have, len - have, &got) < 0) {
		snprintf(why, sizeof why, "read error: %s", strerror(errno));
		return reader_fail(r, why);
	}
	if (have + got < len) {
		snprintf(why, sizeof why,
			 "truncated frame: header promises %zu payload bytes, input ends after %zu",
			 len, have + got);
		return reader_fail(r, why);
	}
	return 0;
}

/* 1: an atom was read; 0: clean end of input; -1: r->err says what is wrong. */
int atom_read(struct atom_reader *r, struct atom *a)
{
	struct atom_frame f = { .header_len = 8 };
	char why[256];
	char *dst;
	int rc;

	if (r->failed)
		return -1;
	atom_reset(a);
	for (;;) {
		rc = fill(r, f.header_len);
		if (rc < 0) {
			snprintf(why, sizeof why, "read error: %s", strerror(errno));
			return reader_fail(r, why);
		}
		if (rc == 0) {
			if (r->end == r->start && f.header_len == 8)
				return 0;
			snprintf(why, sizeof why,
				 "truncated frame header (%zu bytes at end of input)",
				 r->end - r->start);
			return reader_fail(r, why);
		}
		rc = atom_parse_header(r->buf + r->start, r->end - r->start,
				       r->codec->limit, a, &f, why, sizeof why);
		if (rc < 0)
			return reader_fail(r, why);
		if (rc == 0)
			break;
	}
	r->start += f.header_len;
	if (f.codec == ATOM_CODEC_RAW) {
		if (atom_reserve(a, f.stored) < 0)
			return reader_fail(r, "out of memory");
		dst = a->data;
	} else {
		if (scratch_reserve(r->codec, f.stored) < 0)
			return reader_fail(r, "out of memory");
		dst = r->codec->scratch;
	}
	if (read_payload(r, dst, f.stored) < 0)
		return -1;
	r->big = f.stored >= READ_DIRECT;
	if (atom_load_payload(r->codec, &f, dst, a, why, sizeof why) < 0)
		return reader_fail(r, why);
	r->offset += f.header_len + f.stored;
	return 1;
}

/* Bytes already read but not yet handed out: a caller that polls the fd must
 * drain these first, or it would wait for input it already has. */
size_t atom_reader_buffered(const struct atom_reader *r)
{
	return r->end - r->start;
}

void atom_writer_init(struct atom_writer *w, int fd, const char *name,
		      struct atom_codec *codec)
{
	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->name = name;
	w->codec = codec;
}

int atom_write(struct atom_writer *w, const struct atom *a)
{
	uint8_t hdr[ATOM_HEADER_BUF];
	struct iovec iov[2];
	const void *payload;
	size_t stored;
	int hlen = atom_encode(w->codec, a, hdr, &payload, &stored);

	if (hlen < 0) {
		snprintf(w->err, sizeof w->err, "%s: cannot encode atom: %s",
			 w->name, strerror(errno));
		return -1;
	}
	iov[0].iov_base = hdr;
	iov[0].iov_len = (size_t)hlen;
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = stored;
	if (fd_writev_all(w->fd, iov, stored ? 2 : 1) < 0) {
		snprintf(w->err, sizeof w->err, "%s: write error: %s", w->name,
			 strerror(errno));
		return -1;
	}
	w->offset += (size_t)hlen + stored;
	return 0;
}
