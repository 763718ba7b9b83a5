/*
 * harness: the part of every bench/queue client that does not depend on
 * the queue being measured.
 *
 * One client binary per system (spsc, beanstalkd, Redis Streams, NATS
 * JetStream) links this harness with a driver.  The harness makes the
 * workload (atoms of E events of 100 bytes each), forks one producer and
 * C consumers, starts them together, counts every atom that comes back,
 * and prints one line of results.  A driver only knows how to put a batch
 * of atoms and how to take and acknowledge up to a batch of them.
 *
 * A connection may keep up to a window of W requests unanswered, each
 * system with its own client library's pipelining: a producer sends its
 * next batch before the last one's answer is back, a consumer sends its
 * ACK without waiting and its next GET right behind it.  W = 1 is one
 * request at a time: every call returns with its answers in hand.
 *
 * Every atom carries its ordinal in the first ten bytes of its payload so
 * that the harness can prove, per run, that nothing was lost or
 * duplicated: a benchmark that drops messages is fast and worthless.
 */
#ifndef QB_HARNESS_H
#define QB_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define QB_EVENT_BYTES 100
/* Free bytes before each payload a driver is handed to put: room for a
 * header of its own in front of the events, so no copy is needed. */
#define QB_HEADROOM 64
/* The largest window: spsc's protocol client keeps at most 16 requests
 * unanswered (QCLIENT_WINDOW), and every system gets the same range. */
#define QB_WINDOW_MAX 16

struct qb_conf {
	const char *server;	/* the driver's address syntax */
	const char *queue;	/* queue, tube, stream or subject name */
	uint64_t atoms;		/* how many atoms the producer offers */
	uint32_t events;	/* events per atom */
	size_t atom_bytes;	/* events * QB_EVENT_BYTES */
	int batch;		/* atoms per PUT, per GET, per ACK */
	int consumers;
	int wait_ms;		/* a consumer's long-poll wait */
	int window;		/* requests a connection may leave unanswered */
};

/* One atom to put: its ordinal and its payload (the events), with
 * QB_HEADROOM bytes the driver may write before data. */
struct qb_atom {
	uint64_t ordinal;
	uint8_t *data;
	size_t len;
};

/* Called by a driver for each atom taken, before it is acknowledged;
 * returns -1 if the payload is not one the producer made. */
typedef int (*qb_check_fn)(void *ctx, const uint8_t *payload, size_t len);

struct qb_driver {
	const char *name;
	/* Creates the queue (or stream) and anything else the run needs.
	 * Runs in a child of its own, like every call below, so a driver
	 * library may start threads without upsetting fork(). */
	int (*setup)(const struct qb_conf *c);
	/* A connection for the producer (consumer < 0) or consumer N. */
	void *(*open)(const struct qb_conf *c, int consumer);
	/* Sends n atoms to be stored.  Up to window batches may be
	 * unanswered: put() returns once at most window - 1 are, and those
	 * the latest, so with window 1 the atoms are stored when it
	 * returns.  The harness leaves the atoms' data untouched until
	 * their batch is answered: it fills window sets of buffers in
	 * turn, and reuses a set only window puts later. */
	int (*put)(void *conn, const struct qb_atom *atoms, int n);
	/* Waits for the answer to every batch put; 0 if all were stored. */
	int (*put_flush)(void *conn);
	/* Takes up to max atoms, waiting up to wait_ms for the first one,
	 * checks each and acknowledges them all; returns how many.  The ACK
	 * may still be unanswered when it returns (at most window - 1
	 * requests are), its answer read by a later take or by take_flush;
	 * with window 1 it is answered before take returns. */
	int (*take)(void *conn, int max, int wait_ms, qb_check_fn check,
		    void *ctx);
	/* Waits for the answer to every ACK sent; 0 if each acknowledged
	 * all of its atoms. */
	int (*take_flush)(void *conn);
	void (*close)(void *conn);
	/* Removes what setup made, so the server's next run starts empty. */
	int (*teardown)(const struct qb_conf *c);
};

/* Each client defines exactly one driver. */
extern const struct qb_driver qb_driver;

/* Reports a driver failure on stderr as "qb-NAME: ..." */
void qb_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int64_t qb_now_ns(void);

#endif
