/*
 * waiters: GETs that found nothing and wait (long polls), by queue name
 * and by deadline.
 *
 * A waiter is parked under its queue's name, whether or not that queue
 * exists yet: a consumer started before its producer waits for the first
 * PUT, which creates the queue.  Waiters on one name are served oldest
 * first.  A min-heap on deadlines finds the waits that ran out without
 * looking at the others.  So serving costs nothing per idle waiter: the
 * event loop asks only for the waiters of the queues that changed in its
 * turn, and for those whose deadline has passed.
 *
 * This is bookkeeping only; ops.c decides what to answer.
 */
#ifndef SPSC_WAITERS_H
#define SPSC_WAITERS_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "heap.h"
#include "qtable.h"

struct waitlist;

struct waiter {
	zmq_msg_t identity;
	uint64_t reqid;
	char queue[208];
	uint32_t max;
	int64_t vis_ns;		/* 0: the queue's visibility timeout */
	int split;		/* the GET's split=1 */
	int64_t deadline;	/* mono ns */
	size_t heap;		/* index in waiters.heap */
	struct waitlist *list;
	struct waiter *prev, *next;	/* in its list, oldest first */
};

struct waiters {
	struct qtable byname;	/* queue name -> struct waitlist */
	struct heap heap;	/* on deadline */
	size_t n;		/* waiting GETs */
};

void waiters_init(struct waiters *ws, uint64_t seed);
struct waiter *waiters_add(struct waiters *ws, const char *queue,
			   zmq_msg_t *identity, int64_t deadline);
struct waiter *waiters_first(const struct waiters *ws, const char *queue);
struct waiter *waiters_expired(const struct waiters *ws, int64_t now);
int64_t waiters_next_deadline(const struct waiters *ws);
void waiters_remove(struct waiters *ws, struct waiter *w);
void waiters_free(struct waiters *ws);

#endif
