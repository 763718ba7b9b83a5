/*
 * fuzz-atom-stream: a byte stream of frames through atom_reader, as a pipe
 * or a file of frames would deliver it.
 *
 * A pipe hands the reader whatever has arrived, so the stream is fed in
 * chunks of random sizes (one byte to a few KiB, now and then an EINTR)
 * by read(2) itself, wrapped at link time (feed.c), so
 * libcommon's own fdio loops run unchanged.
 *
 * Beyond "no crash": every atom read ends in a newline; a clean end of
 * input comes only after every byte was consumed as whole frames; and an
 * error is sticky and says what went wrong.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"

#define LIMIT ((size_t)1 << 20)

static struct atom_codec codec;
/* A reader as atom_reader_init leaves it.  Each input starts from a copy:
 * allocating its 256 KiB buffer afresh would cost an mmap and a munmap per
 * input under AddressSanitizer, and most of the fuzzer's time. */
static struct atom_reader pristine;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	atom_codec_init(&codec, 0, LIMIT);
	fuzz_feed_open();
	if (atom_reader_init(&pristine, fuzz_feed_fd, "fuzz", &codec) < 0)
		abort();
	return 0;
}

static void read_stream(const uint8_t *p, size_t size)
{
	struct atom_reader r;
	struct atom a;
	uint64_t frames = 0;
	int rc;

	fuzz_feed = (struct fuzz_feed){ p, size, crc32c(0, p, size) | UINT64_C(1) << 40, 0 };
	r = pristine;
	atom_init(&a);
	while ((rc = atom_read(&r, &a)) == 1) {
		fuzz_assert(a.len == 0 || a.data[a.len - 1] == '\n');
		fuzz_assert(r.offset <= size);
		frames++;
	}
	if (rc == 0) {
		fuzz_assert(r.offset == size);
		fuzz_assert(atom_reader_buffered(&r) == 0);
	} else {
		fuzz_assert(rc == -1 && r.failed && r.err[0] != '\0');
		fuzz_assert(atom_read(&r, &a) == -1);
	}
	/* Every frame is at least a header long. */
	fuzz_assert(frames * ATOM_HEADER_LEN <= size);
	atom_free(&a);
	/* Should the reader ever grow its buffer, the copy follows it. */
	pristine.buf = r.buf;
	pristine.cap = r.cap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_frames(data, size, read_stream);
	return 0;
}
