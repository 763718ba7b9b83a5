/*
 * feed: read(2), wrapped at link time, for the harnesses that fuzz a
 * reader of a stream (see fuzz.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

struct fuzz_feed fuzz_feed;
int fuzz_feed_fd = -1;

ssize_t __real_read(int fd, void *buf, size_t len);
ssize_t __wrap_read(int fd, void *buf, size_t len);

void fuzz_feed_open(void)
{
	fuzz_feed_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fuzz_feed_fd < 0)
		abort();
}

ssize_t __wrap_read(int fd, void *buf, size_t len)
{
	struct fuzz_feed *f = &fuzz_feed;
	uint64_t r;
	size_t n;

	if (fd != fuzz_feed_fd || fuzz_feed_fd < 0)
		return __real_read(fd, buf, len);
	r = fuzz_rand(&f->rand);
	if (r % 32 == 0 || (r % 32 == 1 && f->eagain)) {
		errno = r % 32 ? EAGAIN : EINTR;
		return -1;
	}
	n = (size_t)(r >> 8) % (r & 1 ? 16 : 4096) + 1;
	if (n > len)
		n = len;
	if (n > f->left)
		n = f->left;
	memcpy(buf, f->p, n);
	f->p += n;
	f->left -= n;
	return (ssize_t)n;
}
