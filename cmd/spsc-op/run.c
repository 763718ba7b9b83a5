/*
 * run: the operator's loop.  One ppoll() waits on the input, every child's
 * pipes and exit, the deadlines and (for a queue input) the leases; then
 * each is served in turn.  Nothing blocks except a write downstream (back
 * pressure) and, when no child runs, the wait for the next atom.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "op.h"
#include "opt.h"
#include "stop.h"
#include "units.h"

/* Without a pidfd a child's exit is noticed by looking: this often. */
#define NO_PIDFD_POLL_NS (20 * NS_PER_MS)
/*
 * With no atom in hand, a GET on an empty queue waits in the coordinator,
 * which answers the moment an atom arrives (idle warm children need no
 * care).  With atoms in hand the loop must not wait in a GET: their
 * children's output would wait with it.  Then it only looks: a look that
 * finds nothing leaves a GET waiting in the coordinator (OP_LOOK_WAIT_NS,
 * main.c), whose answer wakes the poll below with the rest of the
 * coordinator's answers (endpoints_pollfds), so an atom that arrives
 * while others are worked on waits for nothing.  Looks go at most every
 * QUEUE_RECHECK_NS, unless an answer is in.  (On NATS the look leaves
 * a pull request open, whose fd wakes the poll the same way.)
 */
#define QUEUE_LONG_POLL_NS (1000 * NS_PER_MS)
#define QUEUE_RECHECK_NS (1 * NS_PER_MS)
/* How soon to look again at answers still to come that have no fd to
 * wait on */
#define QUEUE_SETTLE_MS 1
/* the coordinator's connections in the poll: one per queue endpoint */
#define QUEUE_POLLFDS 8

static volatile sig_atomic_t got_signal;

/* SIGTERM and SIGINT also set the flag every program's input loops watch
 * (stop.h), so a queue read in progress ends promptly too. */
static void on_signal(int sig)
{
	got_signal = sig;
	if (sig != SIGHUP)
		stop_requested = 1;
}

/*
 * The signals are blocked except while we wait, so the loop sees them at
 * one well-defined point and never in the middle of a write.
 */
static void catch_signals(sigset_t *while_waiting)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		(void)sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	(void)sigprocmask(SIG_BLOCK, &block, while_waiting);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigdelset(while_waiting, sigs[i]);
}

static void abandon(struct op *op)
{
	for (int i = 0; i < op->jobs; i++)
		slot_abort(op, &op->slots[i]);
	op_hand_back_all(op);
}

/*
 * The first SIGTERM or SIGINT drains: no more input, the atoms in hand are
 * finished and emitted, and the exit status is the usual one.  A second
 * one, or SIGHUP, stops at once and ends us by that signal.
 */
static void handle_signal(struct op *op)
{
	int sig = got_signal;
	sigset_t set;

	got_signal = 0;
	if (sig != SIGHUP && !op->draining) {
		op->draining = 1;
		op->input_done = 1;
		log_info("%s: finishing the atoms in hand (again to stop now)",
			 strsignal(sig));
		return;
	}
	log_warn("%s: stopping", strsignal(sig));
	abandon(op);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	raise(sig);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	_exit(128 + sig);
}

static void schedule(struct op *op)
{
	struct slot *s;

	while (op->pending && !op->fatal && (s = slot_find_free(op)))
		slot_assign(op, s, op_pop_pending(op));
}

static int children_live(const struct op *op)
{
	for (int i = 0; i < op->jobs; i++)
		if (op->slots[i].live)
			return 1;
	return 0;
}

static int atoms_in_hand(const struct op *op)
{
	for (size_t i = 0; i < op->ntasks; i++)
		if (op->tasks[i].state != TASK_FREE)
			return 1;
	return 0;
}

static int busy(const struct op *op)
{
	return atoms_in_hand(op) || children_live(op);
}

/* Warm children with nothing left to do are told to exit. */
static void shutdown_idle(struct op *op, int64_t now)
{
	if (!op->input_done || op->pending)
		return;
	for (int i = 0; i < op->jobs; i++)
		slot_shutdown(op, &op->slots[i], now);
}

/*
 * Input that can be taken without waiting is taken now.  Returns 1 if
 * the loop should start over (an atom came, or time passed waiting for
 * one), 0 if it should go on to wait for events.
 */
static int take_input(struct op *op, int64_t now, const sigset_t *while_waiting)
{
	sigset_t saved;
	int rc;

	if (!op_want_input(op))
		return 0;
	if (!op->queue_in)
		return endpoint_pending(&op->in) && op_read_input(op, 0) != 0;
	if (!atoms_in_hand(op)) {
		/* Nothing else to do: wait on the queue, interruptibly. */
		(void)sigprocmask(SIG_SETMASK, while_waiting, &saved);
		(void)op_read_input(op, QUEUE_LONG_POLL_NS);
		(void)sigprocmask(SIG_SETMASK, &saved, NULL);
		return 1;
	}
	/* the queue had nothing a moment ago: not worth a request yet */
	if (now - op->queue_empty_at < QUEUE_RECHECK_NS && !endpoint_pending(&op->in))
		return 0;
	rc = op_read_input(op, 0);
	if (rc == 0)
		op->queue_empty_at = now;
	return rc != 0;
}

/* The pollfd array: the input (a pipe or a file; a queue has no fd to
 * wait on), then each live slot's fds.  Returns the input's index or -1. */
static int gather(struct op *op, struct pollfd *p, int *n, int *no_pidfd)
{
	int pin = -1;

	*n = 0;
	*no_pidfd = 0;
	if (!op->queue_in && op_want_input(op)) {
		pin = (*n)++;
		p[pin] = (struct pollfd){ endpoint_fd(&op->in), POLLIN, 0 };
	}
	for (int i = 0; i < op->jobs; i++)
		*no_pidfd |= slot_pollfds(op, &op->slots[i], p, n);
	return pin;
}

/* How long the wait may last: until the next deadline, lease renewal or
 * queue retry, in ms (-1: until something happens). */
static int wait_ms(struct op *op, int64_t now, int no_pidfd)
{
	int64_t next = op_touch_leases(op, now), ms;

	for (int i = 0; i < op->jobs; i++) {
		int64_t t = slot_tick(op, &op->slots[i], now);
		if (t < next)
			next = t;
	}
	/* A queue that had nothing is asked again soon, unless the look
	 * left a GET waiting, whose answer wakes us: see above. */
	if (op->queue_in && !op->looks_wait && op_want_input(op) &&
	    op->queue_empty_at + QUEUE_RECHECK_NS < next)
		next = op->queue_empty_at + QUEUE_RECHECK_NS;
	if (no_pidfd && now + NO_PIDFD_POLL_NS < next)
		next = now + NO_PIDFD_POLL_NS;
	if (next == INT64_MAX || next == CHILD_NEVER)
		return -1;
	ms = next <= now ? 0 : (next - now + NS_PER_MS - 1) / NS_PER_MS;
	return ms > 1000000 ? 1000000 : (int)ms;
}

static int wait_events(struct pollfd *p, int n, int timeout_ms,
		       const sigset_t *while_waiting)
{
	struct timespec ts = { timeout_ms / 1000,
			       (long)(timeout_ms % 1000) * NS_PER_MS };

	if (ppoll(p, (nfds_t)n, timeout_ms < 0 ? NULL : &ts, while_waiting) < 0 &&
	    errno != EINTR)
		return -1;
	return 0;
}

/* Adds the coordinator's answers still to come to the wait. */
static int wait_answers(struct op *op, struct pollfd *p, int *n, int *timeout)
{
	char err[600];
	int pending = endpoints_progress(err, sizeof err), now, k;

	if (pending < 0) {
		op_fatal(op, "%s", err);
		return -1;
	}
	if (!pending)
		return 0;
	k = endpoints_pollfds(p + *n, QUEUE_POLLFDS, &now);
	if (now)
		*timeout = 0;
	else if (k >= 0)
		*n += k;
	else if (*timeout < 0 || *timeout > QUEUE_SETTLE_MS)
		*timeout = QUEUE_SETTLE_MS;
	return 0;
}

static int setup(struct op *op)
{
	int depth = op->warm ? WARM_DEPTH : 1;

	op->queue_in = endpoint_is_queue(&op->in);
	op->looks_wait = endpoint_looks_wait(&op->in);
	op->ntasks = (size_t)op->jobs * (size_t)depth * (op->ordered ? 2 : 1);
	op->tasks = calloc(op->ntasks, sizeof *op->tasks);
	op->slots = calloc((size_t)op->jobs, sizeof *op->slots);
	if (op->tasks == NULL || op->slots == NULL)
		return -1;
	for (size_t i = 0; i < op->ntasks; i++) {
		atom_init(&op->tasks[i].in);
		hold_init(&op->tasks[i].out, &op->hold);
	}
	for (int i = 0; i < op->jobs; i++)
		slot_init(&op->slots[i], i);
	return 0;
}

static void teardown(struct op *op)
{
	if (op->fatal)
		abandon(op);
	for (size_t i = 0; op->tasks && i < op->ntasks; i++) {
		atom_free(&op->tasks[i].in);
		hold_free(&op->tasks[i].out);
	}
	free(op->tasks);
	free(op->slots);
	if (op->dlq_open && endpoint_close(&op->dlq) < 0) {
		log_error("%s", op->dlq.err);
		op->status = EXIT_FAIL;
	}
}

static void summary(const struct op *op)
{
	enum log_level lv = op->retries || op->dead || op->nacked ? LOG_INFO
								  : LOG_DEBUG;

	log_msg(lv,
		"%llu atoms (%llu events) in, %llu atoms (%llu events) out; %llu invocations, %llu retries, %llu dead-lettered, %llu handed back, %llu with no output",
		(unsigned long long)op->atoms_in,
		(unsigned long long)op->events_in,
		(unsigned long long)op->atoms_out,
		(unsigned long long)op->events_out,
		(unsigned long long)op->invocations,
		(unsigned long long)op->retries, (unsigned long long)op->dead,
		(unsigned long long)op->nacked, (unsigned long long)op->empty);
}

static void loop(struct op *op, struct pollfd *p, const sigset_t *while_waiting)
{
	for (;;) {
		int64_t now = mono_ns();
		int n, pin, no_pidfd, timeout;

		schedule(op);
		if (take_input(op, now, while_waiting)) {
			if (got_signal)
				handle_signal(op);
			continue;
		}
		shutdown_idle(op, now);
		if (op->fatal || (op->input_done && !busy(op)))
			return;
		pin = gather(op, p, &n, &no_pidfd);
		timeout = wait_ms(op, now, no_pidfd);
		/* about to wait: batched outputs and acks go first, without
		 * a round trip; what is still on its way brings us back */
		if (timeout != 0 && wait_answers(op, p, &n, &timeout) < 0)
			return;
		if (n == 0 && timeout < 0) {
			/* Every task waits on something, and nothing can wake
			 * us: a bug, reported rather than hung on. */
			op_fatal(op, "internal error: nothing to wait for");
			return;
		}
		if (wait_events(p, n, timeout, while_waiting) < 0) {
			op_fatal(op, "poll: %s", strerror(errno));
			return;
		}
		if (got_signal)
			handle_signal(op);
		if (pin >= 0 && p[pin].revents && op_want_input(op))
			(void)op_read_input(op, -1);
		now = mono_ns();
		for (int i = 0; i < op->jobs && !op->fatal; i++)
			slot_service(op, &op->slots[i], p, now);
	}
}

int op_run(struct op *op)
{
	struct pollfd *p = calloc((size_t)op->jobs * 4 + 1 + QUEUE_POLLFDS, sizeof *p);
	sigset_t while_waiting;

	if (p == NULL || setup(op) < 0) {
		free(p);
		teardown(op);
		log_error("out of memory");
		return EXIT_FAIL;
	}
	catch_signals(&while_waiting);
	loop(op, p, &while_waiting);
	free(p);
	teardown(op);
	summary(op);
	if (op->status == EXIT_OK && op->dead > 0)
		op->status = 3;
	return op->status;
}
