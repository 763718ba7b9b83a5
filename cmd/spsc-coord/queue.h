/*
 * queue: one named queue's state in memory, with SQS semantics.
 *
 * An entry is an atom's metadata: where its frame lies in the log, its
 * delivery count and its state.  Payloads stay on disk (and in the page
 * cache); only entries live on the heap.
 *
 *   READY     in FIFO order, waiting for a GET
 *   INFLIGHT  handed out; visible again at 'due' unless ACKed or TOUCHed
 *   DELAYED   NACKed with a delay; ready again at 'due'
 *   GONE      ACKed; kept until 'due' so a PUT retried after a lost reply
 *             is recognised as a duplicate (the de-duplication window)
 *
 * This file knows nothing of sockets or disks; the server writes the log
 * records and calls in here.
 */
#ifndef SPSC_QUEUE_H
#define SPSC_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "atomid.h"
#include "flow.h"
#include "heap.h"
#include "store.h"

enum entry_state { E_READY, E_INFLIGHT, E_DELAYED, E_GONE };

struct entry {
	struct atom_id id;
	struct record_pos pos;	/* the frame in the log */
	uint32_t len;		/* frame length */
	uint32_t events;
	uint32_t deliveries;
	uint8_t state;
	int64_t due;		/* mono ns: lease end, delay end, or forgetting */
	int64_t put_wall;	/* wall ns of the PUT: the oldest-age figure */
	int64_t tmin;		/* least event time in it; ATOM_TIME_NONE */
	size_t heap;		/* index in the timer heap while timed */
	size_t times;		/* index in the times heap, if tmin is set */
	struct entry *prev, *next;	/* ready list, or the GONE list */
};

struct queue_conf {
	int64_t visibility_ns;
	uint32_t max_receives;
	uint64_t max_depth;	/* atoms; 0: unlimited */
	uint64_t max_bytes;	/* bytes; 0: unlimited */
	int64_t retention_ns;	/* 0: forever */
	int64_t dedup_window_ns;
};

struct queue_counts {
	uint64_t ready, inflight, delayed, bytes;
	uint64_t put, acked, redelivered, dead, expired;
};

struct entry_list {
	struct entry *head, *tail;
};

/* A slot of the id map.  The tag (the id's hash) lets a probe pass over
 * other atoms' slots without reading their entries: a lookup touches one
 * run of the slot array, not one cache line per atom in the run. */
struct id_slot {
	uint64_t tag;
	struct entry *e;	/* NULL: empty */
};

struct queue {
	char name[208];
	struct queue_conf conf;
	struct queue_counts n;
	struct id_slot *slots;	/* id map, open addressing */
	size_t nslots, nused;
	struct heap timers;	/* on due: INFLIGHT and DELAYED entries */
	struct heap times;	/* held entries with event times, on tmin */
	struct flow flow;	/* producers, watermark, completion */
	int closed_told;	/* its waiters were answered when it closed */
	struct entry_list ready;
	struct entry_list gone;
	size_t ngone;
};

struct queue *queue_new(const char *name, const struct queue_conf *conf);
void queue_free(struct queue *q);
struct entry *queue_find(struct queue *q, const struct atom_id *id);
void queue_prefetch(const struct queue *q, const struct atom_id *id);
struct entry *queue_put(struct queue *q, const struct atom_id *id,
			const struct record_pos *pos, uint32_t len,
			uint32_t events, int64_t put_wall, int64_t tmin);
struct entry *queue_next_ready(struct queue *q);
void queue_lease(struct queue *q, struct entry *e, int64_t due);
void queue_release(struct queue *q, struct entry *e, int64_t due);
void queue_touch(struct queue *q, struct entry *e, int64_t due);
void queue_drop(struct queue *q, struct entry *e);
void queue_forget(struct queue *q, struct entry *e, int64_t now);
int queue_expire(struct queue *q, int64_t now);
int64_t queue_next_due(const struct queue *q);
uint64_t queue_depth(const struct queue *q);
int queue_complete(const struct queue *q);
int64_t queue_watermark(const struct queue *q);

#endif
