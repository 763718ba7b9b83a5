/*
 * waiters: parked GETs by queue name and by deadline (see waiters.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waiters.h"

/* The waiters of one queue name, oldest first. */
struct waitlist {
	char name[208];
	struct waiter *head, *tail;
};

void waiters_init(struct waiters *ws, uint64_t seed)
{
	memset(ws, 0, sizeof *ws);
	qtable_init(&ws->byname, seed);
	ws->heap = (struct heap)HEAP_INIT(struct waiter, deadline, heap);
}

/* ---- waiters ---- */

/* Parks a GET on queue until deadline; the caller fills in what to answer.
 * NULL if out of memory. */
struct waiter *waiters_add(struct waiters *ws, const char *queue,
			   zmq_msg_t *identity, int64_t deadline)
{
	struct waitlist *l = qtable_get(&ws->byname, queue);
	struct waiter *w;

	if (l == NULL) {
		if ((l = calloc(1, sizeof *l)) == NULL)
			return NULL;
		snprintf(l->name, sizeof l->name, "%s", queue);
		if (qtable_put(&ws->byname, l->name, l) < 0) {
			free(l);
			return NULL;
		}
	}
	if ((w = calloc(1, sizeof *w)) == NULL)
		goto fail;
	zmq_msg_init(&w->identity);
	if (zmq_msg_copy(&w->identity, identity) < 0) {
		zmq_msg_close(&w->identity);
		free(w);
		goto fail;
	}
	snprintf(w->queue, sizeof w->queue, "%s", queue);
	w->deadline = deadline;
	if (heap_push(&ws->heap, w) < 0) {
		zmq_msg_close(&w->identity);
		free(w);
		goto fail;
	}
	w->list = l;
	w->prev = l->tail;
	if (l->tail)
		l->tail->next = w;
	else
		l->head = w;
	l->tail = w;
	ws->n++;
	return w;
fail:
	if (l->head == NULL) {
		qtable_del(&ws->byname, l->name);
		free(l);
	}
	errno = ENOMEM;
	return NULL;
}

/* The oldest waiter on queue, or NULL. */
struct waiter *waiters_first(const struct waiters *ws, const char *queue)
{
	struct waitlist *l = qtable_get(&ws->byname, queue);

	return l ? l->head : NULL;
}

/* The waiter whose deadline is earliest, if it is not after now. */
struct waiter *waiters_expired(const struct waiters *ws, int64_t now)
{
	struct waiter *w = heap_top(&ws->heap);

	return w && w->deadline <= now ? w : NULL;
}

int64_t waiters_next_deadline(const struct waiters *ws)
{
	const struct waiter *w = heap_top(&ws->heap);

	return w ? w->deadline : INT64_MAX;
}

/* Unparks w (answered, or given up) and frees it. */
void waiters_remove(struct waiters *ws, struct waiter *w)
{
	struct waitlist *l = w->list;

	heap_remove(&ws->heap, w);
	ws->n--;
	if (w->prev)
		w->prev->next = w->next;
	else
		l->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		l->tail = w->prev;
	if (l->head == NULL) {
		qtable_del(&ws->byname, l->name);
		free(l);
	}
	zmq_msg_close(&w->identity);
	free(w);
}

void waiters_free(struct waiters *ws)
{
	struct waiter *w;

	while ((w = heap_top(&ws->heap)) != NULL)
		waiters_remove(ws, w);
	heap_free(&ws->heap);
	qtable_free(&ws->byname);
	memset(ws, 0, sizeof *ws);
}
