/*
 * fuzz-atom-stream: a byte stream of frames through atom_reader, as a pipe
 * or a file of frames would deliver it.
 *
 * A pipe hands the reader whatever has arrived, so the stream is fed in
 * chunks of random sizes (one byte to a few KiB, now and then an EINTR),
 * drawn from a generator seeded by the input: a crash reproduces from the
 * input alone.  The chunks come from read(2) itself, wrapped at link time
 * (-Wl,--wrap=read), so libcommon's own fdio loops run unchanged.
 *
 * Beyond "no crash": every atom read ends in a newline; a clean end of
 * input comes only after every byte was consumed as whole frames; and an
 * error is sticky and says what went wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define LIMIT ((size_t)1 << 20)

ssize_t __real_read(int fd, void *buf, size_t len);
ssize_t __wrap_read(int fd, void *buf, size_t len);

static struct atom_codec codec;
/* A reader as atom_reader_init leaves it.  Each input starts from a copy:
 * allocating its 256 KiB buffer afresh would cost an mmap and a munmap per
 * input under AddressSanitizer, and most of the fuzzer's time. */
static struct atom_reader pristine;
static int stream_fd = -1;	/* a real descriptor, so no other read is ours */
static const uint8_t *feed;
static size_t feed_left;
static uint64_t feed_rand;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	atom_codec_init(&codec, 0, LIMIT);
	stream_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (stream_fd < 0 ||
	    atom_reader_init(&pristine, stream_fd, "fuzz", &codec) < 0)
		abort();
	return 0;
}

ssize_t __wrap_read(int fd, void *buf, size_t len)
{
	uint64_t r;
	size_t n;

	if (fd != stream_fd || stream_fd < 0)
		return __real_read(fd, buf, len);
	r = fuzz_rand(&feed_rand);
	if (r % 32 == 0) {
		errno = EINTR;
		return -1;
	}
	/* Mostly small chunks, which split headers and payloads anywhere. */
	n = (size_t)(r >> 8) % (r & 1 ? 16 : 4096) + 1;
	if (n > len)
		n = len;
	if (n > feed_left)
		n = feed_left;
	memcpy(buf, feed, n);
	feed += n;
	feed_left -= n;
	return (ssize_t)n;
}

static void read_stream(const uint8_t *p, size_t size)
{
	struct atom_reader r;
	struct atom a;
	uint64_t frames = 0;
	int rc;

	feed = p;
	feed_left = size;
	feed_rand = crc32c(0, p, size) | UINT64_C(1) << 40;
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
