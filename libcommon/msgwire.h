/*
 * msgwire: multipart messages over a plain stream socket, the
 * coordinator's unix:// transport (spsc-protocol(7), TRANSPORT).
 *
 * On the wire each part is a 4-byte little-endian word, then the part's
 * bytes: the word holds the length in its low 31 bits and, in its top
 * bit, whether another part of the same message follows.  A message ends
 * with a part whose bit is clear.
 *
 * Why a second transport beside ZeroMQ's ipc://: libzmq carries every
 * message through an I/O thread on each side, so a request and its reply
 * wake six threads where a plain socket wakes two, and on a small VM
 * those wake-ups are most of the cost of a small atom.  Here the sender's
 * write wakes the receiver's poll directly.
 *
 * Parts are zmq_msg_t on both ends, so the coordinator's replies (which
 * may point into its log's mapping, zmq_msg_init_data) and a client's
 * replies are the same objects whichever transport carries them.
 */
#ifndef SPSC_MSGWIRE_H
#define SPSC_MSGWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#define MSGWIRE_MORE 0x80000000u
#define MSGWIRE_PART_MAX 0x7fffffffu
/* The read-ahead buffer: room for a hundred small messages a read(2).  A
 * large part's first bytes arrive in it and are copied out, the rest is
 * read in place (msgwire.c), so a larger buffer copies more: at 64 KiB,
 * copying from it was about 1.4% of all CPU samples end to end. */
#define MSGWIRE_BUF (16 * 1024)

/* The reading side of one connection: bytes read ahead, and the message
 * being put together in the caller's parts array. */
struct msgwire_in {
	uint8_t *buf;
	size_t pos, end;
	zmq_msg_t *parts;
	size_t nparts, max_parts;
	size_t bytes, max_bytes;	/* of the message so far; its bound */
	size_t got;			/* bytes of the open part so far */
	int in_part, more, done;
};

/* The writing side: parts waiting to go, in order.  A part is either a
 * message it owns (closed once written) or bytes the caller keeps alive
 * until the queue is empty. */
struct msgwire_part {
	zmq_msg_t msg;
	int owned;
	const void *data;	/* borrowed bytes; an owned part's are msg's */
	size_t len;
	uint8_t word[4];
};

struct msgwire_out {
	struct msgwire_part *v;
	size_t head, n, cap;
	size_t off;		/* bytes of v[head] (word, then data) written */
};

int msgwire_in_init(struct msgwire_in *in, zmq_msg_t *parts, size_t max_parts,
		    size_t max_bytes);
void msgwire_in_reset(struct msgwire_in *in);
void msgwire_in_free(struct msgwire_in *in);
int msgwire_read(struct msgwire_in *in, int fd);
int msgwire_buffered(const struct msgwire_in *in);

int msgwire_push_msg(struct msgwire_out *o, zmq_msg_t *m, int more);
int msgwire_push_ref(struct msgwire_out *o, const void *data, size_t len, int more);
int msgwire_write(struct msgwire_out *o, int fd);
size_t msgwire_pending(const struct msgwire_out *o);
void msgwire_out_free(struct msgwire_out *o);

#endif
