/*
 * fuzz-atom-decode: one atom frame, as a ZeroMQ body part or a log record
 * body carries it, through atom_decode.
 *
 * Beyond "no crash": a frame that decodes must encode again (raw and
 * zstd) into a frame that decodes to the same atom, and a payload that
 * decodes always ends in a newline, as spsc-atom(5) promises.
 */
#include <string.h>

#include "fuzz.h"

/* Small enough that a header promising a huge payload costs nothing, big
 * enough for every input libFuzzer makes; the check is the same code. */
#define LIMIT ((size_t)1 << 20)

static struct atom_codec dec, raw_enc, zstd_enc;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	atom_codec_init(&dec, 0, LIMIT);
	atom_codec_init(&raw_enc, 0, LIMIT);
	atom_codec_init(&zstd_enc, 1, LIMIT);
	return 0;
}

static void same_atom(const struct atom *a, const struct atom *b)
{
	fuzz_assert(memcmp(a->id.b, b->id.b, sizeof a->id.b) == 0);
	fuzz_assert(a->created_ns == b->created_ns);
	fuzz_assert(a->events == b->events);
	fuzz_assert(a->attempt == b->attempt);
	fuzz_assert(a->fail_kind == b->fail_kind);
	fuzz_assert(a->fail_code == b->fail_code);
	fuzz_assert(a->tmin == b->tmin && a->tmax == b->tmax && a->wm == b->wm);
	fuzz_assert(a->len == b->len);
	fuzz_assert(a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void round_trip(struct atom_codec *enc, const struct atom *a)
{
	uint8_t hdr[ATOM_HEADER_BUF], *frame;
	const void *payload;
	size_t stored;
	struct atom b;
	char why[256];
	int hlen = atom_encode(enc, a, hdr, &payload, &stored);

	fuzz_assert(hlen == ATOM_HEADER_LEN || hlen == ATOM_HEADER_V2_LEN);
	frame = malloc((size_t)hlen + stored);
	fuzz_assert(frame != NULL);
	memcpy(frame, hdr, (size_t)hlen);
	if (stored)
		memcpy(frame + hlen, payload, stored);
	atom_init(&b);
	if (atom_decode(&dec, frame, (size_t)hlen + stored, &b, why, sizeof why) < 0) {
		fprintf(stderr, "re-encoded frame does not decode: %s\n", why);
		abort();
	}
	same_atom(a, &b);
	atom_free(&b);
	free(frame);
}

static void decode(const uint8_t *p, size_t size)
{
	struct atom a;
	char why[256] = "";

	atom_init(&a);
	if (atom_decode(&dec, p, size, &a, why, sizeof why) == 0) {
		fuzz_assert(a.len == 0 || a.data[a.len - 1] == '\n');
		round_trip(&raw_enc, &a);
		round_trip(&zstd_enc, &a);
	} else {
		/* Every refusal says why: the message is what users see. */
		fuzz_assert(why[0] != '\0');
	}
	atom_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_frames(data, size, decode);
	return 0;
}
