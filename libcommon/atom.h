/*
 * atom: a batch of events with a header, and the frame that carries it.
 *
 * The same frame is used on pipes, in files, in ZeroMQ messages and in the
 * coordinator's log; spsc-atom(5) is its specification.  All integers are
 * little-endian.
 *
 *   off len  field
 *     0   4  magic "SPSC"
 *     4   1  version: 1, or 2 when the atom carries event times
 *     5   1  codec: 0 raw, 1 zstd
 *     6   2  header length H (64 in version 1, 88 in version 2; readers
 *            skip the bytes between the fields they know and H-4)
 *     8  16  atom id
 *    24   8  created-at, ns since the Unix epoch
 *    32   4  number of events
 *    36   4  attempt (deliveries or invocations so far)
 *    40   4  stored payload length (after the codec)
 *    44   4  raw payload length (events, each ending in '\n')
 *    48   1  failure kind (enum atom_fail), 0 unless dead-lettered
 *    49   3  reserved, zero
 *    52   4  failure code: exit status, signal number or 0
 *    56   4  CRC32C of the stored payload
 *   version 2 only (signed; INT64_MIN: not known):
 *    60   8  min event time, ns since the epoch
 *    68   8  max event time
 *    76   8  watermark of the producer when it made the atom
 *            (INT64_MAX: the end of its input)
 *  H-4    4  CRC32C of header bytes 0..H-5
 *     H      stored payload
 */
#ifndef SPSC_ATOM_H
#define SPSC_ATOM_H

#include <stddef.h>
#include <stdint.h>

#include "atomid.h"

#define ATOM_MAGIC "SPSC"
#define ATOM_VERSION 2		/* the newest this code reads and writes */
#define ATOM_HEADER_LEN 64	/* version 1: the shortest header */
#define ATOM_HEADER_V2_LEN 88
#define ATOM_HEADER_BUF ATOM_HEADER_V2_LEN	/* room for what we write */
#define ATOM_HEADER_MAX 4096
#define ATOM_HEADER_ID 8	/* where a frame's 16-byte id lies */
#define ATOM_DEFAULT_LIMIT ((size_t)64 << 20)
#define ATOM_LIMIT_MAX ((size_t)1 << 31)

enum { ATOM_CODEC_RAW = 0, ATOM_CODEC_ZSTD = 1 };

/* Why an atom was dead-lettered; recorded in its header. */
enum atom_fail {
	ATOM_FAIL_NONE = 0,
	ATOM_FAIL_EXIT = 1,	/* non-zero exit status; code is the status */
	ATOM_FAIL_SIGNAL = 2,	/* killed by a signal; code is the signal */
	ATOM_FAIL_TIMEOUT = 3,	/* ran past its deadline */
	ATOM_FAIL_PROTOCOL = 4, /* warm child broke the framing */
	ATOM_FAIL_OUTPUT = 5,	/* output could not be framed (too large) */
	ATOM_FAIL_RECEIVES = 6, /* delivered max-receives times */
	ATOM_FAIL_KEY = 7,	/* events without a usable key; code: how many */
	ATOM_FAIL_LATE = 8,	/* events behind the watermark; code: how many */
};

/* Event times in ns since the Unix epoch.  NONE: the atom says nothing;
 * END: the watermark at the end of input (no event will ever follow). */
#define ATOM_TIME_NONE INT64_MIN
#define ATOM_TIME_END INT64_MAX

struct atom {
	struct atom_id id;
	int64_t created_ns;
	uint32_t events;
	uint32_t attempt;
	uint8_t fail_kind;
	int32_t fail_code;
	int64_t tmin, tmax;	/* event times of its events, or NONE */
	int64_t wm;		/* producer's watermark when made, or NONE */
	char *data;	/* raw events; len bytes, each event ends in '\n' */
	size_t len;
	size_t cap;
	/* The CRC-32C of data[0..len) when someone already computed it (a
	 * decoder that checked it, a source that hashed the bytes): see
	 * atom_data_crc.  It speaks for those bytes only while data and len
	 * are what they were when it was noted. */
	struct {
		const char *data;
		size_t len;
		uint32_t crc;
	} sum;
};

void atom_init(struct atom *a);
void atom_free(struct atom *a);
void atom_reset(struct atom *a);
int atom_reserve(struct atom *a, size_t len);
int atom_append(struct atom *a, const void *buf, size_t len);
void atom_note_crc(struct atom *a, uint32_t crc);
uint32_t atom_data_crc(const struct atom *a);
const char *atom_fail_name(int kind);
int64_t atom_wm_pass(int64_t *promised, int64_t in_wm, int64_t held);

/*
 * A codec holds what encoding and decoding reuse from atom to atom: zstd
 * contexts, a scratch buffer, the compression level (0: never compress) and
 * the size limit that every incoming frame is checked against.
 */
struct atom_codec {
	int level;
	size_t limit;
	void *cctx;
	void *dctx;
	char *scratch;
	size_t scratch_cap;
};

void atom_codec_init(struct atom_codec *c, int level, size_t limit);
void atom_codec_free(struct atom_codec *c);

/* What a header says about the payload that follows it. */
struct atom_frame {
	size_t header_len;
	int codec;
	uint32_t stored;
	uint32_t raw;
	uint32_t payload_crc;
};

int atom_encode(struct atom_codec *c, const struct atom *a,
		uint8_t hdr[ATOM_HEADER_BUF], const void **payload,
		size_t *stored);
int atom_parse_header(const uint8_t *p, size_t avail, size_t limit,
		      struct atom *a, struct atom_frame *f, char *why,
		      size_t whylen);
int atom_load_payload(struct atom_codec *c, const struct atom_frame *f,
		      const void *stored, struct atom *a, char *why,
		      size_t whylen);
void atom_header_restamp(uint8_t *frame, uint32_t attempt, uint8_t fail_kind,
			 int32_t fail_code);
void atom_header_set_attempt(uint8_t *frame, uint32_t attempt);
int atom_decode(struct atom_codec *c, const void *buf, size_t len,
		struct atom *a, char *why, size_t whylen);
int atom_decode_parts(struct atom_codec *c, const void *head, size_t len,
		      const void *payload, size_t plen, struct atom *a, char *why,
		      size_t whylen);
int atom_frame_is_head(const void *p, size_t len);

/* A stream of frames read from a file descriptor. */
struct atom_reader {
	int fd;
	const char *name;	/* for messages: "stdin", a path */
	uint64_t offset;	/* bytes of whole frames consumed */
	struct atom_codec *codec;
	uint8_t *buf;
	size_t start, end, cap;
	int big;		/* the last payload was big: read headers alone */
	int failed;
	char err[512];
};

int atom_reader_init(struct atom_reader *r, int fd, const char *name,
		     struct atom_codec *codec);
void atom_reader_free(struct atom_reader *r);
int atom_read(struct atom_reader *r, struct atom *a);
size_t atom_reader_buffered(const struct atom_reader *r);

/* A stream of frames written to a file descriptor. */
struct atom_writer {
	int fd;
	const char *name;
	uint64_t offset;
	struct atom_codec *codec;
	char err[512];
};

void atom_writer_init(struct atom_writer *w, int fd, const char *name,
		      struct atom_codec *codec);
int atom_write(struct atom_writer *w, const struct atom *a);

#endif
