/* The atom codec: round trips, compression, and every way a frame can be
 * wrong. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atom.h"
#include "crc32c.h"
#include "le.h"
#include "tap.h"

static void fill_atom(struct atom *a, const char *text)
{
	atom_reset(a);
	atom_append(a, text, strlen(text));
	a->events = 0;
	for (const char *p = text; *p; p++)
		a->events += *p == '\n';
	a->id = atomid_source("test", "label", 7, 0, strlen(text));
	a->created_ns = 1234567890123;
	a->attempt = 2;
}

static size_t encode(struct atom_codec *c, const struct atom *a, uint8_t *out)
{
	uint8_t hdr[ATOM_HEADER_BUF];
	const void *payload;
	size_t stored;
	int hlen = atom_encode(c, a, hdr, &payload, &stored);

	if (hlen < 0)
		return 0;
	memcpy(out, hdr, (size_t)hlen);
	memcpy(out + hlen, payload, stored);
	return (size_t)hlen + stored;
}

/* A codec, an atom to encode, one to decode into, and room for why. */
struct fixture {
	struct atom_codec c;
	struct atom a, b;
	char why[256];
};

static void setup(struct fixture *f, int level)
{
	atom_codec_init(&f->c, level, 0);
	atom_init(&f->a);
	atom_init(&f->b);
	f->why[0] = '\0';
}

static void teardown(struct fixture *f)
{
	atom_free(&f->a);
	atom_free(&f->b);
	atom_codec_free(&f->c);
}

/* Bit by bit, straight from the polynomial: the reference for crc32c and
 * crc32c_portable, at any length and alignment. */
static uint32_t crc_bitwise(const unsigned char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
	}
	return ~c;
}

static void test_crc_lengths(void)
{
	static unsigned char buf[20000];
	static const size_t lens[] = { 0, 1, 7, 8, 3071, 3072, 3073, 6144,
				       9999, 19990 };
	int bad = 0;

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
		for (size_t off = 0; off < 9; off += 4)
			bad += (crc32c(0, buf + off, lens[i]) != crc_bitwise(buf + off, lens[i])) +
			       (crc32c_portable(0, buf + off, lens[i]) != crc_bitwise(buf + off, lens[i]));
	bad += crc32c(crc32c(0, buf, 5000), buf + 5000, 12000) != crc_bitwise(buf, 17000);
	ok(bad == 0, "crc32c agrees with the bitwise CRC at every length (%d wrong)", bad);
}

static void test_crc(void)
{
	ok(crc32c(0, "123456789", 9) == 0xE3069283u, "crc32c check value");
	ok(crc32c(crc32c(0, "1234", 4), "56789", 5) == 0xE3069283u,
	   "crc32c continues a running sum");
	test_crc_lengths();
}

static void test_roundtrip(int level)
{
	static uint8_t buf[1 << 16];
	struct fixture f;
	char text[4000] = "";
	size_t n;

	for (int i = 0; i < 100; i++)
		strcat(text, "the same line again and again\n");
	setup(&f, level);
	fill_atom(&f.a, text);
	n = encode(&f.c, &f.a, buf);
	ok(n > 0, "encode at level %d", level);
	ok(level == 0 ? n == ATOM_HEADER_LEN + f.a.len : n < f.a.len,
	   "level %d stores %zu bytes for %zu", level, n, f.a.len);
	ok(atom_decode(&f.c, buf, n, &f.b, f.why, sizeof f.why) == 0,
	   "decode at level %d %s", level, f.why);
	ok(f.b.len == f.a.len && memcmp(f.a.data, f.b.data, f.a.len) == 0,
	   "payload survives");
	ok(atomid_equal(&f.a.id, &f.b.id) && f.b.created_ns == f.a.created_ns &&
		   f.b.events == 100 && f.b.attempt == 2,
	   "header fields survive");
	teardown(&f);
}

/* A noted payload CRC saves a pass, and is never trusted for other bytes. */
static void test_noted_crc(void)
{
	static uint8_t plain[256], noted[256];
	struct fixture f;
	size_t n;

	setup(&f, 0);
	fill_atom(&f.a, "one\ntwo\n");
	n = encode(&f.c, &f.a, plain);
	atom_note_crc(&f.a, crc32c(0, f.a.data, f.a.len));
	ok(encode(&f.c, &f.a, noted) == n && memcmp(plain, noted, n) == 0,
	   "a frame made with the noted CRC is the frame made without");
	atom_note_crc(&f.a, 0xdeadbeef);
	atom_append(&f.a, "three\n", 6);
	ok(atom_data_crc(&f.a) == crc32c(0, f.a.data, f.a.len),
	   "after an append the note no longer speaks for the bytes");
	ok(atom_decode(&f.c, plain, n, &f.b, f.why, sizeof f.why) == 0 &&
		   f.b.sum.data == f.b.data &&
		   f.b.sum.crc == crc32c(0, f.b.data, f.b.len),
	   "decoding a raw frame notes the CRC it checked %s", f.why);
	plain[n - 1] = 'x';	/* the payload no longer ends with a newline */
	le_put32(plain + 56, crc32c(0, plain + ATOM_HEADER_LEN, f.b.len));
	le_put32(plain + ATOM_HEADER_LEN - 4, crc32c(0, plain, ATOM_HEADER_LEN - 4));
	ok(atom_decode(&f.c, plain, n, &f.b, f.why, sizeof f.why) < 0 &&
		   atom_data_crc(&f.b) == crc32c(0, f.b.data, f.b.len),
	   "a frame that fails to decode leaves no note behind");
	teardown(&f);
}

/* Event times make a version 2 header; without them the frame is the
 * version 1 frame it always was. */
static void test_times(void)
{
	static uint8_t buf[1 << 12];
	struct fixture f;
	size_t n;

	setup(&f, 0);
	fill_atom(&f.a, "x\n");
	n = encode(&f.c, &f.a, buf);
	ok(n == ATOM_HEADER_LEN + 2 && buf[4] == 1, "untimed atom: version 1");
	f.a.tmin = -5;
	f.a.tmax = 1700000000000000000;
	f.a.wm = ATOM_TIME_END;
	n = encode(&f.c, &f.a, buf);
	ok(n == ATOM_HEADER_V2_LEN + 2 && buf[4] == 2, "timed atom: version 2");
	ok(atom_decode(&f.c, buf, n, &f.b, f.why, sizeof f.why) == 0 && f.b.tmin == -5 &&
		   f.b.tmax == f.a.tmax && f.b.wm == ATOM_TIME_END && f.b.events == f.a.events,
	   "event times survive %s", f.why);
	teardown(&f);
}

/* A frame served in two parts (its header, then its payload) decodes as
 * the whole frame does; parts that do not fit together are refused. */
static void test_parts(void)
{
	static uint8_t buf[1 << 12];
	struct fixture f;
	size_t n;

	setup(&f, 0);
	fill_atom(&f.a, "one\ntwo\n");
	n = encode(&f.c, &f.a, buf);
	ok(atom_frame_is_head(buf, ATOM_HEADER_LEN) && !atom_frame_is_head(buf, n),
	   "a header alone is a head; the whole frame is not");
	ok(atom_decode_parts(&f.c, buf, ATOM_HEADER_LEN, buf + ATOM_HEADER_LEN,
			     n - ATOM_HEADER_LEN, &f.b, f.why, sizeof f.why) == 0 &&
		   f.b.len == f.a.len && memcmp(f.a.data, f.b.data, f.a.len) == 0,
	   "header and payload apart decode as one frame %s", f.why);
	ok(atom_decode_parts(&f.c, buf, ATOM_HEADER_LEN, buf + ATOM_HEADER_LEN,
			     n - ATOM_HEADER_LEN - 1, &f.b, f.why, sizeof f.why) < 0 &&
		   strstr(f.why, "frame length") != NULL,
	   "a payload part short of the header's length is refused: %s", f.why);
	ok(atom_decode_parts(&f.c, buf, ATOM_HEADER_LEN + 1, buf + ATOM_HEADER_LEN + 1,
			     n - ATOM_HEADER_LEN - 1, &f.b, f.why, sizeof f.why) < 0 &&
		   strstr(f.why, "header part") != NULL,
	   "a header part longer than the header is refused: %s", f.why);
	teardown(&f);
}

static int decode_fails(uint8_t *buf, size_t n, size_t limit, const char *want)
{
	struct atom_codec c;
	struct atom b;
	char why[256] = "";
	int rc;

	atom_codec_init(&c, 0, limit);
	atom_init(&b);
	rc = atom_decode(&c, buf, n, &b, why, sizeof why);
	atom_free(&b);
	atom_codec_free(&c);
	if (rc == 0 || strstr(why, want) == NULL) {
		printf("# got '%s', wanted '%s'\n", why, want);
		return 0;
	}
	return 1;
}

static void test_bad_frames(void)
{
	static uint8_t buf[4096], copy[4096];
	struct atom_codec c;
	struct atom a;
	size_t n;

	atom_codec_init(&c, 0, 0);
	atom_init(&a);
	fill_atom(&a, "alpha\nbeta\n");
	n = encode(&c, &a, buf);

	memcpy(copy, buf, n);
	copy[0] = 'X';
	ok(decode_fails(copy, n, 0, "bad magic"), "bad magic is named");
	memcpy(copy, buf, n);
	copy[4] = 9;
	ok(decode_fails(copy, n, 0, "unknown frame version 9"),
	   "unknown version is named");
	memcpy(copy, buf, n);
	copy[30] ^= 1;
	ok(decode_fails(copy, n, 0, "header CRC"), "header corruption is caught");
	memcpy(copy, buf, n);
	copy[n - 2] ^= 1;
	ok(decode_fails(copy, n, 0, "payload CRC"), "payload corruption is caught");
	ok(decode_fails(buf, n - 1, 0, "frame length"), "short frame is caught");
	ok(decode_fails(buf, 5, 0, "truncated frame header"),
	   "short header is caught");
	ok(decode_fails(buf, n, 4, "over the size limit"), "size limit holds");

	atom_free(&a);
	atom_codec_free(&c);
}

static void test_reader(void)
{
	static uint8_t buf[4096];
	struct atom_codec c;
	struct atom_reader r;
	struct atom a;
	size_t n;
	int fds[2];

	atom_codec_init(&c, 0, 0);
	atom_init(&a);
	fill_atom(&a, "one\ntwo\n");
	n = encode(&c, &a, buf);
	if (pipe(fds) < 0)
		return;
	ok(write(fds[1], buf, n) == (ssize_t)n && write(fds[1], buf, n) == (ssize_t)n &&
		   write(fds[1], buf, 10) == 10,
	   "two frames and a torn one written");
	close(fds[1]);
	atom_reader_init(&r, fds[0], "pipe", &c);
	ok(atom_read(&r, &a) == 1 && a.events == 2, "first frame read");
	ok(atom_read(&r, &a) == 1 && r.offset == 2 * n, "second frame read");
	ok(atom_read(&r, &a) == -1 && strstr(r.err, "truncated") &&
		   strstr(r.err, "pipe: byte "),
	   "torn tail reported with offset: %s", r.err);
	atom_reader_free(&r);
	close(fds[0]);
	atom_free(&a);
	atom_codec_free(&c);
}

/* A text of n bytes of 10-byte lines, made from seed. */
static void lines_of(char *text, size_t n, char seed)
{
	for (size_t i = 0; i < n; i++)
		text[i] = i % 10 == 9 ? '\n' : (char)('a' + (seed + i / 10) % 26);
	text[n] = '\0';
}

/*
 * Big payloads are read straight into their atom, with only about a
 * header read ahead; small ones through the buffer, many at a time.  A
 * stream that switches between the two, either way, reads back whole.
 */
static void test_reader_sizes(void)
{
	static const size_t sizes[] = { 40000, 10, 20, 100000, 200000, 30, 65540, 50 };
	static char text[200001];
	static uint8_t frame[200001 + ATOM_HEADER_BUF];
	struct atom_codec c;
	struct atom_reader r;
	struct atom a;
	size_t i, n, good = 0;
	FILE *f = tmpfile();

	atom_codec_init(&c, 0, 0);
	atom_init(&a);
	for (i = 0; f && i < sizeof sizes / sizeof sizes[0]; i++) {
		lines_of(text, sizes[i], (char)i);
		fill_atom(&a, text);
		n = encode(&c, &a, frame);
		if (fwrite(frame, 1, n, f) != n)
			break;
	}
	ok(f && fflush(f) == 0 && i == sizeof sizes / sizeof sizes[0],
	   "frames of big and small payloads written");
	if (f == NULL)
		return;
	rewind(f);
	atom_reader_init(&r, fileno(f), "mixed", &c);
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		lines_of(text, sizes[i], (char)i);
		if (atom_read(&r, &a) == 1 && a.len == sizes[i] &&
		    memcmp(a.data, text, a.len) == 0)
			good++;
	}
	ok(good == i, "every frame read back whole (%zu of %zu)", good, i);
	ok(atom_read(&r, &a) == 0 && atom_reader_buffered(&r) == 0,
	   "then the clean end");
	atom_reader_free(&r);
	fclose(f);
	atom_free(&a);
	atom_codec_free(&c);
}

int main(void)
{
	test_crc();
	test_roundtrip(0);
	test_roundtrip(3);
	test_noted_crc();
	test_times();
	test_parts();
	test_bad_frames();
	test_reader();
	test_reader_sizes();
	return tap_done();
}
