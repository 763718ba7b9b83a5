/*
 * slot: one job slot (-j), the child process in it and the atoms it works
 * on.  Per-atom, a slot runs one child for one atom.  Warm, it keeps one
 * child for many atoms and sends it the next atom while it still works on
 * the current one; the output belongs to the atom at the head of the fifo
 * until the child echoes the end marker.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "op.h"
#include "units.h"

/* A read takes at most a pipe's default capacity.  Under --warm the bytes
 * after an end marker are moved into the next atom's hold (scan_markers),
 * so a larger read of a quick child's output moves more: with 256 KiB
 * reads and 100 KiB atoms, that took a quarter of spsc-op's user time. */
#define READ_CHUNK (64 * 1024)
#define READ_ROUNDS 16		/* reads per wake-up before others get a turn */

void slot_init(struct slot *s, int index)
{
	memset(s, 0, sizeof *s);
	s->index = index;
	child_init(&s->child);
	s->pin = s->pout = s->perr = s->ppid = -1;
}

static size_t fifo_bytes(const struct slot *s)
{
	size_t bytes = 0;

	for (int i = 0; i < s->count; i++)
		bytes += s->fifo[i]->in.len;
	return bytes;
}

/* A slot takes an atom when it has room and its child is not on its way
 * out; a per-atom slot takes one at a time. */
int slot_accepts(const struct op *op, const struct slot *s)
{
	if (s->exiting || s->doom.kind)
		return 0;
	if (!op->warm)
		return !s->live && s->count == 0;
	if (s->count < WARM_DEPTH_MIN)
		return 1;
	return s->count < WARM_DEPTH && fifo_bytes(s) < WARM_FILL;
}

/* Warm atoms go to an idle child before a busy one. */
struct slot *slot_find_free(struct op *op)
{
	struct slot *best = NULL;

	for (int i = 0; i < op->jobs; i++) {
		struct slot *s = &op->slots[i];
		if (slot_accepts(op, s) && (best == NULL || s->count < best->count))
			best = s;
	}
	return best;
}

static struct task *head(const struct slot *s)
{
	return s->count > 0 ? s->fifo[0] : NULL;
}

/* ---- starting and ending invocations ---- */

/*
 * The invocation is to end.  A hard reason (bad output) ends it now; a soft
 * one (it closed a pipe) gives it the grace period to exit by itself, since
 * its exit status, if it fails, tells the user more.
 */
static void doom(struct op *op, struct slot *s, int64_t now, int kind,
		 int soft, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void doom(struct op *op, struct slot *s, int64_t now, int kind,
		 int soft, const char *fmt, ...)
{
	va_list ap;

	/* A closed pipe after we began to stop the child, or after it
	 * exited, is a consequence, not a reason. */
	if (soft && (s->child.stage != CHILD_RUNNING || s->child.reaped)) {
		child_close_in(&s->child);
		return;
	}
	if (s->doom.kind == 0 || (s->doom.soft && !soft)) {
		s->doom.kind = (uint8_t)kind;
		s->doom.code = 0;
		s->doom.soft = soft;
		va_start(ap, fmt);
		vsnprintf(s->doom.why, sizeof s->doom.why, fmt, ap);
		va_end(ap);
	}
	child_close_in(&s->child);
	if (soft)
		child_linger(&s->child, now, op->grace);
	else
		child_terminate(&s->child, now);
}

/* The head atom gets the child's attention: its attempt is counted and its
 * deadline starts.  A warm child with no atom has no deadline. */
static void become_head(struct op *op, struct slot *s, int64_t now)
{
	struct task *t = head(s);

	if (s->doom.kind)
		return;
	if (t) {
		t->attempts++;
		op->invocations++;
	}
	child_set_deadline(&s->child, now, t ? op->timeout : 0, op->grace);
}

static void write_input(struct op *op, struct slot *s, int64_t now);

static int spawn(struct op *op, struct slot *s, struct task *t, char *err,
		 size_t errlen)
{
	const char *env[3] = { NULL, NULL, NULL };
	struct child_opts o = {
		.path = op->path, .argv = op->argv, .env = env,
		.capture_stderr = 1,
	};

	if (op->warm) {
		env[0] = op->env_marker;
	} else {
		snprintf(s->env_id, sizeof s->env_id, "SPSC_ATOM_ID=%s",
			 t->idhex);
		snprintf(s->env_attempt, sizeof s->env_attempt,
			 "SPSC_ATTEMPT=%u", t->attempts + 1);
		env[0] = s->env_id;
		env[1] = s->env_attempt;
	}
	if (child_spawn(&s->child, &o, err, errlen) < 0)
		return -1;
	s->live = 1;
	s->exiting = 0;
	s->warned_stray = 0;
	s->errlen = 0;
	s->writing = 0;
	memset(&s->doom, 0, sizeof s->doom);
	return 0;
}

static void pop_head(struct slot *s)
{
	memmove(s->fifo, s->fifo + 1, (size_t)(s->count - 1) * sizeof s->fifo[0]);
	s->count--;
	if (s->writing > 0)
		s->writing--;
}

/* A command that cannot be started fails its attempt like one that exits
 * at once, with the status a shell would give (127: not found). */
static void spawn_failed(struct op *op, struct slot *s, struct task *t,
			 int err, const char *why)
{
	struct failure f = { .kind = ATOM_FAIL_EXIT };

	f.code = err == ENOENT ? 127 : 126;
	snprintf(f.why, sizeof f.why, "cannot run %.300s", why);
	t->attempts++;
	op->invocations++;
	pop_head(s);
	op_task_failed(op, t, &f);
}

void slot_assign(struct op *op, struct slot *s, struct task *t)
{
	int64_t now = mono_ns();
	char err[512];

	t->state = TASK_RUNNING;
	t->sent = 0;
	hold_reset(&t->out);
	s->fifo[s->count++] = t;
	if (!s->live && spawn(op, s, t, err, sizeof err) < 0) {
		spawn_failed(op, s, t, errno, err);
		return;
	}
	if (s->count == 1)
		become_head(op, s, now);
	/* Most atoms fit in the pipe: send now rather than after a poll,
	 * unless more are in hand to go with it in one write, which wakes
	 * the child once for all of them. */
	if (!(op->warm && slot_accepts(op, s) && op_want_input(op) &&
	      endpoint_pending(&op->in)))
		write_input(op, s, now);
}

/* ---- input: the atom's events (and, warm, the end marker) ---- */

static size_t input_total(const struct op *op, const struct task *t)
{
	return t->in.len + (op->warm ? op->marker_len - 1 : 0);
}

/*
 * A warm child's input is spliced, not copied: the pipe takes references to
 * the atom's pages, and the child's read copies from them.  That is safe
 * because the atom's buffer is not touched until the child echoes the end
 * marker, which it can do only after reading every byte before it, or the
 * child is gone with its pipe.  (A child that broke the protocol, or a
 * descendant it left holding the pipe, may read bytes of a later atom: it
 * is failed either way.)  A per-atom child may stop reading, so its input
 * is copied.
 */
static int splice_works = 1;

/* The unsent input of the fifo, from the atom being written on, as one
 * gather list, so that atoms waiting together go in one write. */
static int fifo_iov(const struct op *op, const struct slot *s,
		    struct iovec *iov)
{
	int n = 0;

	for (int i = s->writing; i < s->count; i++) {
		const struct task *t = s->fifo[i];
		if (t->sent < t->in.len)
			iov[n++] = (struct iovec){ t->in.data + t->sent,
						   t->in.len - t->sent };
		if (op->warm) {
			size_t m = t->sent > t->in.len ? t->sent - t->in.len : 0;
			iov[n++] = (struct iovec){ (char *)op->marker + 1 + m,
						   op->marker_len - 1 - m };
		}
	}
	return n;
}

static ssize_t write_fifo(const struct op *op, int fd, const struct slot *s)
{
	struct iovec iov[2 * WARM_DEPTH];
	int n = fifo_iov(op, s, iov);
	ssize_t w;

	for (;;) {
		int spliced = op->warm && splice_works;

		if (spliced)
			w = vmsplice(fd, iov, (unsigned long)n, SPLICE_F_NONBLOCK);
		else
			w = writev(fd, iov, n);
		if (w >= 0)
			return w;
		if (spliced && (errno == EINVAL || errno == ENOSYS))
			splice_works = 0;	/* a kernel or sandbox without it */
		else if (errno != EINTR)
			return w;
	}
}

/* Counts n bytes written against the atoms they came from, in order. */
static void spread_written(const struct op *op, struct slot *s, size_t n)
{
	for (int i = s->writing; n > 0 && i < s->count; i++) {
		struct task *t = s->fifo[i];
		size_t left = input_total(op, t) - t->sent;
		size_t k = n < left ? n : left;

		t->sent += k;
		n -= k;
	}
}

/*
 * Feeds the child until its pipe is full.  A per-atom child that stops
 * reading (head -1, grep -q) is no failure: we stop writing and its exit
 * status decides.  A warm child must read everything, markers included.
 */
static void write_input(struct op *op, struct slot *s, int64_t now)
{
	while (s->child.in >= 0 && s->writing < s->count) {
		struct task *t = s->fifo[s->writing];
		ssize_t n;

		if (t->sent < input_total(op, t)) {
			if ((n = write_fifo(op, s->child.in, s)) >= 0) {
				spread_written(op, s, (size_t)n);
				continue;
			}
			if (errno == EAGAIN)
				return;
			if (op->warm)
				doom(op, s, now, ATOM_FAIL_PROTOCOL, 1,
				     "warm child stopped reading its input (%s)",
				     strerror(errno));
			else
				child_close_in(&s->child);
			return;
		}
		if (!op->warm) {
			child_close_in(&s->child);
			return;
		}
		s->writing++;
	}
}

/* ---- output ---- */

static void stray_output(struct slot *s, size_t n)
{
	if (n == 0 || s->warned_stray || s->doom.kind)
		return;
	s->warned_stray = 1;
	log_warn("warm child in slot %d wrote output outside any atom; discarded",
		 s->index);
}

/*
 * Warm: each end-marker line in the head's output completes that atom.
 * What follows a marker already belongs to the next atom in the fifo (the
 * child may be quick), so it moves there and is searched in turn.
 */
static void scan_markers(struct op *op, struct slot *s, size_t old,
			 int64_t now)
{
	size_t pl = op->marker_len;
	size_t from = old >= pl - 1 ? old - (pl - 1) : 0;
	struct task *t = head(s);
	long pos;

	while (t && (pos = hold_find_line(&t->out, op->marker, pl, from)) >= 0) {
		size_t tail = (size_t)pos + pl - 1;
		struct task *next = s->count > 1 ? s->fifo[1] : NULL;

		if (s->writing == 0) {
			doom(op, s, now, ATOM_FAIL_PROTOCOL, 0,
			     "warm child echoed the end marker before reading the whole atom");
			return;
		}
		if (next && hold_append(&next->out, t->out.buf + tail,
					t->out.len - tail) < 0) {
			doom(op, s, now, ATOM_FAIL_OUTPUT, 0, "%s",
			     next->out.err);
			return;
		}
		if (!next)
			stray_output(s, t->out.len - tail);
		t->out.len = (size_t)pos;
		t->out.line = 0;
		pop_head(s);
		op_task_succeeded(op, t);
		become_head(op, s, now);
		t = next;
		from = 0;
	}
}

/* Reads what the child wrote into the head atom's hold.  A doomed
 * invocation's output is drained and dropped: it will never be used. */
static void read_output(struct op *op, struct slot *s, int64_t now)
{
	static char discard[READ_CHUNK];

	for (int i = 0; i < READ_ROUNDS && s->child.out >= 0; i++) {
		struct task *t = s->doom.kind && !s->doom.soft ? NULL : head(s);
		size_t room = sizeof discard, old = 0;
		char *p = discard;
		ssize_t n;

		if (t) {
			old = t->out.len;
			if ((p = hold_space(&t->out, READ_CHUNK, &room)) == NULL) {
				doom(op, s, now, ATOM_FAIL_OUTPUT, 0, "%s",
				     t->out.err);
				continue;
			}
		}
		n = read(s->child.out, p, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			(void)close(s->child.out);
			s->child.out = -1;
			if (op->warm && !s->exiting)
				doom(op, s, now, ATOM_FAIL_PROTOCOL, 1,
				     "warm child closed its output before the end marker");
			return;
		}
		if (t == NULL) {
			if (!s->doom.kind)
				stray_output(s, (size_t)n);
			continue;
		}
		if (hold_commit(&t->out, (size_t)n) < 0) {
			doom(op, s, now, ATOM_FAIL_OUTPUT, 0, "%s", t->out.err);
			continue;
		}
		if (op->warm)
			scan_markers(op, s, old, now);
		if ((t = head(s)) && hold_spill(&t->out) < 0)
			doom(op, s, now, ATOM_FAIL_OUTPUT, 0, "%s", t->out.err);
	}
}

/* ---- the end of a child ---- */

/* What went wrong with the invocation, most telling reason first. */
static int classify(const struct op *op, const struct slot *s,
		    struct failure *f)
{
	const struct child *c = &s->child;

	memset(f, 0, sizeof *f);
	if ((s->doom.kind && !s->doom.soft) ||
	    (s->doom.kind && c->timed_out)) {
		*f = s->doom;
		return 1;
	}
	child_describe(c, f->why, sizeof f->why);
	if (c->timed_out) {
		f->kind = ATOM_FAIL_TIMEOUT;
	} else if (WIFSIGNALED(c->status)) {
		f->kind = ATOM_FAIL_SIGNAL;
		f->code = WTERMSIG(c->status);
	} else if (!WIFEXITED(c->status) || !op->ok_exit[WEXITSTATUS(c->status)]) {
		f->kind = ATOM_FAIL_EXIT;
		f->code = WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1;
	} else if (op->warm) {
		f->kind = ATOM_FAIL_PROTOCOL;
		snprintf(f->why, sizeof f->why,
			 "warm child exited (status 0) before echoing the end marker");
	}
	return f->kind != 0;
}

/* A warm child that ends with no atom to blame: say so if it was not our
 * doing, and let the next atom start a new one. */
static void warm_idle_end(const struct slot *s)
{
	char d[128];

	if (s->exiting && child_succeeded(&s->child))
		return;
	if (s->exiting && s->child.timed_out)
		return;
	child_describe(&s->child, d, sizeof d);
	if (s->exiting)
		log_warn("warm child in slot %d ended with %s", s->index, d);
	else if (s->doom.kind)
		log_warn("warm child in slot %d: %s; it ended with %s",
			 s->index, s->doom.why, d);
	else
		log_warn("warm child in slot %d exited between atoms: %s",
			 s->index, d);
}

/*
 * The child is reaped and its pipes are closed: decide its atoms.  The
 * head succeeds or fails; atoms behind it in a warm fifo were not to blame
 * and go back to the queue without an attempt counted.
 */
static void finish(struct op *op, struct slot *s)
{
	struct failure f;
	struct task *t = head(s);
	int failed = classify(op, s, &f);

	relay_flush(s);
	if (op->warm && t == NULL)
		warm_idle_end(s);
	child_close(&s->child);
	s->live = 0;
	s->exiting = 0;
	memset(&s->doom, 0, sizeof s->doom);
	while (s->count > 1) {
		struct task *back = s->fifo[--s->count];
		op_task_requeue(op, back);
	}
	s->writing = 0;
	if (t == NULL)
		return;
	s->count = 0;
	if (failed)
		op_task_failed(op, t, &f);
	else
		op_task_succeeded(op, t);
}

/* Pipes still open after the whole group was killed are held by something
 * that left the group: take what they hold and stop waiting. */
static void force_close(struct op *op, struct slot *s, int64_t now)
{
	if (s->child.out >= 0)
		read_output(op, s, now);
	if (s->child.err >= 0)
		relay_read(s);
	child_close(&s->child);
}

static void check_finished(struct op *op, struct slot *s, int64_t now)
{
	struct child *c = &s->child;

	if (!s->live || !c->reaped)
		return;
	if (c->out >= 0 || c->err >= 0) {
		if (c->stage == CHILD_KILLED && c->deadline == 0)
			force_close(op, s, now);
		else
			return;
	}
	finish(op, s);
}

static void reaped(struct op *op, struct slot *s, int64_t now)
{
	child_close_in(&s->child);
	if (s->child.out >= 0 || s->child.err >= 0)
		child_linger(&s->child, now, op->grace);
}

/* ---- the poll loop's view ---- */

int slot_pollfds(const struct op *op, struct slot *s, struct pollfd *p, int *n)
{
	struct child *c = &s->child;

	s->pin = s->pout = s->perr = s->ppid = -1;
	if (!s->live)
		return 0;
	if (c->in >= 0 && s->writing < s->count) {
		s->pin = *n;
		p[(*n)++] = (struct pollfd){ c->in, POLLOUT, 0 };
	}
	if (c->out >= 0) {
		s->pout = *n;
		p[(*n)++] = (struct pollfd){ c->out, POLLIN, 0 };
	}
	if (c->err >= 0) {
		s->perr = *n;
		p[(*n)++] = (struct pollfd){ c->err, POLLIN, 0 };
	}
	if (!c->reaped && c->pidfd >= 0) {
		s->ppid = *n;
		p[(*n)++] = (struct pollfd){ c->pidfd, POLLIN, 0 };
	}
	(void)op;
	/* Without a pidfd, only a timeout tells us the child has exited. */
	return !c->reaped && c->pidfd < 0;
}

static int ready(const struct pollfd *p, int i)
{
	return i >= 0 && p[i].revents != 0;
}

void slot_service(struct op *op, struct slot *s, const struct pollfd *p,
		  int64_t now)
{
	struct child *c = &s->child;

	if (!s->live)
		return;
	/*
	 * Stderr before stdout: a line is credited to the oldest atom not yet
	 * answered, so it must be read before the marker that answers the
	 * atom it was written for.  Output before the exit: a warm child's
	 * last markers must be seen before its exit is judged.
	 */
	if (ready(p, s->perr))
		relay_read(s);
	if (ready(p, s->pout))
		read_output(op, s, now);
	if (ready(p, s->pin))
		write_input(op, s, now);
	if (!c->reaped && (ready(p, s->ppid) || c->pidfd < 0) &&
	    child_reap(c, 0) > 0)
		reaped(op, s, now);
	check_finished(op, s, now);
}

int64_t slot_tick(struct op *op, struct slot *s, int64_t now)
{
	int64_t next;

	if (!s->live)
		return CHILD_NEVER;
	next = child_tick(&s->child, now);
	check_finished(op, s, now);
	return s->live ? next : CHILD_NEVER;
}

/* Warm: no more atoms will come, so the child is told (its stdin closes)
 * and given the grace period to exit before it is stopped. */
void slot_shutdown(struct op *op, struct slot *s, int64_t now)
{
	if (!s->live || s->exiting || s->count > 0)
		return;
	s->exiting = 1;
	child_close_in(&s->child);
	child_set_deadline(&s->child, now, op->grace, op->grace);
}

/* Ends the child at once, atoms and all: the run is being abandoned. */
void slot_abort(struct op *op, struct slot *s)
{
	(void)op;
	if (s->live)
		(void)child_stop(&s->child, 200 * NS_PER_MS);
	s->live = 0;
	s->count = 0;
}
