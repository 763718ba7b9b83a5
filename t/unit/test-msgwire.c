/*
 * msgwire: multipart messages over a stream socket.  A socketpair with
 * small buffers, both ends non-blocking in one process, forces the short
 * writes and split reads that the framing exists to hide; the bounds and
 * the two kinds of end of stream are checked by their errno.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msgwire.h"
#include "tap.h"

#define NMSG 300
#define PARTS_MAX 8

static unsigned char pattern(size_t msg, size_t part, size_t i)
{
	return (unsigned char)(msg * 7 + part * 31 + i * 131 + i / 4099);
}

/* Part sizes cover the empty part, the read-ahead buffer's edges and
 * parts long enough to be read straight into their message. */
static size_t part_len(size_t msg, size_t part)
{
	static const size_t sizes[] = { 0, 1, 3, 4, 5, 100, 65535, 65536, 65540,
					MSGWIRE_BUF - 1, MSGWIRE_BUF,
					MSGWIRE_BUF + 4, 300000 };
	return sizes[(msg * 5 + part * 3) % (sizeof sizes / sizeof sizes[0])];
}

static size_t nparts_of(size_t msg)
{
	return 1 + msg % 5;
}

static int pair(int sv[2], int bufsize)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return -1;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
	return 0;
}

/* Queues message m, half of its parts owned messages, half borrowed. */
static int queue_msg(struct msgwire_out *o, size_t m, unsigned char **bufs)
{
	size_t np = nparts_of(m);

	for (size_t p = 0; p < np; p++) {
		size_t len = part_len(m, p);
		int more = p + 1 < np;
		if ((m + p) % 2) {
			zmq_msg_t z;
			zmq_msg_init_size(&z, len);
			for (size_t i = 0; i < len; i++)
				((unsigned char *)zmq_msg_data(&z))[i] = pattern(m, p, i);
			if (msgwire_push_msg(o, &z, more) < 0)
				return -1;
		} else {
			bufs[p] = malloc(len + 1);
			for (size_t i = 0; i < len; i++)
				bufs[p][i] = pattern(m, p, i);
			if (msgwire_push_ref(o, bufs[p], len, more) < 0)
				return -1;
		}
	}
	return 0;
}

static int check_msg(const struct msgwire_in *in, size_t m)
{
	if (in->nparts != nparts_of(m))
		return 0;
	for (size_t p = 0; p < in->nparts; p++) {
		zmq_msg_t *z = &in->parts[p];
		const unsigned char *d = zmq_msg_data(z);
		if (zmq_msg_size(z) != part_len(m, p))
			return 0;
		for (size_t i = 0; i < zmq_msg_size(z); i++)
			if (d[i] != pattern(m, p, i))
				return 0;
	}
	return 1;
}

/* Every message, through a 4 KiB socket buffer, one at a time on the
 * writing side (so borrowed bytes outlive their writes), all in order. */
static void round_trip(void)
{
	struct msgwire_out out = { 0 };
	struct msgwire_in in;
	zmq_msg_t parts[PARTS_MAX];
	unsigned char *bufs[PARTS_MAX];
	int sv[2], good = 1, rc = 0;
	size_t got = 0, writes = 0;

	if (pair(sv, 4096) < 0 || msgwire_in_init(&in, parts, PARTS_MAX, 1 << 20) < 0) {
		ok(0, "socketpair and reader");
		return;
	}
	for (size_t m = 0; m < NMSG && good; m++) {
		memset(bufs, 0, sizeof bufs);
		good = queue_msg(&out, m, bufs) == 0;
		while (good && (msgwire_pending(&out) > 0 || got <= m)) {
			if (msgwire_pending(&out) > 0) {
				good = msgwire_write(&out, sv[0]) >= 0;
				writes++;
			}
			while (good && (rc = msgwire_read(&in, sv[1])) == 1) {
				good = check_msg(&in, got++);
				for (size_t p = 0; p < in.nparts; p++)
					zmq_msg_close(&in.parts[p]);
			}
			good &= rc >= 0;
		}
		for (size_t p = 0; p < PARTS_MAX; p++)
			free(bufs[p]);
	}
	ok(good && got == NMSG, "%d messages of 1 to 5 parts (0 to 300000 bytes) arrive whole and in order (got %zu)",
	   NMSG, got);
	ok(writes > NMSG, "the small buffer made writes stop short (%zu calls for %d messages)",
	   writes, NMSG);
	close(sv[0]);
	ok(msgwire_read(&in, sv[1]) == -1 && errno == 0,
	   "a stream closed between messages ends with errno 0");
	close(sv[1]);
	msgwire_in_free(&in);
	msgwire_out_free(&out);
}

/* Writes raw bytes to one end and reads a message from the other. */
static int read_raw(const void *bytes, size_t len, int close_after, size_t max_parts,
		    size_t max_bytes, int *err)
{
	zmq_msg_t parts[PARTS_MAX];
	struct msgwire_in in;
	int sv[2], rc;

	if (pair(sv, 1 << 16) < 0 || msgwire_in_init(&in, parts, max_parts, max_bytes) < 0)
		return -2;
	if (write(sv[0], bytes, len) != (ssize_t)len)
		return -2;
	if (close_after)
		close(sv[0]);
	/* 0 says "wait and call again": with the writer gone, the second
	 * call finds the end of the stream */
	rc = msgwire_read(&in, sv[1]);
	if (rc == 0 && close_after)
		rc = msgwire_read(&in, sv[1]);
	*err = errno;
	if (rc == 1)
		for (size_t p = 0; p < in.nparts; p++)
			zmq_msg_close(&in.parts[p]);
	msgwire_in_free(&in);
	if (!close_after)
		close(sv[0]);
	close(sv[1]);
	return rc;
}

static void bounds_and_ends(void)
{
	/* 10 bytes announced, more parts flag clear */
	static const unsigned char big[] = { 10, 0, 0, 0, 'a', 'b' };
	/* three empty parts, each saying another follows, then a last */
	static const unsigned char many[] = { 0, 0, 0, 0x80, 0, 0, 0, 0x80, 0, 0, 0, 0x80,
					      0, 0, 0, 0 };
	static const unsigned char one[] = { 2, 0, 0, 0, 'h', 'i' };
	int err = 0;

	ok(read_raw(big, sizeof big, 0, 4, 9, &err) == -1 && err == EMSGSIZE,
	   "a part over the message bound is EMSGSIZE (errno %d)", err);
	ok(read_raw(many, sizeof many, 0, 3, 100, &err) == -1 && err == EMSGSIZE,
	   "a fourth part past a bound of three is EMSGSIZE (errno %d)", err);
	ok(read_raw(many, sizeof many, 0, 4, 100, &err) == 1,
	   "four parts within a bound of four make a message");
	ok(read_raw(big, sizeof big, 0, 4, 100, &err) == 0,
	   "a message not yet whole is 0, waiting for more");
	ok(read_raw(big, sizeof big, 1, 4, 100, &err) == -1 && err == EPIPE,
	   "a stream cut inside a message is EPIPE (errno %d)", err);
	ok(read_raw(one, sizeof one, 1, 4, 100, &err) == 1,
	   "a whole message before the end of stream is still read");
}

/* Small messages keep their bytes inside the zmq_msg_t: 2000 of them
 * queued before any is written make the queue's array grow (and move)
 * many times, and every byte must still be the message's. */
static void many_small_queued(void)
{
	struct msgwire_out out = { 0 };
	zmq_msg_t parts[PARTS_MAX];
	struct msgwire_in in;
	int sv[2], good = 1, rc = 0;
	size_t got = 0;

	if (pair(sv, 1 << 16) < 0 || msgwire_in_init(&in, parts, PARTS_MAX, 1 << 20) < 0) {
		ok(0, "socketpair and reader");
		return;
	}
	for (size_t m = 0; m < 2000; m++) {
		zmq_msg_t z;
		zmq_msg_init_size(&z, 1 + m % 33);
		memset(zmq_msg_data(&z), (int)(m & 0xff), 1 + m % 33);
		good &= msgwire_push_msg(&out, &z, 0) == 0;
	}
	while (good && got < 2000) {
		good = msgwire_write(&out, sv[0]) >= 0;
		while (good && (rc = msgwire_read(&in, sv[1])) == 1) {
			const unsigned char *d = zmq_msg_data(&in.parts[0]);
			size_t len = zmq_msg_size(&in.parts[0]);
			good &= in.nparts == 1 && len == 1 + got % 33;
			for (size_t i = 0; good && i < len; i++)
				good &= d[i] == (got & 0xff);
			zmq_msg_close(&in.parts[0]);
			got++;
		}
		good &= rc >= 0;
	}
	ok(good && got == 2000, "2000 small owned messages queued before writing arrive intact (got %zu)", got);
	msgwire_in_free(&in);
	msgwire_out_free(&out);
	close(sv[0]);
	close(sv[1]);
}

/* A peer gone is EPIPE from msgwire_write, never SIGPIPE. */
static void peer_gone(void)
{
	struct msgwire_out out = { 0 };
	int sv[2];

	if (pair(sv, 4096) < 0) {
		ok(0, "socketpair");
		return;
	}
	close(sv[1]);
	msgwire_push_ref(&out, "x", 1, 0);
	ok(msgwire_write(&out, sv[0]) == -1 && errno == EPIPE,
	   "a write to a closed peer fails with EPIPE and the process lives");
	ok(msgwire_pending(&out) == 1, "what was not written stays queued until freed");
	msgwire_out_free(&out);
	ok(msgwire_pending(&out) == 0, "freeing empties the queue");
	close(sv[0]);
}

int main(void)
{
	round_trip();
	many_small_queued();
	bounds_and_ends();
	peer_gone();
	return tap_done();
}
