/*
 * table: the coordinator's queues by name, and which of them need the
 * clock.
 *
 * Nothing here walks every queue on a request or on a turn of the event
 * loop, so a coordinator with ten thousand idle queues serves as fast as
 * one with ten:
 *
 *   - a lookup is one hash of the name (qtable.c);
 *   - a queue with a timer (a lease, a delay, a forgotten id's window,
 *     retention with atoms ready) sits in a min-heap on its next due time,
 *     so the loop learns how long it may sleep from the top of the heap,
 *     and expires leases only in the queues whose time has come;
 *   - every change to a queue goes through queue_lookup, which notes the
 *     queue as touched: at the end of the turn the loop serves the GETs
 *     waiting on the touched queues and re-reads their next due time
 *     (queues_settle).  Idle queues cost nothing per turn;
 *   - the in/out rates of status are rolled forward when a queue is
 *     looked up or reported, not once a second for every queue.
 *
 * Creating a queue here is never refused: the limit on the queues clients
 * may create (--max-queues) is the handlers' to check (ops.c), because
 * the replay, queues.json and dead-lettering must always get their queue.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "coord.h"
#include "grow.h"
#include "hash.h"
#include "units.h"

int table_init(struct coord *c)
{
	uint64_t seed;

	/* Only a client's guess of the seed matters, so a weak fallback is
	 * still better than none. */
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
		seed = hash_mix64((uint64_t)mono_ns() ^ ((uint64_t)getpid() << 32));
	c->seed = seed;
	qtable_init(&c->byname, seed);
	c->timers = (struct heap)HEAP_INIT(struct queue_extra, due, timer);
	waiters_init(&c->waiters, hash_mix64(seed));
	return 0;
}

void table_free(struct coord *c)
{
	for (size_t i = 0; i < c->nqueues; i++) {
		queue_free(c->queues[i]);
		free(c->extras[i]->consumers);
		free(c->extras[i]);
	}
	free(c->queues);
	free(c->extras);
	heap_free(&c->timers);
	free(c->touched);
	qtable_free(&c->byname);
	waiters_free(&c->waiters);
}

struct queue_extra *queue_extra_of(const struct coord *c, const struct queue *q)
{
	return qtable_get(&c->byname, q->name);
}

size_t queue_index(struct coord *c, const struct queue *q)
{
	return queue_extra_of(c, q)->index;
}

/* The queue called name, if there is one; unlike queue_lookup, this
 * changes nothing (for status and other readers). */
struct queue *queue_named(const struct coord *c, const char *name)
{
	struct queue_extra *x = qtable_get(&c->byname, name);

	return x ? x->q : NULL;
}

/* ---- the timer heap: queues on their next due time ---- */

static void timer_remove(struct coord *c, struct queue_extra *x)
{
	if (x->timer == NO_TIMER)
		return;
	heap_remove(&c->timers, x);
	x->timer = NO_TIMER;
}

/* Puts x in the heap at due, moves it, or takes it out (INT64_MAX).  The
 * heap has room for every queue (queue_create), so this cannot fail. */
static void timer_set(struct coord *c, struct queue_extra *x, int64_t due)
{
	if (due == INT64_MAX) {
		timer_remove(c, x);
		return;
	}
	x->due = due;
	if (x->timer == NO_TIMER)
		(void)heap_push(&c->timers, x);
	else
		heap_update(&c->timers, x);
}

/* When queues_tick next has work for x: a lease or delay running out, a
 * forgotten id leaving the de-duplication window, or the once-a-second
 * retention check of a queue with atoms ready. */
static int64_t next_due(const struct queue_extra *x)
{
	const struct queue *q = x->q;
	int64_t due = queue_next_due(q);

	if (q->conf.retention_ns && q->n.ready > 0 &&
	    x->retention_checked + NS_PER_SEC < due)
		due = x->retention_checked + NS_PER_SEC;
	return due;
}

/* ---- touched queues ---- */

/* The list has room for every queue (queue_create). */
static void touch(struct coord *c, struct queue_extra *x)
{
	if (x->touched)
		return;
	c->touched[c->ntouched++] = x;
	x->touched = c->ntouched;
}

static void untouch(struct coord *c, struct queue_extra *x)
{
	struct queue_extra *last;

	if (!x->touched)
		return;
	last = c->touched[--c->ntouched];
	c->touched[x->touched - 1] = last;
	last->touched = x->touched;
	x->touched = 0;
}

/* At the end of a turn: the touched queues' next due times into the heap. */
void queues_settle(struct coord *c)
{
	for (size_t i = 0; i < c->ntouched; i++) {
		timer_set(c, c->touched[i], next_due(c->touched[i]));
		c->touched[i]->touched = 0;
	}
	c->ntouched = 0;
}

/* The next queue whose time has come, taken out of the heap and marked
 * touched (queues_settle puts it back); NULL when none is due. */
struct queue_extra *queues_due(struct coord *c, int64_t now)
{
	struct queue_extra *x;

	x = heap_top(&c->timers);
	if (x == NULL || x->due > now)
		return NULL;
	timer_remove(c, x);
	touch(c, x);
	return x;
}

int64_t queues_next_due(const struct coord *c)
{
	const struct queue_extra *x = heap_top(&c->timers);

	return x ? x->due : INT64_MAX;
}

/* ---- rates ---- */

/*
 * Rolls the per-second history of the put and acked totals forward to
 * now.  The totals only change through a lookup, which rolls first, so
 * every second skipped since the last roll saw the totals as they are.
 */
void queue_roll_rates(struct queue_extra *x, int64_t now)
{
	const struct queue *q = x->q;
	int64_t secs;
	size_t n;

	if (x->last_tick == 0) {
		for (int k = 0; k < RATE_WINDOW; k++) {
			x->put_hist[k] = q->n.put;
			x->out_hist[k] = q->n.acked;
		}
		x->last_tick = now;
		return;
	}
	secs = (now - x->last_tick) / NS_PER_SEC;
	if (secs <= 0)
		return;
	x->last_tick += secs * NS_PER_SEC;
	n = secs < RATE_WINDOW ? (size_t)secs : RATE_WINDOW;
	memmove(x->put_hist + n, x->put_hist, (RATE_WINDOW - n) * sizeof x->put_hist[0]);
	memmove(x->out_hist + n, x->out_hist, (RATE_WINDOW - n) * sizeof x->out_hist[0]);
	for (size_t k = 0; k < n; k++) {
		x->put_hist[k] = q->n.put;
		x->out_hist[k] = q->n.acked;
	}
}

/* After the replay: rates start at zero, not at the totals restored. */
void queues_start_rates(struct coord *c, int64_t now)
{
	for (size_t i = 0; i < c->nqueues; i++) {
		c->extras[i]->last_tick = 0;
		queue_roll_rates(c->extras[i], now);
	}
}

/* ---- the table ---- */

static struct queue_extra *queue_create(struct coord *c, const char *name)
{
	size_t xcap = c->queues_cap, need = c->nqueues + 1;
	struct queue_extra *x;
	struct queue *q;

	/* Room in the timer heap and the touched list for every queue now,
	 * so that neither can fail later. */
	if (grow(&c->extras, &xcap, need, sizeof *c->extras) < 0 ||
	    grow(&c->queues, &c->queues_cap, need, sizeof *c->queues) < 0 ||
	    heap_reserve(&c->timers, need) < 0 ||
	    grow(&c->touched, &c->touched_cap, need, sizeof *c->touched) < 0)
		return NULL;
	q = queue_new(name, &c->opt.defaults);
	x = calloc(1, sizeof *x);
	if (q == NULL || x == NULL || qtable_put(&c->byname, q->name, x) < 0) {
		queue_free(q);
		free(x);
		return NULL;
	}
	x->q = q;
	x->index = c->nqueues;
	x->timer = NO_TIMER;
	c->queues[c->nqueues] = q;
	c->extras[c->nqueues++] = x;
	/* Its PUT records say it exists, so it need not be synced now. */
	c->totals_dirty = 1;
	return x;
}

/*
 * The queue called name, made with the defaults if create and there is
 * none (NULL if not, or out of memory).  The queue is noted as touched:
 * callers look a queue up to change it.
 */
struct queue *queue_lookup(struct coord *c, const char *name, int create)
{
	struct queue_extra *x = qtable_get(&c->byname, name);
	int64_t now = mono_ns();

	if (x == NULL && (!create || (x = queue_create(c, name)) == NULL))
		return NULL;
	queue_roll_rates(x, now);
	touch(c, x);
	return x->q;
}

void queue_destroy(struct coord *c, struct queue *q)
{
	struct queue_extra *x = qtable_del(&c->byname, q->name);
	size_t i = x->index;

	timer_remove(c, x);
	untouch(c, x);
	/* The last queue takes its place: the order of the table is not
	 * part of anything (status sorts by name). */
	c->nqueues--;
	if (i != c->nqueues) {
		c->queues[i] = c->queues[c->nqueues];
		c->extras[i] = c->extras[c->nqueues];
		c->extras[i]->index = i;
	}
	queue_free(q);
	free(x->consumers);
	free(x);
	c->conf_dirty = 1;
}

/* After a replay: a queue the log mentions but queues.json does not, with
 * nothing left in it, was deleted before the crash (or made by a PUT
 * whose atoms have all gone, which is the same to a client); forget it. */
void queues_forget_unlisted(struct coord *c)
{
	for (size_t i = c->nqueues; i-- > 0;)
		if (!c->extras[i]->configured && queue_depth(c->queues[i]) == 0)
			queue_destroy(c, c->queues[i]);
}
