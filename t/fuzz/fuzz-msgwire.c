/*
 * fuzz-msgwire: a byte stream through msgwire_read, as the coordinator
 * reads what any local client sends to its unix:// socket.
 *
 * As in fuzz-atom-stream, the stream comes in chunks of random sizes from
 * a wrapped read(2) (feed.c), with now and then an EINTR
 * or an EAGAIN.  The bounds are small (8 parts, 4096 bytes a message) so
 * that mutations reach them.
 *
 * Beyond "no crash" and no leak: the messages read, framed again here
 * from spsc-protocol(7)'s description (not with msgwire's writer), are
 * the input's first bytes exactly; the stream ends cleanly (errno 0) only
 * when they are all of it, and otherwise says why (EPIPE inside a
 * message, EMSGSIZE past a bound); every message keeps to the bounds.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "msgwire.h"

#define PARTS 8
#define BYTES 4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_feed_open();
	return 0;
}

/* Frames message m again into out at *at; 0 if it does not match what
 * the input holds there. */
static int same_bytes(const struct msgwire_in *in, const uint8_t *p, size_t size,
		      size_t *at)
{
	for (size_t i = 0; i < in->nparts; i++) {
		zmq_msg_t *m = &in->parts[i];
		size_t len = zmq_msg_size(m);
		uint32_t word = (uint32_t)len | (i + 1 < in->nparts ? MSGWIRE_MORE : 0);
		if (*at + 4 + len > size || le_get32(p + *at) != word ||
		    memcmp(p + *at + 4, zmq_msg_data(m), len) != 0)
			return 0;
		*at += 4 + len;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zmq_msg_t parts[PARTS];
	struct msgwire_in in;
	size_t at = 0, bytes;
	int rc;

	if (msgwire_in_init(&in, parts, PARTS, BYTES) < 0)
		abort();
	/* EAGAIN too: the coordinator reads a non-blocking socket */
	fuzz_feed = (struct fuzz_feed){ data, size, crc32c(0, data, size) | UINT64_C(1) << 40, 1 };
	for (;;) {
		errno = 0;
		rc = msgwire_read(&in, fuzz_feed_fd);
		if (rc == 0)
			continue;	/* a short read, or EAGAIN: call again */
		if (rc < 0)
			break;
		fuzz_assert(in.nparts >= 1 && in.nparts <= PARTS);
		bytes = 0;
		for (size_t i = 0; i < in.nparts; i++)
			bytes += zmq_msg_size(&in.parts[i]);
		fuzz_assert(bytes <= BYTES);
		fuzz_assert(same_bytes(&in, data, size, &at));
		for (size_t i = 0; i < in.nparts; i++)
			zmq_msg_close(&in.parts[i]);
	}
	fuzz_assert(fuzz_feed.left == 0 || errno == EMSGSIZE);
	if (errno == 0)
		fuzz_assert(at == size);
	else
		fuzz_assert((errno == EPIPE || errno == EMSGSIZE) && at < size);
	msgwire_in_free(&in);
	return 0;
}
