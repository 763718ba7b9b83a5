/*
 * fuzz.h: what the libFuzzer harnesses share.
 *
 * Every format spsc reads is guarded by CRC32C checksums, and a mutated
 * input almost never carries a right one, so a fuzzer left alone would
 * spend its time on the first CRC check.  The harnesses therefore try each
 * input twice: as it is, and with its checksums recomputed (fix_frames,
 * fix_records), which lets mutations reach the code behind the checks.  A
 * valid seed is unchanged by the fix-up and runs once.
 */
#ifndef SPSC_FUZZ_H
#define SPSC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "crc32c.h"
#include "le.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken invariant is a finding: say which, and abort so that libFuzzer
 * saves the input. */
#define fuzz_assert(cond)                                                  \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",   \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

/*
 * Recomputes the payload and header CRCs of the frames laid end to end in
 * p, as far as they look like frames (magic, sane header length).  A frame
 * whose payload runs past the end gets its header CRC only.
 */
static inline void fix_frames(uint8_t *p, size_t len)
{
	size_t off = 0;

	while (len - off >= 8 && memcmp(p + off, ATOM_MAGIC, 4) == 0) {
		size_t hlen = le_get16(p + off + 6);
		uint32_t stored;

		if (hlen < ATOM_HEADER_LEN || hlen > ATOM_HEADER_MAX ||
		    hlen > len - off)
			return;
		stored = le_get32(p + off + 40);
		if (stored <= len - off - hlen)
			le_put32(p + off + 56, crc32c(0, p + off + hlen, stored));
		le_put32(p + off + hlen - 4, crc32c(0, p + off, hlen - 4));
		if (stored > len - off - hlen)
			return;
		off += hlen + stored;
	}
}

/* A copy the size of the input exactly, so that AddressSanitizer sees a
 * read one byte past it. */
static inline uint8_t *fuzz_copy(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);

	if (p == NULL)
		abort();
	if (size)
		memcpy(p, data, size);
	return p;
}

/* Runs a frame harness on the input as it is and, if recomputing its
 * frames' CRCs changes it, again on that: mutations then get past the
 * checksums to the code behind them. */
static inline void fuzz_frames(const uint8_t *data, size_t size,
			       void (*run)(const uint8_t *, size_t))
{
	uint8_t *p = fuzz_copy(data, size);

	run(p, size);
	fix_frames(p, size);
	if (memcmp(p, data, size) != 0)
		run(p, size);
	free(p);
}

/* xorshift64: chunk sizes and the like, derived from the input so that a
 * run is reproducible from the input alone. */
static inline uint64_t fuzz_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A byte stream handed out as a pipe would (feed.c, for the harnesses
 * linked with it and -Wl,--wrap=read): reads of fuzz_feed_fd are answered
 * from fuzz_feed, so the code under test runs its own read loops
 * unchanged.  Chunks are mostly small, splitting headers and payloads
 * anywhere; now and then a read fails with EINTR, or, for a reader of a
 * non-blocking descriptor (eagain), with EAGAIN.  rand is seeded from the
 * input, so a run reproduces from the input alone.
 */
struct fuzz_feed {
	const uint8_t *p;
	size_t left;
	uint64_t rand;
	int eagain;
};

extern struct fuzz_feed fuzz_feed;
extern int fuzz_feed_fd;	/* a real descriptor, so no other read is ours */
void fuzz_feed_open(void);

#endif
