/*
 * stream: plain text from a pipe, FIFO or terminal.
 *
 * The input may pause for any length of time, so every read is preceded
 * by a wait that also ends when the pending atom has lingered long enough
 * (it is cut and written then) or when a signal arrives (what was read is
 * written, since a stream cannot be read again).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fdio.h"
#include "log.h"
#include "source.h"

/* Reads fd to its end after the prefix already taken from it; 0 if the
 * whole stream became atoms. */
int stream_ingest(struct source *src, int fd, const char *label,
		  const char *prefix, size_t prefix_len, int eof)
{
	struct batcher b;
	ssize_t n;
	int rc, w;

	batcher_init(&b, src);
	if (batcher_start(&b, label) < 0)
		return -1;
	rc = batcher_feed(&b, prefix, prefix_len);
	while (rc == 0 && !eof && !src->stopping) {
		if (batcher_linger(&b) < 0) {
			rc = -1;
			break;
		}
		w = source_wait(src, fd, batcher_deadline(&b));
		if (w < 0) {
			rc = -1;
			break;
		}
		if (w == 0)
			continue;	/* lingered or stopping: see above */
		n = fd_read(fd, src->block, SOURCE_READ_BLOCK);
		if (n < 0) {
			log_error("%s: byte %" PRIu64 ": read error: %s", label,
				  b.offset, strerror(errno));
			src->failed = 1;
			rc = -1;
		} else if (n == 0) {
			eof = 1;
		} else {
			rc = batcher_feed(&b, src->block, (size_t)n);
		}
	}
	if (!b.failed && !src->fatal && batcher_finish(&b) < 0)
		rc = -1;
	batcher_free(&b);
	return rc;
}
