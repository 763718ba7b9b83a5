/*
 * stage: the loop of spsc-reduce and the order that makes it exactly once.
 *
 * An input atom is applied in memory; what it makes waits in the outbox;
 * a checkpoint writes the state and the outbox durably; then the outbox
 * is written out (PUTs are idempotent by atom id) and only then are the
 * inputs acknowledged.  A crash anywhere leaves either the old checkpoint
 * (the atoms come back and are applied again) or the new one (the atoms
 * come back, are found among the applied ids, and are only acknowledged;
 * the outbox is written again at start).
 */
#include <stdio.h>
#include <string.h>

#include "grow.h"
#include "log.h"
#include "opt.h"
#include "stage.h"
#include "stop.h"
#include "units.h"

/* Over a queue, how often an idle stage looks at the input's watermark. */
#define IDLE_WAKE NS_PER_SEC

/* --- writing outputs ------------------------------------------------- */

int stage_flush(void *arg)
{
	struct stage *st = arg;
	struct outbox *ob = &st->r.outbox;
	char err[700];

	for (size_t i = 0; i < ob->n; i++) {
		const struct atom *a = ob->v[i];
		int rc;
		if (ob->dest[i] == DEST_RESULTS) {
			rc = endpoint_write(&st->out, a);
			if (rc < 0)
				snprintf(err, sizeof err, "%s", st->out.err);
		} else {
			rc = lazy_output_write(ob->dest[i] == DEST_LATE ? st->late_out
									: &st->dlq,
					       a, err, sizeof err);
		}
		if (rc < 0) {
			log_error("%s", err);
			return -1;
		}
	}
	/* queue outputs batch their PUTs: stored before the outbox goes */
	if (ob->n > 0 && endpoints_flush(err, sizeof err) < 0) {
		log_error("%s", err);
		return -1;
	}
	outbox_clear(ob);
	return 0;
}

static int pending_add(struct stage *st, const struct atom *a)
{
	if (grow(&st->pending, &st->pending_cap, st->npending + 1,
		 sizeof *st->pending) < 0) {
		log_error("out of memory");
		return -1;
	}
	if (st->npending == 0)
		st->first_pending = mono_ns();
	st->pending[st->npending].id = a->id;
	st->pending[st->npending].attempt = a->attempt;
	st->npending++;
	return 0;
}

/*
 * Settles the atoms waiting for a checkpoint.  covered: a durable
 * checkpoint covers them, so they are acknowledged; a failed ack is only
 * a warning, since the atom comes back after its lease, is found among
 * the applied ids and is acknowledged then.  Otherwise they are given
 * back: the state that took them is lost with the process, so they must
 * be applied again.
 */
static void settle_pending(struct stage *st, int covered)
{
	struct atom a;

	atom_init(&a);
	for (size_t i = 0; i < st->npending; i++) {
		a.id = st->pending[i].id;
		a.attempt = st->pending[i].attempt;
		if (!covered)
			(void)endpoint_nack(&st->in, &a, 0);
		else if (endpoint_ack(&st->in, &a) < 0)
			log_warn("%s (it is in the checkpoint; its next delivery will only be acknowledged)",
				 st->in.err);
	}
	st->npending = 0;
}

/* Checkpoint, then write the outbox, then acknowledge: see the top. */
static int checkpoint(struct stage *st)
{
	char err[900];

	if (ckpt_save(&st->ck, &st->r, err, sizeof err) < 0) {
		log_error("%s", err);
		return -1;
	}
	if (stage_flush(st) < 0)
		return -1;
	settle_pending(st, 1);
	st->results_waiting = 0;
	return 0;
}

static int64_t checkpoint_every(const struct stage *st)
{
	int64_t lease = endpoint_lease_ns(&st->in), every = st->o.every;

	/* Atoms wait for their checkpoint unacknowledged: it must come well
	 * before their leases run out, or they go to another consumer. */
	if (lease > 0 && lease / 2 < every)
		every = lease / 2;
	return every;
}

static int maybe_checkpoint(struct stage *st)
{
	if (!st->durable)
		return stage_flush(st);
	if (st->results_waiting ||
	    (st->npending > 0 &&
	     (st->npending >= (size_t)st->o.every_atoms ||
	      mono_ns() - st->first_pending >= checkpoint_every(st))))
		return checkpoint(st);
	return 0;
}

/* --- the main loop --------------------------------------------------- */

static int64_t input_watermark(const struct stage *st)
{
	return st->r.event_time ? endpoint_watermark(&st->in) : wall_ns();
}

static int close_windows(struct stage *st)
{
	int n;

	reduce_watermark(&st->r, input_watermark(st));
	if ((n = reduce_pass(&st->r)) < 0) {
		log_error("%s", st->r.err);
		return -1;
	}
	if (n > 0)
		st->results_waiting = 1;
	return 0;
}

static int take_atom(struct stage *st, const struct atom *a)
{
	struct reduce *r = &st->r;

	if (st->durable && idset_contains(&r->applied, &a->id)) {
		char hex[ATOMID_HEX_LEN + 1];
		atomid_hex(&a->id, hex);
		log_debug("atom %s was applied before: acknowledged only", hex);
		return pending_add(st, a) < 0 ? -1 : maybe_checkpoint(st);
	}
	if (reduce_atom(r, a) < 0) {
		log_error("%s", r->err);
		return -1;
	}
	if (st->durable) {
		if (idset_add(&r->applied, &a->id) < 0 || pending_add(st, a) < 0) {
			log_error("out of memory");
			return -1;
		}
	}
	if (close_windows(st) < 0)
		return -1;
	return maybe_checkpoint(st);
}

/* How long to wait for input before there is something else to do. */
static int64_t next_wait(const struct stage *st)
{
	int64_t wait = -1, now, d;
	const struct win *top = heap_top(&st->r.state.heap);

	if (st->durable && st->npending > 0) {
		d = st->first_pending + checkpoint_every(st) - mono_ns();
		wait = d < 0 || endpoint_input_closed(&st->in) ? 0 : d;
	}
	if (!st->r.event_time && top) {
		now = wall_ns();
		d = top->end <= now ? 0 : top->end - now;
		if (wait < 0 || d < wait)
			wait = d;
	}
	if (endpoint_is_queue(&st->in) && (wait < 0 || wait > IDLE_WAKE))
		wait = IDLE_WAKE;
	return wait;
}

/* Nothing came within the wait.  An input whose producers are done will
 * bring nothing more but the atoms held here: the checkpoint that
 * acknowledges them goes now, not at its time, so that the input can
 * complete and the stage end (its cadence is unchanged while input
 * flows). */
static int tick(struct stage *st)
{
	if (close_windows(st) < 0)
		return -1;
	if (st->durable && st->npending > 0 && endpoint_input_closed(&st->in))
		return checkpoint(st);
	return maybe_checkpoint(st);
}

/* The input is complete: every window closes, the last checkpoint
 * covers everything, and the output is finished. */
static int end_of_input(struct stage *st)
{
	reduce_watermark(&st->r, ATOM_TIME_END);
	if (reduce_pass(&st->r) < 0) {
		log_error("%s", st->r.err);
		return -1;
	}
	if (st->durable) {
		int wrote = st->r.outbox.n > 0;
		if (checkpoint(st) < 0)
			return -1;
		/* Once more without the outbox, so that a restart does not
		 * write it again to an output already finished. */
		if (wrote && checkpoint(st) < 0)
			return -1;
	} else if (stage_flush(st) < 0) {
		return -1;
	}
	if (endpoint_finish(&st->out) < 0) {
		log_error("%s", st->out.err);
		return -1;
	}
	return 0;
}

/* SIGTERM: what was applied is kept (checkpointed) and acknowledged; the
 * open windows go on at the next start. */
static int stopped(struct stage *st)
{
	if (st->durable)
		return st->npending || st->r.outbox.n ? checkpoint(st) : 0;
	if (stage_flush(st) < 0)
		return -1;
	if (st->r.state.nwins)
		log_warn("stopped: %zu open windows of %zu keys are lost (give --state DIR to keep them across runs)",
			 st->r.state.nwins, st->r.state.ngroups);
	return 0;
}

int stage_run(struct stage *st)
{
	struct atom a;
	int rc, status = EXIT_OK;

	atom_init(&a);
	for (;;) {
		rc = endpoint_read_wait(&st->in, &a, next_wait(st));
		if (rc == ENDPOINT_AGAIN) {
			if (tick(st) < 0)
				break;
			continue;
		}
		if (rc < 0)
			log_error("%s", st->in.err);
		if (rc <= 0)
			break;
		if (take_atom(st, &a) < 0) {
			(void)endpoint_nack(&st->in, &a, 0);
			rc = -1;
			break;
		}
	}
	if (rc != 0)
		status = EXIT_FAIL;
	else if (stop_requested)
		status = stopped(st) < 0 ? EXIT_FAIL : EXIT_OK;
	else
		status = end_of_input(st) < 0 ? EXIT_FAIL : EXIT_OK;
	if (status != EXIT_OK)
		settle_pending(st, 0);
	atom_free(&a);
	return status;
}

