/*
 * spsc-op: the pieces of the operator and how they fit.
 *
 *   input endpoint -> task (one input atom, its attempts and held output)
 *                  -> pending queue -> slot (a child process, -j of them)
 *                  -> output endpoint, in order or as they finish
 *                  -> dead-letter endpoint after the last failed attempt
 *
 * Everything runs in one thread around one poll(): the input, every child's
 * stdin, stdout, stderr and exit (pidfd), and the deadlines.
 */
#ifndef SPSC_OP_H
#define SPSC_OP_H

#include <stddef.h>
#include <stdint.h>
#include <poll.h>

#include "atom.h"
#include "child.h"
#include "endpoint.h"
#include "hold.h"

/*
 * A warm child is sent the next atom while it still works on this one, so
 * it never waits for us between atoms.  Small atoms go on being sent while
 * less than WARM_FILL bytes are in its fifo: at a high rate of one-event
 * atoms, two per round trip through the child is too few, and the input
 * would queue up behind a child that could take far more.
 */
#define WARM_DEPTH_MIN 2
#define WARM_DEPTH 16		/* at most */
#define WARM_FILL ((size_t)1 << 20)
/* A warm stage's GET brings this many rounds (WARM_DEPTH_MIN atoms per
 * slot): the next one goes when half are handed out, and its answer has
 * to come back before the other half are through the children.  With
 * 100 KiB atoms at full speed, four rounds were through in about 3 ms, a
 * busy coordinator's turn took longer, and the stage waited for input a
 * third of its time. */
#define WARM_PREFETCH_ROUNDS 16
/* With atoms in hand, a look at the input queue that finds nothing leaves
 * a GET waiting this long (run.c); a clean stop waits for it at most. */
#define OP_LOOK_WAIT_NS (100 * NS_PER_MS)
#define MARKER_PREFIX "#spsc-end-"
#define MARKER_MAX 64
#define STDERR_LINE_MAX 4096

enum task_state {
	TASK_FREE,		/* no atom */
	TASK_PENDING,		/* waiting for a slot */
	TASK_RUNNING,		/* in a slot */
	TASK_DONE,		/* output held until its turn (--ordered) */
};

struct task {
	enum task_state state;
	uint64_t seq;		/* input order */
	struct atom in;
	uint32_t attempts;	/* invocations started */
	size_t sent;		/* bytes of input (and marker) written */
	int dead;		/* failed for good: nothing to emit */
	int settled;		/* acked or nacked: nothing more to tell */
	struct hold out;
	struct task *next;	/* pending queue */
	int64_t touch_at;	/* queue input: when to extend the lease */
	char idhex[ATOMID_HEX_LEN + 1];
};

/* Why an invocation failed, kept until the child is reaped so that the
 * final status can still refine it. */
struct failure {
	uint8_t kind;		/* enum atom_fail; 0: none */
	int32_t code;
	int soft;		/* the child's own exit status, if it fails,
				   says more than this */
	char why[320];
};

struct slot {
	int index;
	struct child child;	/* pid -1: none running */
	int live;		/* a child is running or not yet reaped */
	int exiting;		/* warm child told to exit (stdin closed) */
	struct task *fifo[WARM_DEPTH]; /* fifo[0] gets the output */
	int count;
	int writing;		/* fifo index whose input is being sent */
	struct failure doom;	/* the invocation is being ended */
	int warned_stray;
	int pin, pout, perr, ppid;	/* its entries in the pollfd array */
	char errline[STDERR_LINE_MAX];
	size_t errlen;
	char env_id[64];
	char env_attempt[32];
};

struct op {
	/* what to run */
	char **argv;
	char path[4096];
	int jobs;
	int warm;
	int ordered;
	int64_t timeout;
	int64_t grace;
	uint32_t attempts;
	unsigned char ok_exit[256];	/* exit statuses that mean success */
	uint64_t salt;
	int64_t wm_out;		/* the watermark promised downstream so far */
	size_t max_atom;
	struct hold_limits hold;
	char marker[MARKER_MAX];	/* "\n#spsc-end-...\n" */
	size_t marker_len;		/* with both newlines */
	char env_marker[MARKER_MAX + 16];

	/* where atoms come from and go */
	struct endpoint in, out, dlq;
	struct endpoint_opts epo;
	const char *dlq_spec;
	int dlq_default;
	int dlq_open;

	/* the work */
	struct task *tasks;
	size_t ntasks;
	struct slot *slots;
	struct task *pending, *pending_tail;
	uint64_t next_seq, next_emit;
	int input_done;
	int draining;		/* SIGTERM or SIGINT: finish, then exit */
	int queue_in;		/* input is a queue: ack, nack, touch */
	int looks_wait;		/* its empty looks leave a GET waiting */
	int64_t queue_empty_at;	/* mono ns of the last GET that found
					 * nothing, with atoms in hand */
	int fatal;		/* output or dead-letter failure: stop */
	int status;		/* exit status so far */

	/* counts for the summary */
	uint64_t atoms_in, atoms_out, events_in, events_out;
	uint64_t invocations, retries, dead, empty, nacked;
};

/* slot.c: one child and the atoms it works on */
void slot_init(struct slot *s, int index);
int slot_accepts(const struct op *op, const struct slot *s);
struct slot *slot_find_free(struct op *op);
void slot_assign(struct op *op, struct slot *s, struct task *t);
int slot_pollfds(const struct op *op, struct slot *s, struct pollfd *p,
		 int *n);
void slot_service(struct op *op, struct slot *s, const struct pollfd *p,
		  int64_t now);
int64_t slot_tick(struct op *op, struct slot *s, int64_t now);
void slot_shutdown(struct op *op, struct slot *s, int64_t now);
void slot_abort(struct op *op, struct slot *s);

/* relay.c: the children's stderr, line by line */
void relay_read(struct slot *s);
void relay_flush(struct slot *s);

/* tasks.c: the pending queue, and what becomes of a finished task */
void op_push_back(struct op *op, struct task *t);
struct task *op_pop_pending(struct op *op);
struct task *op_free_task(struct op *op);
void op_task_succeeded(struct op *op, struct task *t);
void op_task_failed(struct op *op, struct task *t, const struct failure *f);
void op_task_requeue(struct op *op, struct task *t);
void op_hand_back_all(struct op *op);
void op_fatal(struct op *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* input.c: atoms in, and the leases of queued ones */
int op_want_input(struct op *op);
int op_read_input(struct op *op, int64_t wait_ns);
int64_t op_touch_leases(struct op *op, int64_t now);

/* run.c: the loop */
int op_run(struct op *op);

#endif
