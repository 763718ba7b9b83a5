/*
 * coord: the state of a running `spsc-coord serve`, shared by the event
 * loop (server.c), the request handlers, the replies (reply.c) and the
 * queue settings file (conf.c).
 *
 * Calls go one way, down: server.c calls the handlers' entry points
 * below; ops.c dispatches each request to its handler (its own, or
 * deliver.c's, manage.c's, produce.c's); the handlers call what they
 * share (request.c, contents.c, frames.c) and reply.c; reply.c calls none
 * of them.
 */
#ifndef SPSC_COORD_H
#define SPSC_COORD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "atom.h"
#include "conns.h"
#include "heap.h"
#include "proto.h"
#include "qtable.h"
#include "queue.h"
#include "reply.h"
#include "store.h"
#include "waiters.h"

#define MAX_BINDS 8
#define RATE_WINDOW 10		/* seconds of history behind in/out rates */
#define CONSUMERS_MAX 64	/* connections tracked per queue for status */
#define MAX_QUEUES_DEFAULT 10000
#define MAX_WAITERS_DEFAULT 10000

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
	size_t max_queues;	/* queues clients may create (--max-queues) */
	size_t max_waiters;	/* GETs waiting at once (--max-waiters) */
	struct queue_conf defaults;
};

/* A connection that asked for atoms, known by a hash of its routing id. */
struct consumer {
	uint64_t id;
	int64_t seen;
};

/* What the coordinator keeps per queue beyond the queue itself: its place
 * in the queue table and the timer heap (table.c), and what the status
 * display needs beyond the queue's own counters. */
struct queue_extra {
	struct queue *q;
	size_t index;		/* in c->queues and c->extras */
	size_t timer;		/* in c->timers; NO_TIMER when not there */
	int64_t due;		/* mono ns: when queues_tick has work for it */
	size_t touched;		/* 1 + index in c->touched; 0: not touched */
	int64_t retention_checked;
	struct consumer *consumers;	/* up to CONSUMERS_MAX, made on demand */
	size_t nconsumers, consumers_cap;
	uint64_t put_hist[RATE_WINDOW], out_hist[RATE_WINDOW];
	int64_t last_tick;
	int configured;		/* listed in queues.json at start */
};
#define NO_TIMER SIZE_MAX

struct coord {
	struct serve_opts opt;
	void *zctx;
	void *router;
	struct conns conns;	/* unix:// clients, beside the ROUTER's */
	struct store store;
	struct queue **queues;
	struct queue_extra **extras;
	size_t nqueues, queues_cap;
	struct qtable byname;	/* queue name -> struct queue_extra */
	struct heap timers;	/* queues on their due time (table.c) */
	struct queue_extra **touched;	/* queues changed this turn */
	size_t ntouched, touched_cap;
	struct waiters waiters;	/* long-polling GETs */
	uint64_t seed;		/* of the name and identity hashes */
	struct reply *replies;	/* deferred until the log is written */
	size_t nreplies, replies_cap;
	zmq_msg_t *held;	/* request parts the log still points into */
	size_t nheld, held_cap;
	void **bufs;		/* frames read for moves, freed after flush */
	size_t nbufs, bufs_cap;
	size_t held_bytes;	/* in held: PUT frames the log points into */
	struct atom_codec codec;
	int conf_dirty;		/* settings changed or a queue deleted: save
				 * and sync before this turn's replies */
	int totals_dirty;	/* counters changed, or a queue was made by a
				 * PUT, a move or the replay: save soon */
	int64_t totals_saved;
	int64_t totals_every;	/* ns between saves of the totals (server.c) */
	struct record_pos totals_at;	/* log end when the totals were saved */
	struct {		/* where compaction's scan goes on (compact.c) */
		uint64_t victim;
		size_t queue, slot;
	} compact;
};

extern volatile sig_atomic_t coord_stopping;

/* server.c: 0 after a clean stop, -1 on failure, -EXIT_LOG_DAMAGED if
 * the log needs fsck before the coordinator can start */
int serve(struct serve_opts *o);

/* for the loop: ops.c, deliver.c, manage.c */
void handle_request(struct coord *c, zmq_msg_t *parts, size_t nparts);
void serve_waiters(struct coord *c, int64_t now);
void queues_tick(struct coord *c, int64_t now);

/* table.c: the queues by name, and which of them need the clock */
int table_init(struct coord *c);
void table_free(struct coord *c);
struct queue *queue_lookup(struct coord *c, const char *name, int create);
struct queue *queue_named(const struct coord *c, const char *name);
struct queue_extra *queue_extra_of(const struct coord *c, const struct queue *q);
size_t queue_index(struct coord *c, const struct queue *q);
void queue_destroy(struct coord *c, struct queue *q);
void queues_forget_unlisted(struct coord *c);
struct queue_extra *queues_due(struct coord *c, int64_t now);
void queues_settle(struct coord *c);
int64_t queues_next_due(const struct coord *c);
void queues_start_rates(struct coord *c, int64_t now);
void queue_roll_rates(struct queue_extra *x, int64_t now);

/* replay.c */
void replay_record(void *ctx, int type, const char *queue,
		   const uint8_t *body, size_t len,
		   const struct record_pos *pos);

/* compact.c */
void compact_tick(struct coord *c);

/* conf.c */
struct cJSON;
struct cJSON *conf_read(const char *home);
int conf_write(const char *home, const struct cJSON *root, int sync);
int conf_load(struct coord *c);
int conf_save(struct coord *c, int sync);

#endif
