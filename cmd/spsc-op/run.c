/*
 * run: the operator's loop.  Input atoms become tasks; tasks wait in the
 * pending queue for a slot; a finished task is emitted (in input order
 * with --ordered), retried, or dead-lettered.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "op.h"
#include "opt.h"
#include "units.h"

/* Without a pidfd a child's exit is noticed by looking: this often. */
#define NO_PIDFD_POLL_MS 20

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/*
 * SIGTERM asks for a drain (finish what was read, exit as usual); SIGINT
 * and SIGHUP for a stop.  They are blocked except inside ppoll, so the loop
 * sees them at one well-defined point and never in the middle of a write.
 */
static void catch_signals(sigset_t *during_poll)
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
	(void)sigprocmask(SIG_BLOCK, &block, during_poll);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigdelset(during_poll, sigs[i]);
}

/* ---- the pending queue ---- */

static void push_back(struct op *op, struct task *t)
{
	t->state = TASK_PENDING;
	t->next = NULL;
	if (op->pending_tail)
		op->pending_tail->next = t;
	else
		op->pending = t;
	op->pending_tail = t;
}

/* Retries go first, so that with -j 1 the output keeps input order. */
static void push_front(struct op *op, struct task *t)
{
	t->state = TASK_PENDING;
	t->next = op->pending;
	op->pending = t;
	if (op->pending_tail == NULL)
		op->pending_tail = t;
}

static struct task *pop_pending(struct op *op)
{
	struct task *t = op->pending;

	if (t) {
		op->pending = t->next;
		if (op->pending == NULL)
			op->pending_tail = NULL;
		t->next = NULL;
	}
	return t;
}

static struct task *free_task(struct op *op)
{
	for (size_t i = 0; i < op->ntasks; i++)
		if (op->tasks[i].state == TASK_FREE)
			return &op->tasks[i];
	return NULL;
}

/* Warm atoms go to an idle child before a busy one. */
static struct slot *free_slot(struct op *op)
{
	struct slot *best = NULL;

	for (int i = 0; i < op->jobs; i++) {
		struct slot *s = &op->slots[i];
		if (slot_accepts(op, s) && (best == NULL || s->count < best->count))
			best = s;
	}
	return best;
}

static void schedule(struct op *op)
{
	struct slot *s;

	while (op->pending && !op->fatal && (s = free_slot(op)))
		slot_assign(op, s, pop_pending(op));
}

/* ---- output ---- */

static void fatal(struct op *op, const char *msg)
{
	log_error("%s", msg);
	op->fatal = 1;
	op->status = EXIT_FAIL;
}

/*
 * Cuts the held output into atoms at event boundaries, none over
 * --max-atom.  The cuts depend only on the bytes, so a rerun gives the same
 * atoms under the same ids: atomid_child(input id, salt, ordinal).
 */
static void emit_output(struct op *op, struct task *t)
{
	const char *data;
	size_t len, pos = 0;
	uint64_t ordinal = 0;

	if (hold_size(&t->out) == 0) {
		op->empty++;
		return;
	}
	if (hold_view(&t->out, &data, &len) < 0) {
		char msg[400];
		snprintf(msg, sizeof msg, "%s: %s", t->idhex, t->out.err);
		fatal(op, msg);
		return;
	}
	while (pos < len && !op->fatal) {
		size_t take = len - pos;
		struct atom a;

		if (take > op->max_atom)
			take = event_last_end(data + pos, op->max_atom);
		atom_init(&a);
		a.id = atomid_child(&t->in.id, op->salt, ordinal++);
		a.created_ns = t->in.created_ns;
		a.data = (char *)data + pos;
		a.len = take;
		a.events = (uint32_t)event_count(a.data, a.len);
		if (endpoint_write(&op->out, &a) < 0) {
			fatal(op, op->out.err);
			break;
		}
		op->atoms_out++;
		op->events_out += a.events;
		pos += take;
	}
	hold_unview(&t->out);
}

static void release(struct task *t)
{
	t->state = TASK_FREE;
	hold_reset(&t->out);
}

/* Emits, in input order, every finished task whose turn has come. */
static void emit_in_order(struct op *op)
{
	int found = 1;

	while (found && !op->fatal) {
		found = 0;
		for (size_t i = 0; i < op->ntasks; i++) {
			struct task *t = &op->tasks[i];
			if (t->state == TASK_DONE && t->seq == op->next_emit) {
				if (!t->dead)
					emit_output(op, t);
				release(t);
				op->next_emit++;
				found = 1;
			}
		}
	}
}

/* A task has come to its end (output held, or dead-lettered). */
static void task_done(struct op *op, struct task *t)
{
	if (!op->ordered) {
		if (!t->dead)
			emit_output(op, t);
		release(t);
		return;
	}
	t->state = TASK_DONE;
	emit_in_order(op);
}

void op_task_succeeded(struct op *op, struct task *t)
{
	t->dead = 0;
	task_done(op, t);
}

/* ---- failure ---- */

static int open_dlq(struct op *op)
{
	if (op->dlq_open)
		return 0;
	if (endpoint_open(&op->dlq, op->dlq_spec, 1, &op->epo) < 0) {
		fatal(op, op->dlq.err);
		return -1;
	}
	op->dlq_open = 1;
	if (op->dlq_default)
		log_warn("no --dlq given: dead-lettered atoms go to %s",
			 op->dlq_spec);
	return 0;
}

/* The input atom as it came, plus why it died and how often it was tried.
 * Losing it is not an option: if it cannot be written, we stop. */
static void dead_letter(struct op *op, struct task *t, const struct failure *f)
{
	struct atom d = t->in;
	char msg[900];

	if (open_dlq(op) < 0)
		return;
	d.attempt = t->attempts;
	d.fail_kind = f->kind;
	d.fail_code = f->code;
	if (endpoint_write(&op->dlq, &d) < 0) {
		snprintf(msg, sizeof msg, "%s: cannot dead-letter: %s", t->idhex,
			 op->dlq.err);
		fatal(op, msg);
		return;
	}
	op->dead++;
	log_warn("%s: dead-lettered to %s after %u attempt%s: %s", t->idhex,
		 op->dlq.name, t->attempts, t->attempts == 1 ? "" : "s", f->why);
}

void op_task_failed(struct op *op, struct task *t, const struct failure *f)
{
	hold_reset(&t->out);
	if (t->attempts < op->attempts) {
		log_warn("%s: attempt %u of %u failed: %s; retrying", t->idhex,
			 t->attempts, op->attempts, f->why);
		op->retries++;
		push_front(op, t);
		return;
	}
	dead_letter(op, t, f);
	t->dead = 1;
	task_done(op, t);
}

/* An atom that was in a warm child's fifo behind the one that failed: not
 * its fault, so no attempt is counted. */
void op_task_requeue(struct op *op, struct task *t)
{
	hold_reset(&t->out);
	push_front(op, t);
}

/* ---- input ---- */

static int want_input(struct op *op)
{
	return !op->input_done && !op->fatal && op->pending == NULL &&
	       free_slot(op) != NULL && free_task(op) != NULL;
}

static void read_input(struct op *op)
{
	struct task *t = free_task(op);
	int rc = endpoint_read(&op->in, &t->in);

	if (rc <= 0) {
		if (rc < 0) {
			log_error("%s", op->in.err);
			op->status = EXIT_FAIL;
		}
		op->input_done = 1;
		return;
	}
	t->seq = op->next_seq++;
	t->attempts = 0;
	t->dead = 0;
	atomid_hex(&t->in.id, t->idhex);
	op->atoms_in++;
	op->events_in += t->in.events;
	push_back(op, t);
}

/* ---- the loop ---- */

static int busy(const struct op *op)
{
	for (size_t i = 0; i < op->ntasks; i++)
		if (op->tasks[i].state != TASK_FREE)
			return 1;
	for (int i = 0; i < op->jobs; i++)
		if (op->slots[i].live)
			return 1;
	return 0;
}

/* Warm children with nothing left to do are told to exit. */
static void shutdown_idle(struct op *op, int64_t now)
{
	if (!op->input_done || op->pending)
		return;
	for (int i = 0; i < op->jobs; i++)
		slot_shutdown(op, &op->slots[i], now);
}

static int poll_timeout(struct op *op, int64_t now, int no_pidfd)
{
	int64_t next = CHILD_NEVER, ms;

	for (int i = 0; i < op->jobs; i++) {
		int64_t t = slot_tick(op, &op->slots[i], now);
		if (t < next)
			next = t;
	}
	if (next == CHILD_NEVER)
		ms = -1;
	else
		ms = next <= now ? 0 : (next - now + NS_PER_MS - 1) / NS_PER_MS;
	if (no_pidfd && (ms < 0 || ms > NO_PIDFD_POLL_MS))
		ms = NO_PIDFD_POLL_MS;
	return ms > 1000000 ? 1000000 : (int)ms;
}

static void handle_signal(struct op *op)
{
	int sig = got_signal;
	sigset_t set;

	got_signal = 0;
	if (sig == SIGTERM) {
		if (!op->input_done)
			log_info("SIGTERM: finishing the atoms already read");
		op->input_done = 1;
		return;
	}
	log_warn("%s: stopping", strsignal(sig));
	for (int i = 0; i < op->jobs; i++)
		slot_abort(op, &op->slots[i]);
	/* Die of the signal, as the shell that sent it expects. */
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	raise(sig);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	_exit(128 + sig);
}

static int setup(struct op *op)
{
	int depth = op->warm ? WARM_DEPTH : 1;

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
	for (int i = 0; i < op->jobs; i++)
		slot_abort(op, &op->slots[i]);
	for (size_t i = 0; i < op->ntasks; i++) {
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
	enum log_level lv = op->retries || op->dead ? LOG_INFO : LOG_DEBUG;

	log_msg(lv,
		"%llu atoms (%llu events) in, %llu atoms (%llu events) out; %llu invocations, %llu retries, %llu dead-lettered, %llu with no output",
		(unsigned long long)op->atoms_in,
		(unsigned long long)op->events_in,
		(unsigned long long)op->atoms_out,
		(unsigned long long)op->events_out,
		(unsigned long long)op->invocations,
		(unsigned long long)op->retries, (unsigned long long)op->dead,
		(unsigned long long)op->empty);
}

static int wait_events(struct pollfd *p, int n, int timeout_ms,
		       const sigset_t *during_poll)
{
	struct timespec ts = { timeout_ms / 1000,
			       (long)(timeout_ms % 1000) * NS_PER_MS };

	if (ppoll(p, (nfds_t)n, timeout_ms < 0 ? NULL : &ts, during_poll) < 0 &&
	    errno != EINTR)
		return -1;
	return 0;
}

int op_run(struct op *op)
{
	size_t maxfds = (size_t)op->jobs * 4 + 1;
	struct pollfd *p = calloc(maxfds, sizeof *p);
	sigset_t during_poll;

	if (p == NULL || setup(op) < 0) {
		log_error("out of memory");
		free(p);
		return EXIT_FAIL;
	}
	catch_signals(&during_poll);
	for (;;) {
		int64_t now = mono_ns();
		int n = 0, pin = -1, no_pidfd = 0, timeout;

		schedule(op);
		if (want_input(op) && endpoint_pending(&op->in)) {
			read_input(op);
			continue;
		}
		shutdown_idle(op, now);
		if (op->fatal || (op->input_done && !busy(op)))
			break;
		if (want_input(op)) {
			pin = n;
			p[n++] = (struct pollfd){ endpoint_fd(&op->in), POLLIN, 0 };
		}
		for (int i = 0; i < op->jobs; i++)
			no_pidfd |= slot_pollfds(op, &op->slots[i], p, &n);
		timeout = poll_timeout(op, now, no_pidfd);
		if (n == 0 && timeout < 0) {
			/* Every task waits on something, and nothing can wake
			 * us: a bug, reported rather than hung on. */
			log_error("internal error: nothing to wait for");
			op->status = EXIT_FAIL;
			break;
		}
		if (wait_events(p, n, timeout, &during_poll) < 0) {
			log_error("poll: %s", strerror(errno));
			op->status = EXIT_FAIL;
			break;
		}
		if (got_signal)
			handle_signal(op);
		if (pin >= 0 && p[pin].revents)
			read_input(op);
		now = mono_ns();
		for (int i = 0; i < op->jobs && !op->fatal; i++)
			slot_service(op, &op->slots[i], p, now);
	}
	free(p);
	teardown(op);
	summary(op);
	if (op->status == EXIT_OK && op->dead > 0)
		op->status = 3;
	return op->status;
}
