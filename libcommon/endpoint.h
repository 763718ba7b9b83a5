/*
 * endpoint: where a stage reads or writes atoms.
 *
 *   "-"            stdin or stdout, framed atoms (pipes); the default
 *   PATH           any spec with a '/' in it: a file of framed atoms;
 *                  writes append, reads start at the beginning
 *   QUEUE[@URL]    a queue on a coordinator (default: $SPSC_COORD, else the
 *                  ipc socket under $SPSC_HOME), or on NATS JetStream when
 *                  URL is nats://HOST:PORT[,HOST:PORT...] (qbackend.h)
 *
 * Programs see one interface for all three.  Reading hands out an atom that
 * must later be acknowledged (ack) or returned (nack); over a pipe or a file
 * those are no-ops, over a queue they are what makes delivery at-least-once.
 */
#ifndef SPSC_ENDPOINT_H
#define SPSC_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "atom.h"
#include "qname.h"

struct queue_backend;
struct pollfd;

enum endpoint_kind { ENDPOINT_STDIO, ENDPOINT_PATH, ENDPOINT_QUEUE };

struct endpoint_opts {
	size_t limit;		/* frame size limit; 0 means the default */
	int level;		/* zstd level for writes; 0 means raw */
	int fsync;		/* fsync after every write */
	/* queues only */
	int prefetch;		/* atoms per GET; 0 means 1 */
	int64_t visibility_ns;	/* lease per GET; 0: the queue's setting */
	int drain;		/* end of input: nothing ready, nothing in flight */
	int read_ahead;		/* GET the next atoms before these run out: for
				 * a reader that takes atoms as they come, not
				 * one that may sit on them (they stay leased) */
	int64_t look_wait_ns;	/* a read that only looks (wait 0) and finds
				 * nothing leaves a GET waiting this long in
				 * the coordinator, taken by a later look: for
				 * a reader that polls endpoints_pollfds */
	/* writers to queues: who produces, for completion (spsc(7)) */
	uint64_t producer;	/* the stage's id, shared by its replicas;
				 * 0: anonymous, never completes a queue */
	uint32_t producers;	/* producers the queue expects; 0: leave it */
	/* A stage that reads a queue: a PUT refused because its stage has
	 * finished the queue (another replica saw the input complete) only
	 * repeats work already stored, so it is dropped with a warning, not
	 * an error.  For a source, it is a rerun that must be loud. */
	int late_is_redundant;
};

/* endpoint_read_wait's answer when nothing came within the wait. */
#define ENDPOINT_AGAIN 2

struct endpoint {
	enum endpoint_kind kind;
	int writing;
	int fd;
	int fsync;
	char name[256];		/* for messages: "stdin", a path, a queue */
	char *queue;
	char *url;
	const struct queue_backend *qb;	/* ENDPOINT_QUEUE: its backend */
	void *qs;		/* ... and the backend's state */
	struct atom_codec codec;
	struct atom_reader rd;
	struct atom_writer wr;
	int64_t wm;		/* reading: the input's watermark so far */
	int closed;		/* reading a queue: its producers are done */
	int64_t wm_next;	/* pipes and files: the last atom's, from the
				 * next read on */
	char err[600];
};

int endpoint_kind_of(const char *spec);
int endpoint_open(struct endpoint *ep, const char *spec, int writing,
		  const struct endpoint_opts *o);
int endpoint_read(struct endpoint *ep, struct atom *a);
int endpoint_read_wait(struct endpoint *ep, struct atom *a, int64_t wait_ns);
int endpoint_write(struct endpoint *ep, const struct atom *a);
int endpoint_ack(struct endpoint *ep, const struct atom *a);
int endpoint_nack(struct endpoint *ep, const struct atom *a, int64_t delay_ns);
int endpoint_touch(struct endpoint *ep, const struct atom *a, int64_t vis_ns);
int64_t endpoint_lease_ns(const struct endpoint *ep);
int endpoint_sync(struct endpoint *ep);
int endpoints_flush(char *err, size_t errlen);
int endpoints_progress(char *err, size_t errlen);
int endpoints_pollfds(struct pollfd *p, size_t max, int *now);
int endpoint_finish(struct endpoint *ep);
int64_t endpoint_watermark(const struct endpoint *ep);
int endpoint_input_closed(const struct endpoint *ep);
int endpoint_close(struct endpoint *ep);
int endpoint_fd(const struct endpoint *ep);
int endpoint_pending(const struct endpoint *ep);
int endpoint_is_queue(const struct endpoint *ep);
int endpoint_looks_wait(const struct endpoint *ep);

#endif
