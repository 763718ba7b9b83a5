/*
 * natsq: spsc queues on NATS JetStream.  Shared by the NATS backend of
 * the endpoints (endpoint_nats.c) and by spsc-coord's client commands
 * (status, create), so that both name, create and read queues alike.
 *
 * A queue NAME is
 *   - a stream SPSC_<E>, on the one subject spsc.q.<E>, with file
 *     storage and work-queue retention (an acknowledged message is
 *     deleted), where <E> is NAME with '_' written "_u" and '.' written
 *     "_d" (stream names and subject tokens may hold no '.');
 *   - its durable pull consumer "spsc", with explicit acks: AckWait is
 *     the queue's visibility timeout; MaxDeliver is left unlimited,
 *     since moving an atom to NAME.dlq after max-receives deliveries is
 *     spsc's own work (endpoint_nats.c);
 *   - the queue's settings that JetStream has no field for, in the
 *     stream's description: "spsc queue NAME max-receives=N";
 *   - NAME.dlq, its dead-letter queue, another such queue;
 *   - SPSCC_<E> on subject spsc.c.<E>: the chunks of atoms too large for
 *     one message (made when first needed).
 * Each message's Nats-Msg-Id is its atom's id, so a PUT sent again is
 * dropped as a duplicate within the stream's duplicate window
 * (NATSQ_DUP_WINDOW_NS).
 *
 * URL is nats://HOST:PORT[,HOST:PORT...]: every server of a cluster may
 * be named, and the client fails over between them.
 */
#ifndef SPSC_NATSQ_H
#define SPSC_NATSQ_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>
#include <pthread.h>

#define NATSQ_CONSUMER "spsc"
#define NATSQ_NAME_MAX 240	/* an encoded name, as a stream name */
#define NATSQ_DUP_WINDOW_NS (10 * 60 * INT64_C(1000000000))
#define NATSQ_CHUNKS_HEADER "Spsc-Chunks"

/* A queue's settings; 0 in a field asked for means the default. */
struct natsq_conf {
	int64_t vis_ns;		/* AckWait (default 30 s) */
	uint32_t max_receives;	/* deliveries before NAME.dlq (default 5) */
	int64_t max_depth;	/* MaxMsgs with discard new (0: none) */
	int64_t max_bytes;	/* MaxBytes with discard new (0: none) */
	int replicas;		/* stream replicas (default $SPSC_NATS_REPLICAS, else 1) */
};

/* What status shows of one queue. */
struct natsq_info {
	uint64_t ready;		/* stored, not delivered */
	uint64_t inflight;	/* delivered, not acknowledged */
	uint64_t redelivered;
	uint64_t msgs, bytes;	/* stored in all */
	uint64_t put;		/* stored since the queue was made */
	uint64_t first_seq;	/* the oldest message's sequence (all below
				 * are gone) */
	int64_t first_ns;	/* the oldest message's time; 0: none */
	int64_t consumers;	/* pull requests waiting */
	char leader[64];	/* the server that leads its stream; "": one server */
	struct natsq_conf conf;
};

/* An asynchronous publish the server refused or never answered, kept
 * to be sent again (natsq_take_failed). */
struct natsq_failed {
	char *subject;
	void *data;
	int len;
	char id[80];		/* its Nats-Msg-Id */
	struct natsq_failed *next;
};

struct natsq {
	natsConnection *nc;
	jsCtx *js;
	jsOptions jo;
	pthread_mutex_t lock;	/* failed and lost are the library thread's too */
	struct natsq_failed *failed;
	int lost;		/* a failed publish could not be kept */
	kvStore *flow;		/* natsflow.c's bucket, opened when first needed */
	char url[256];
	int64_t give_up_ns;	/* $SPSC_CONNECT_TIMEOUT */
	char err[600];
};

struct natsq_names {
	char key[NATSQ_NAME_MAX + 1];	/* the encoded name (natsflow's key) */
	char stream[NATSQ_NAME_MAX + 8];
	char subject[NATSQ_NAME_MAX + 16];
	char chunks[NATSQ_NAME_MAX + 8];
	char chunk_subject[NATSQ_NAME_MAX + 16];
};

/* One JetStream request, for natsq_call to retry. */
typedef natsStatus (*natsq_fn)(struct natsq *q, void *arg, jsErrCode *jerr);

int natsq_is_url(const char *url);
int natsq_names(const char *queue, struct natsq_names *n);
int natsq_replicas(void);
void natsq_nap(int ms);
int natsq_call(struct natsq *q, const char *what, natsq_fn fn, void *arg,
	       jsErrCode *jerr);
int natsq_connect(struct natsq *q, const char *url);
void natsq_close(struct natsq *q);
int natsq_retryable(natsStatus s, jsErrCode jerr);
int natsq_backoff(struct natsq *q, int64_t since, int *ms, const char *what,
		  natsStatus s, jsErrCode jerr);
int natsq_open(struct natsq *q, const char *queue, struct natsq_conf *conf);
int natsq_create(struct natsq *q, const char *queue,
		 const struct natsq_conf *want);
int natsq_chunks_open(struct natsq *q, const char *queue);
int natsq_purge(struct natsq *q, const char *queue, uint64_t *n);
/* What natsq_repair did. */
struct natsq_repair {
	uint64_t orphans;	/* acknowledged messages deleted */
	int stepped_down;	/* the consumer's leader was asked to step down */
};

int natsq_repair(struct natsq *q, const char *queue, struct natsq_repair *r);
int natsq_info(struct natsq *q, const char *queue, struct natsq_info *info);
int natsq_queues(struct natsq *q, char ***names, size_t *n);
struct natsq_failed *natsq_take_failed(struct natsq *q, int *lost);
void natsq_failed_free(struct natsq_failed *f);
const char *natsq_error(natsStatus s, jsErrCode jerr, char *buf, size_t len);

#endif
