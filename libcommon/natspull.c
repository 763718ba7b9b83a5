/*
 * natspull: pull requests of our own to a JetStream consumer (natspull.h
 * says why).
 *
 * The box is what the reader and the library's delivery thread share,
 * under its lock: the messages come in on that thread (on_msg), and are
 * taken on the reader's.  Each holds a reference; the subscription's is
 * dropped by its completion callback, after its last on_msg, so neither
 * side frees what the other may still touch.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "grow.h"
#include "natspull.h"
#include "units.h"

/* A request whose end (its status message) never came, lost with a
 * server, is taken as over this long after its expiry. */
#define END_GRACE_NS (500 * NS_PER_MS)
/* How long a close waits for what is already on its way to come in and
 * be handed back. */
#define DRAIN_WAIT_MS 2000

struct natspull_box {
	pthread_mutex_t lock;
	int refs;		/* the reader's, and the subscription's */
	int closing;		/* no reader any more: hand back what comes */
	natsConnection *nc;
	int efd;		/* readable: messages to take, or an end */
	int signalled;
	natsMsg **msgs;		/* to take: msgs[head .. n) */
	size_t head, n, cap;
	int open;		/* messages the open request may still bring */
	int64_t open_until;	/* mono ns: surely over by then */
	int ended;		/* the last request is over */
	int end_seen;		/* ... and natspull_state said so */
	int short_end;		/* ... before it was filled: the queue had
				 * nothing more for it */
	int no_consumer;	/* it ended in "no responders" */
	int lost;		/* its end never came */
};

static void box_unref(struct natspull_box *b)
{
	int last;

	pthread_mutex_lock(&b->lock);
	last = --b->refs == 0;
	pthread_mutex_unlock(&b->lock);
	if (!last)
		return;
	for (size_t i = b->head; i < b->n; i++)
		natsMsg_Destroy(b->msgs[i]);
	free(b->msgs);
	if (b->efd >= 0)
		close(b->efd);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/*
 * The eventfd is readable exactly while there is something for the
 * reader to do: a message to take, or a request that ended.  Called
 * under the lock after every change.
 */
static void settle_fd(struct natspull_box *b)
{
	int want = b->n > b->head || b->ended;
	uint64_t v = 1;

	if (want && !b->signalled)
		b->signalled = write(b->efd, &v, sizeof v) == (ssize_t)sizeof v;
	else if (!want && b->signalled)
		b->signalled = !(read(b->efd, &v, sizeof v) == (ssize_t)sizeof v);
}

static int push(struct natspull_box *b, natsMsg *m)
{
	if (b->n == b->cap && b->head > 0) {
		memmove(b->msgs, b->msgs + b->head, (b->n - b->head) * sizeof *b->msgs);
		b->n -= b->head;
		b->head = 0;
	}
	if (grow(&b->msgs, &b->cap, b->n + 1, sizeof *b->msgs) < 0)
		return -1;
	b->msgs[b->n++] = m;
	return 0;
}

/* A status message's code ("408"), or NULL for a message of the stream. */
static const char *status_of(natsMsg *m)
{
	const char *v = NULL;

	if (natsMsg_GetDataLength(m) > 0 ||
	    natsMsgHeader_Get(m, "Status", &v) != NATS_OK)
		return NULL;
	return v;
}

static void ended(struct natspull_box *b, const char *status)
{
	b->open = 0;
	b->ended = b->short_end = 1;
	b->no_consumer = strncmp(status, "503", 3) == 0;
}

/* On the library's thread: every message to our inbox. */
static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *m,
		   void *closure)
{
	struct natspull_box *b = closure;
	const char *status = status_of(m);

	(void)nc;
	(void)sub;
	pthread_mutex_lock(&b->lock);
	if (status != NULL) {
		/* 100 is a heartbeat (never asked for); the rest (404, 408,
		 * 409, 503) end the request */
		if (strncmp(status, "100", 3) != 0)
			ended(b, status);
	} else if (b->closing || push(b, m) < 0) {
		/* nobody will take it (or there is no room): back at once */
		pthread_mutex_unlock(&b->lock);
		(void)natspull_reply(b->nc, m, NATSPULL_NAK);
		natsMsg_Destroy(m);
		return;
	} else {
		m = NULL;	/* the box's now */
		if (b->open > 0 && --b->open == 0)
			b->ended = 1;
	}
	settle_fd(b);
	pthread_mutex_unlock(&b->lock);
	natsMsg_Destroy(m);
}

static void on_complete(void *closure)
{
	box_unref(closure);
}

static int open_fail(struct natspull *p, natsStatus s, const char *what,
		     char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, natsStatus_GetText(s));
	natspull_close(p);
	return -1;
}

int natspull_open(struct natspull *p, natsConnection *nc, const char *stream,
		  const char *consumer, char *err, size_t errlen)
{
	struct natspull_box *b = calloc(1, sizeof *b);
	char inbox[256];
	natsInbox *ib = NULL;
	natsStatus s;

	memset(p, 0, sizeof *p);
	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->nc = b->nc = nc;
	p->box = b;
	b->refs = 1;
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pthread_mutex_init(&b->lock, NULL) != 0 || b->efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		natspull_close(p);
		return -1;
	}
	snprintf(p->next_subject, sizeof p->next_subject,
		 "$JS.API.CONSUMER.MSG.NEXT.%s.%s", stream, consumer);
	if ((s = natsInbox_Create(&ib)) != NATS_OK)
		return open_fail(p, s, "inbox", err, errlen);
	snprintf(inbox, sizeof inbox, "%s", (const char *)ib);
	natsInbox_Destroy(ib);
	b->refs++;		/* the subscription's, from here on */
	s = natsConnection_Subscribe(&p->sub, nc, inbox, on_msg, b);
	if (s != NATS_OK) {
		b->refs--;
		p->sub = NULL;
		return open_fail(p, s, "subscribe", err, errlen);
	}
	if ((s = natsSubscription_SetOnCompleteCB(p->sub, on_complete, b)) != NATS_OK) {
		b->refs--;	/* it will never be dropped */
		return open_fail(p, s, "subscribe", err, errlen);
	}
	/* what comes was asked for, so is bounded: never drop it */
	if ((s = natsSubscription_SetPendingLimits(p->sub, -1, -1)) != NATS_OK)
		return open_fail(p, s, "subscribe", err, errlen);
	return 0;
}

/*
 * Hands back what waits, unsubscribes, and lets what was on its way come
 * in to be handed back too, so that no message waits out its AckWait
 * for a reader that is gone.
 */
void natspull_close(struct natspull *p)
{
	struct natspull_box *b = p->box;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	b->closing = 1;
	pthread_mutex_unlock(&b->lock);
	for (natsMsg *m; (m = natspull_take(p)) != NULL; natsMsg_Destroy(m))
		(void)natspull_reply(p->nc, m, NATSPULL_NAK);
	if (p->sub) {
		if (natsSubscription_Drain(p->sub) == NATS_OK)
			(void)natsSubscription_WaitForDrainCompletion(p->sub, DRAIN_WAIT_MS);
		else
			(void)natsSubscription_Unsubscribe(p->sub);
		natsSubscription_Destroy(p->sub);
	}
	box_unref(b);
	memset(p, 0, sizeof *p);
}

/* What the reader has to go on.  An end it reports is one natspull_ask
 * may now follow with the next request. */
void natspull_state(struct natspull *p, struct natspull_state *st)
{
	struct natspull_box *b = p->box;

	pthread_mutex_lock(&b->lock);
	/* one whose end never came (the server went, or the queue's
	 * consumer: nobody says so then) ended short all the same */
	if (b->open > 0 && mono_ns() >= b->open_until) {
		b->open = 0;
		b->ended = b->short_end = b->lost = 1;
	}
	st->waiting = (int)(b->n - b->head);
	st->open = b->open > 0;
	st->ended_empty = b->ended && b->short_end;
	b->end_seen = b->ended;
	st->no_consumer = b->no_consumer;
	st->lost = b->ended && b->lost;
	pthread_mutex_unlock(&b->lock);
}

/*
 * Asks for up to BATCH messages, for EXPIRES_NS at most, unless a request
 * is open, messages wait to be taken (so that no more than BATCH are ever
 * on their way or waiting), or a request ended that natspull_state has
 * not yet told of (the reader would miss that it ended short).
 */
natsStatus natspull_ask(struct natspull *p, int batch, int64_t expires_ns)
{
	struct natspull_box *b = p->box;
	char req[128];
	natsStatus s;

	pthread_mutex_lock(&b->lock);
	if (b->open > 0 || b->n > b->head || (b->ended && !b->end_seen)) {
		pthread_mutex_unlock(&b->lock);
		return NATS_OK;
	}
	b->open = batch;
	b->open_until = mono_ns() + expires_ns + END_GRACE_NS;
	b->ended = b->end_seen = b->short_end = b->no_consumer = b->lost = 0;
	settle_fd(b);
	pthread_mutex_unlock(&b->lock);
	snprintf(req, sizeof req, "{\"batch\":%d,\"expires\":%" PRId64 "}", batch,
		 expires_ns);
	s = natsConnection_PublishRequestString(p->nc, p->next_subject,
						natsSubscription_GetSubject(p->sub), req);
	if (s != NATS_OK) {
		pthread_mutex_lock(&b->lock);
		b->open = 0;
		pthread_mutex_unlock(&b->lock);
	}
	return s;
}

/* The next message that came, or NULL. */
natsMsg *natspull_take(struct natspull *p)
{
	struct natspull_box *b = p->box;
	natsMsg *m = NULL;

	pthread_mutex_lock(&b->lock);
	if (b->head < b->n) {
		m = b->msgs[b->head++];
		if (b->head == b->n)
			b->head = b->n = 0;
	}
	settle_fd(b);
	pthread_mutex_unlock(&b->lock);
	return m;
}

int natspull_fd(const struct natspull *p)
{
	return p->box->efd;
}

/* Waits up to MS for something to take, or an end: 1 if so, 0 if not
 * (or a signal came), -1 on an error of poll(2). */
int natspull_wait(struct natspull *p, int64_t ms)
{
	struct pollfd pf = { .fd = p->box->efd, .events = POLLIN };
	int rc = poll(&pf, 1, ms > INT32_MAX ? INT32_MAX : (int)ms);

	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	return rc > 0;
}

natsStatus natspull_reply(natsConnection *nc, natsMsg *m, const char *what)
{
	const char *to = natsMsg_GetReply(m);

	if (to == NULL || *to == '\0')
		return NATS_ILLEGAL_STATE;
	return natsConnection_PublishString(nc, to, what);
}

/* A reply the server confirms: an ack known to be stored. */
natsStatus natspull_reply_sync(natsConnection *nc, natsMsg *m, const char *what,
			       int64_t wait_ms)
{
	const char *to = natsMsg_GetReply(m);
	natsMsg *answer = NULL;
	natsStatus s;

	if (to == NULL || *to == '\0')
		return NATS_ILLEGAL_STATE;
	s = natsConnection_RequestString(&answer, nc, to, what, wait_ms);
	natsMsg_Destroy(answer);
	return s;
}

/* Back to the queue, for anyone, after DELAY_MS (0: at once). */
natsStatus natspull_nak(natsConnection *nc, natsMsg *m, int64_t delay_ms)
{
	char what[64];

	if (delay_ms <= 0)
		return natspull_reply(nc, m, NATSPULL_NAK);
	snprintf(what, sizeof what, "%s {\"delay\":%" PRId64 "}", NATSPULL_NAK,
		 delay_ms * NS_PER_MS);
	return natspull_reply(nc, m, what);
}
