#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "grow.h"
#include "queue.h"

#define GONE_MAX 1000000

struct queue *queue_new(const char *name, const struct queue_conf *conf)
{
	struct queue *q = calloc(1, sizeof *q);

	if (q == NULL)
		return NULL;
	snprintf(q->name, sizeof q->name, "%s", name);
	q->conf = *conf;
	q->timers = (struct heap)HEAP_INIT(struct entry, due, heap);
	q->times = (struct heap)HEAP_INIT(struct entry, tmin, times);
	/* Small at first, doubling as atoms come: an idle queue costs under
	 * a kilobyte, so ten thousand of them fit in a few megabytes. */
	q->nslots = 16;
	q->slots = calloc(q->nslots, sizeof *q->slots);
	if (q->slots == NULL) {
		free(q);
		return NULL;
	}
	return q;
}

void queue_free(struct queue *q)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < q->nslots; i++)
		free(q->slots[i].e);
	free(q->slots);
	heap_free(&q->timers);
	heap_free(&q->times);
	flow_free(&q->flow);
	free(q);
}

/* ---- the id map: linear probing, backward-shift deletion ---- */

static size_t home_of(const struct queue *q, uint64_t tag)
{
	return (size_t)tag & (q->nslots - 1);
}

struct entry *queue_find(struct queue *q, const struct atom_id *id)
{
	uint64_t tag = atomid_hash(id);

	for (size_t i = home_of(q, tag);; i = (i + 1) & (q->nslots - 1)) {
		struct id_slot *s = &q->slots[i];
		if (s->e == NULL || (s->tag == tag && atomid_equal(&s->e->id, id)))
			return s->e;
	}
}

/*
 * Starts loading the slot where a lookup of id begins, and returns at
 * once.  With many atoms queued the map is megabytes, and the first load
 * of a lookup was nearly all of its time (90% of queue_find, itself the
 * coordinator's busiest function with 1-event atoms).  A request of a
 * hundred atoms prefetches all their slots before looking any up, so the
 * hundred cache misses overlap instead of coming one after another.
 */
void queue_prefetch(const struct queue *q, const struct atom_id *id)
{
	__builtin_prefetch(&q->slots[home_of(q, atomid_hash(id))]);
}

/* Into the first free slot of the tag's run (the caller made room). */
static void slot_place(struct id_slot *slots, size_t mask, uint64_t tag,
		       struct entry *e)
{
	size_t i;

	for (i = (size_t)tag & mask; slots[i].e; i = (i + 1) & mask)
		;
	slots[i] = (struct id_slot){ tag, e };
}

static int map_grow(struct queue *q)
{
	size_t old = q->nslots;
	struct id_slot *slots = q->slots;

	q->slots = calloc(2 * old, sizeof *q->slots);
	if (q->slots == NULL) {
		q->slots = slots;
		return -1;
	}
	q->nslots = 2 * old;
	for (size_t i = 0; i < old; i++)
		if (slots[i].e)
			slot_place(q->slots, q->nslots - 1, slots[i].tag, slots[i].e);
	free(slots);
	return 0;
}

static int map_insert(struct queue *q, struct entry *e)
{
	if (4 * (q->nused + 1) > 3 * q->nslots && map_grow(q) < 0)
		return -1;
	slot_place(q->slots, q->nslots - 1, atomid_hash(&e->id), e);
	q->nused++;
	return 0;
}

static void map_delete(struct queue *q, struct entry *e)
{
	size_t mask = q->nslots - 1, i = home_of(q, atomid_hash(&e->id)), j;

	while (q->slots[i].e != e)
		i = (i + 1) & mask;
	/* Shift later members of the probe run back into the hole, so that
	 * lookups never need tombstones. */
	for (j = (i + 1) & mask; q->slots[j].e; j = (j + 1) & mask) {
		size_t home = home_of(q, q->slots[j].tag);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			q->slots[i] = q->slots[j];
			i = j;
		}
	}
	q->slots[i] = (struct id_slot){ 0, NULL };
	q->nused--;
}

/* ---- lists ---- */

static void list_append(struct entry_list *l, struct entry *e)
{
	e->next = NULL;
	e->prev = l->tail;
	if (l->tail)
		l->tail->next = e;
	else
		l->head = e;
	l->tail = e;
}

static void list_remove(struct entry_list *l, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
}

/* ---- state changes ---- */

/* Takes an entry out of whatever structure its state puts it in. */
static void detach(struct queue *q, struct entry *e)
{
	switch (e->state) {
	case E_READY:
		list_remove(&q->ready, e);
		q->n.ready--;
		break;
	case E_INFLIGHT:
		heap_remove(&q->timers, e);
		q->n.inflight--;
		break;
	case E_DELAYED:
		heap_remove(&q->timers, e);
		q->n.delayed--;
		break;
	case E_GONE:
		list_remove(&q->gone, e);
		q->ngone--;
		break;
	}
}

static void make_ready(struct queue *q, struct entry *e)
{
	e->state = E_READY;
	e->due = 0;
	list_append(&q->ready, e);
	q->n.ready++;
}

struct entry *queue_put(struct queue *q, const struct atom_id *id,
			const struct record_pos *pos, uint32_t len,
			uint32_t events, int64_t put_wall, int64_t tmin)
{
	struct entry *e = calloc(1, sizeof *e);

	if (e == NULL)
		return NULL;
	e->id = *id;
	e->pos = *pos;
	e->len = len;
	e->events = events;
	e->put_wall = put_wall;
	e->tmin = tmin;
	/* Without its place in the times heap the watermark could pass the
	 * atom's events: refuse it, as for any other lack of memory. */
	if (tmin != ATOM_TIME_NONE && heap_push(&q->times, e) < 0) {
		free(e);
		return NULL;
	}
	if (map_insert(q, e) < 0) {
		if (tmin != ATOM_TIME_NONE)
			heap_remove(&q->times, e);
		free(e);
		return NULL;
	}
	make_ready(q, e);
	q->n.bytes += len;
	q->n.put++;
	return e;
}

struct entry *queue_next_ready(struct queue *q)
{
	return q->ready.head;
}

/* Hands an entry out until due (INFLIGHT), counting the delivery. */
void queue_lease(struct queue *q, struct entry *e, int64_t due)
{
	detach(q, e);
	e->state = E_INFLIGHT;
	e->due = due;
	e->deliveries++;
	q->n.inflight++;
	if (heap_push(&q->timers, e) < 0) {
		/* No memory for the timer: deliver anyway, and let it be
		 * visible again at once rather than never. */
		q->n.inflight--;
		make_ready(q, e);
	}
}

/* Returns an in-flight entry to the queue, at once or after a delay. */
void queue_release(struct queue *q, struct entry *e, int64_t due)
{
	detach(q, e);
	if (due == 0) {
		make_ready(q, e);
		return;
	}
	e->state = E_DELAYED;
	e->due = due;
	q->n.delayed++;
	if (heap_push(&q->timers, e) < 0) {
		q->n.delayed--;
		make_ready(q, e);
	}
}

/* Extends a lease; the entry stays in flight. */
void queue_touch(struct queue *q, struct entry *e, int64_t due)
{
	e->due = due;
	heap_update(&q->timers, e);
}

/* Removes an entry entirely, id and all (no de-duplication memory). */
/* The atom is no longer held: its event times no longer hold the
 * watermark back. */
static void untime(struct queue *q, struct entry *e)
{
	if (e->tmin != ATOM_TIME_NONE && e->state != E_GONE)
		heap_remove(&q->times, e);
}

void queue_drop(struct queue *q, struct entry *e)
{
	untime(q, e);
	detach(q, e);
	if (e->state != E_GONE)
		q->n.bytes -= e->len;
	map_delete(q, e);
	free(e);
}

/*
 * The atom has left the queue (ACKed, dead-lettered or purged).  Its id is
 * remembered for the de-duplication window, then forgotten.
 */
void queue_forget(struct queue *q, struct entry *e, int64_t now)
{
	untime(q, e);
	detach(q, e);
	q->n.bytes -= e->len;
	e->state = E_GONE;
	e->due = now + q->conf.dedup_window_ns;
	list_append(&q->gone, e);
	q->ngone++;
	if (q->ngone > GONE_MAX || q->conf.dedup_window_ns == 0) {
		struct entry *old = q->gone.head;
		list_remove(&q->gone, old);
		q->ngone--;
		map_delete(q, old);
		free(old);
	}
}

/*
 * Moves every entry whose time has come: leases that ran out become ready
 * again (the next GET is a redelivery), delays that ended become ready, and ids past the
 * de-duplication window are forgotten.  Returns how many became ready.
 */
int queue_expire(struct queue *q, int64_t now)
{
	struct entry *e;
	int n = 0;

	while ((e = heap_top(&q->timers)) != NULL && e->due <= now) {
		detach(q, e);
		make_ready(q, e);
		n++;
	}
	while (q->gone.head && q->gone.head->due <= now) {
		e = q->gone.head;
		list_remove(&q->gone, e);
		q->ngone--;
		map_delete(q, e);
		free(e);
	}
	return n;
}

int64_t queue_next_due(const struct queue *q)
{
	const struct entry *top = heap_top(&q->timers);
	int64_t due = top ? top->due : INT64_MAX;

	if (q->gone.head && q->gone.head->due < due)
		due = q->gone.head->due;
	return due;
}

uint64_t queue_depth(const struct queue *q)
{
	return q->n.ready + q->n.inflight + q->n.delayed;
}

int queue_complete(const struct queue *q)
{
	return flow_complete(&q->flow, queue_depth(q));
}

int64_t queue_watermark(const struct queue *q)
{
	const struct entry *top = heap_top(&q->times);

	return flow_watermark(&q->flow, queue_depth(q), q->times.n,
			      top ? top->tmin : ATOM_TIME_NONE);
}
