/*
 * natspull: a reader's pull requests to a JetStream consumer, on a plain
 * subscription of its own inbox, and the replies to what they bring
 * (ack, nak, in progress).
 *
 * Why not libnats' natsSubscription_Fetch: before libnats 3.8.3 (Debian
 * 12 has 3.4) a fetch that finds messages already waiting, late answers
 * to an earlier fetch, may write past the list it returns; and a fetch
 * blocks its caller until something comes, with no fd to poll(2) on.
 *
 * Here at most one request is open at a time (natspull_ask): for up to
 * N messages, for as long as its expiry.  The server sends each message
 * the moment it has one, and ends the request with a status message (408
 * at its expiry); the library's thread puts what comes in a list of our
 * own, and an eventfd is readable while the list holds a message or the
 * request has ended (natspull_fd), so a reader may wait for it with its
 * other fds.  A request is never given up early: whatever it brings is
 * taken, late or not, and what nobody will take (natspull_close) is
 * handed back at once.
 */
#ifndef SPSC_NATSPULL_H
#define SPSC_NATSPULL_H

#include <stdint.h>
#include <nats/nats.h>

struct natspull_box;		/* shared with the library's thread */

struct natspull {
	natsConnection *nc;
	natsSubscription *sub;
	struct natspull_box *box;
	char next_subject[600];	/* $JS.API.CONSUMER.MSG.NEXT.STREAM.CONSUMER */
};

int natspull_open(struct natspull *p, natsConnection *nc, const char *stream,
		  const char *consumer, char *err, size_t errlen);
void natspull_close(struct natspull *p);

/* What natspull_state tells a reader. */
struct natspull_state {
	int waiting;		/* messages to take */
	int open;		/* a request is open: more may come */
	int ended_empty;	/* the last request ended before it was
				 * filled: the queue had nothing more */
	int no_consumer;	/* ... because nobody served it (503) */
	int lost;		/* ... or its end never came */
};
void natspull_state(struct natspull *p, struct natspull_state *st);

natsStatus natspull_ask(struct natspull *p, int batch, int64_t expires_ns);
natsMsg *natspull_take(struct natspull *p);
int natspull_fd(const struct natspull *p);
int natspull_wait(struct natspull *p, int64_t ms);

/* Replies to a message a request brought (its reply subject):
 * NATSPULL_ACK and the rest, or a -NAK with a delay (natspull_nak). */
#define NATSPULL_ACK "+ACK"
#define NATSPULL_NAK "-NAK"
#define NATSPULL_IN_PROGRESS "+WPI"
natsStatus natspull_reply(natsConnection *nc, natsMsg *m, const char *what);
natsStatus natspull_reply_sync(natsConnection *nc, natsMsg *m, const char *what,
			       int64_t wait_ms);
natsStatus natspull_nak(natsConnection *nc, natsMsg *m, int64_t delay_ms);

#endif
