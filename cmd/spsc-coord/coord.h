/*
 * coord: the state of a running `spsc-coord serve`, shared by the event
 * loop (server.c), the request handlers (ops.c, manage.c), the replies
 * (reply.c) and the queue settings file (conf.c).
 *
 * Calls go one way: server.c calls the handlers and reply.c; the handlers
 * call reply.c; reply.c calls neither.
 */
#ifndef SPSC_COORD_H
#define SPSC_COORD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "atom.h"
#include "proto.h"
#include "queue.h"
#include "reply.h"
#include "store.h"

#define MAX_BINDS 8
#define RATE_WINDOW 10		/* seconds of history behind in/out rates */
#define CONSUMERS_MAX 64

struct serve_opts {
	char home[4096];
	const char *binds[MAX_BINDS];
	int nbinds;
	int allow_remote;
	const char *curve_key;	/* --curve: secret key file; NULL: no CURVE */
	const char *curve_clients;	/* --clients: DIR of client *.pub */
	enum fsync_policy fsync;
	int64_t fsync_interval_ns;
	uint64_t segment_max;
	size_t limit;
	struct queue_conf defaults;
};

/* A GET that found nothing and may wait (long poll). */
struct waiter {
	zmq_msg_t identity;
	uint64_t reqid;
	char queue[208];
	uint32_t max;
	int64_t vis_ns;
	int64_t deadline;
	struct waiter *next;
};

/* What the status display needs beyond the queue's own counters. */
struct queue_extra {
	struct {
		uint8_t id[256];
		size_t len;
		int64_t seen;
	} consumers[CONSUMERS_MAX];
	uint64_t put_hist[RATE_WINDOW], out_hist[RATE_WINDOW];
	int64_t last_tick;
	int configured;		/* listed in queues.json at start */
};

struct coord {
	struct serve_opts opt;
	void *zctx;
	void *router;
	struct store store;
	struct queue **queues;
	struct queue_extra **extras;
	size_t nqueues, queues_cap;
	struct waiter *waiters;
	struct reply *replies;	/* deferred until the log is written */
	size_t nreplies, replies_cap;
	zmq_msg_t *held;	/* request parts the log still points into */
	size_t nheld, held_cap;
	void **bufs;		/* frames read for moves, freed after flush */
	size_t nbufs, bufs_cap;
	struct atom_codec codec;
	int conf_dirty;		/* settings changed: save now, synced */
	int totals_dirty;	/* counters changed: save soon */
	int64_t totals_saved;
};

extern volatile sig_atomic_t coord_stopping;

/* server.c */
int serve(struct serve_opts *o);

/* ops.c */
void handle_request(struct coord *c, zmq_msg_t *parts, size_t nparts);
void serve_waiters(struct coord *c, int64_t now);
struct queue *queue_lookup(struct coord *c, const char *name, int create);
size_t queue_index(struct coord *c, const struct queue *q);
void queue_destroy(struct coord *c, struct queue *q);
void queues_forget_unlisted(struct coord *c);
void queues_tick(struct coord *c, int64_t now);
void replay_record(void *ctx, int type, const char *queue,
		   const uint8_t *body, size_t len,
		   const struct record_pos *pos);

/* conf.c */
int conf_load(struct coord *c);
int conf_save(struct coord *c, int sync);

#endif
