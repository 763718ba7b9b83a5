/*
 * tasks: what becomes of an input atom.  A successful one is emitted (in
 * input order with --ordered) and then acknowledged; a failed one is
 * retried, dead-lettered or, from a queue, handed back with a NACK.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "log.h"
#include "op.h"
#include "opt.h"

void op_fatal(struct op *op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	op->fatal = 1;
	op->status = EXIT_FAIL;
}

/* ---- the pending queue ---- */

void op_push_back(struct op *op, struct task *t)
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

struct task *op_pop_pending(struct op *op)
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

struct task *op_free_task(struct op *op)
{
	for (size_t i = 0; i < op->ntasks; i++)
		if (op->tasks[i].state == TASK_FREE)
			return &op->tasks[i];
	return NULL;
}

/* ---- output ---- */

/* The watermark to pass on (atom_wm_pass): over a pipe the input's has
 * moved past the atoms still in hand, so they hold it back. */
static int64_t output_watermark(struct op *op)
{
	int64_t held = ATOM_TIME_NONE;

	for (size_t i = 0; i < op->ntasks; i++) {
		const struct task *t = &op->tasks[i];
		if (t->state != TASK_FREE && t->in.tmin != ATOM_TIME_NONE &&
		    (held == ATOM_TIME_NONE || t->in.tmin < held))
			held = t->in.tmin;
	}
	return atom_wm_pass(&op->wm_out, endpoint_watermark(&op->in), held);
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
	int64_t wm;

	if (hold_size(&t->out) == 0) {
		op->empty++;
		return;
	}
	if (hold_view(&t->out, &data, &len) < 0) {
		op_fatal(op, "%s: %s", t->idhex, t->out.err);
		return;
	}
	wm = output_watermark(op);	/* the same for every piece */
	while (pos < len && !op->fatal) {
		size_t take = len - pos;
		struct atom a;

		if (take > op->max_atom)
			take = event_last_end(data + pos, op->max_atom);
		atom_init(&a);
		a.id = atomid_child(&t->in.id, op->salt, ordinal++);
		a.created_ns = t->in.created_ns;
		/* The command keeps, drops or changes events: their times
		 * stay within the input's, as far as anyone can tell. */
		a.tmin = t->in.tmin;
		a.tmax = t->in.tmax;
		a.wm = wm;
		a.data = (char *)data + pos;
		a.len = take;
		a.events = (uint32_t)event_count(a.data, a.len);
		if (endpoint_write(&op->out, &a) < 0) {
			op_fatal(op, "%s", op->out.err);
			break;
		}
		op->atoms_out++;
		op->events_out += a.events;
		pos += take;
	}
	hold_unview(&t->out);
}

/*
 * The input atom is done with: from a queue it is deleted now, after every
 * output made from it was accepted (chain acknowledgement).  A lost lease
 * means another consumer has it too; its outputs have the same ids, so a
 * de-duplicating sink keeps one copy.
 */
static void settle(struct op *op, struct task *t)
{
	if (t->settled || op->fatal)
		return;
	t->settled = 1;
	if (endpoint_ack(&op->in, &t->in) < 0)
		log_warn("%s: %s", t->idhex, op->in.err);
}

/* Buffers above this are given back when their task ends: memory follows
 * the atoms in hand, not the biggest ever seen. */
#define KEEP_BUFFER ((size_t)4 << 20)

static void release(struct task *t)
{
	t->state = TASK_FREE;
	hold_trim(&t->out, KEEP_BUFFER);
	if (t->in.cap > KEEP_BUFFER)
		atom_free(&t->in);
}

static void finish(struct op *op, struct task *t)
{
	if (!t->dead)
		emit_output(op, t);
	settle(op, t);
	release(t);
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
				finish(op, t);
				op->next_emit++;
				found = 1;
			}
		}
	}
}

/* A task has come to its end: output held, or nothing to emit. */
static void task_done(struct op *op, struct task *t)
{
	if (!op->ordered) {
		finish(op, t);
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
		op_fatal(op, "%s", op->dlq.err);
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

	if (open_dlq(op) < 0)
		return;
	d.attempt = t->attempts;
	d.fail_kind = f->kind;
	d.fail_code = f->code;
	if (endpoint_write(&op->dlq, &d) < 0) {
		op_fatal(op, "%s: cannot dead-letter: %s", t->idhex, op->dlq.err);
		return;
	}
	op->dead++;
	log_warn("%s: dead-lettered to %s after %u attempt%s: %s", t->idhex,
		 op->dlq.name, t->attempts, t->attempts == 1 ? "" : "s", f->why);
}

/* From a queue, a failure goes back to the queue at once: its receive
 * count and max-receives decide about retries and its dead-letter queue. */
static void hand_back(struct op *op, struct task *t, const struct failure *f)
{
	log_warn("%s: failed: %s; returned to %s (delivery %u)", t->idhex,
		 f->why, op->in.name, t->in.attempt);
	t->settled = 1;
	op->nacked++;
	if (endpoint_nack(&op->in, &t->in, 0) < 0)
		log_warn("%s: %s", t->idhex, op->in.err);
}

void op_task_failed(struct op *op, struct task *t, const struct failure *f)
{
	hold_reset(&t->out);
	if (op->queue_in) {
		hand_back(op, t, f);
	} else if (t->attempts < op->attempts) {
		log_warn("%s: attempt %u of %u failed: %s; retrying", t->idhex,
			 t->attempts, op->attempts, f->why);
		op->retries++;
		push_front(op, t);
		return;
	} else {
		dead_letter(op, t, f);
	}
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

/* Abandoning the run: atoms from a queue go back for someone else now,
 * rather than when their leases run out. */
void op_hand_back_all(struct op *op)
{
	for (size_t i = 0; i < op->ntasks && op->queue_in; i++) {
		struct task *t = &op->tasks[i];
		if (t->state != TASK_FREE && !t->settled) {
			t->settled = 1;
			(void)endpoint_nack(&op->in, &t->in, 0);
		}
	}
}
