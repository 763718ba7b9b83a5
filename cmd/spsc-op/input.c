/*
 * input: taking atoms in, from a pipe, a file or a queue, and keeping the
 * leases of queued atoms alive while they are worked on.
 */
#include <stdint.h>

#include "log.h"
#include "op.h"
#include "opt.h"
#include "units.h"

/* An atom is read only when a slot can start on it at once: reading ahead
 * would only hold atoms (and, from a queue, their leases) idle. */
int op_want_input(struct op *op)
{
	return !op->input_done && !op->fatal && op->pending == NULL &&
	       slot_find_free(op) != NULL && op_free_task(op) != NULL;
}

static void lease_started(struct op *op, struct task *t, int64_t now)
{
	int64_t lease = endpoint_lease_ns(&op->in);

	t->touch_at = lease > 0 ? now + lease / 2 : INT64_MAX;
}

/*
 * Reads one atom into a free task, waiting at most wait_ns (negative: as
 * long as it takes).  1: an atom is pending; 0: none came in time; -1: the
 * input is over (its end, a stop request, or an error, which sets the
 * exit status).
 */
int op_read_input(struct op *op, int64_t wait_ns)
{
	struct task *t = op_free_task(op);
	int rc = endpoint_read_wait(&op->in, &t->in, wait_ns);

	if (rc == ENDPOINT_AGAIN)
		return 0;
	if (rc <= 0) {
		if (rc < 0) {
			log_error("%s", op->in.err);
			op->status = EXIT_FAIL;
		}
		op->input_done = 1;
		return -1;
	}
	t->seq = op->next_seq++;
	t->attempts = 0;
	t->dead = 0;
	t->settled = 0;
	atomid_hex(&t->in.id, t->idhex);
	lease_started(op, t, mono_ns());
	op->atoms_in++;
	op->events_in += t->in.events;
	op_push_back(op, t);
	return 1;
}

/*
 * A queued atom stays ours while its lease runs; one that is still being
 * worked on (or waits for its turn to be emitted) has its lease extended
 * when half of it is gone.  Returns when this next needs doing.
 */
int64_t op_touch_leases(struct op *op, int64_t now)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < op->ntasks && op->queue_in; i++) {
		struct task *t = &op->tasks[i];
		int64_t lease = endpoint_lease_ns(&op->in);

		if (t->state == TASK_FREE || t->settled)
			continue;
		if (now >= t->touch_at && lease > 0) {
			t->touch_at = now + lease / 2;
			/* A lost lease stays lost: say so once. */
			if (endpoint_touch(&op->in, &t->in, lease) < 0) {
				log_warn("%s: %s", t->idhex, op->in.err);
				t->touch_at = INT64_MAX;
			}
		}
		if (t->touch_at < next)
			next = t->touch_at;
	}
	return next;
}
