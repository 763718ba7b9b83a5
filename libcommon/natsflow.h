/*
 * natsflow: who produces into a queue on NATS, for completion (flow.h's
 * bookkeeping, spsc(7) "Completion").  spsc-coord keeps it in its own
 * state; on NATS it is the key-value bucket SPSC_FLOW, one key a queue
 * (the queue's encoded name, natsq.h), whose value is JSON:
 *
 *   {"expect":N,"sealed":BOOL,"producers":{"<id, 16 hex digits>":DONE,...}}
 *
 * with DONE 0 while the producer runs and 1 once it is done.  A missing
 * key is a queue no producer has named itself to.  Every
 * change is a compare-and-set on the key's revision, retried when
 * another client changed it first, so concurrent producers never lose
 * each other's news.
 */
#ifndef SPSC_NATSFLOW_H
#define SPSC_NATSFLOW_H

#include <stdint.h>

#include "flow.h"
#include "natsq.h"

#define NATSFLOW_BUCKET "SPSC_FLOW"

/* natsflow_note's answer for a producer that is done already. */
#define NATSFLOW_FINISHED 1

int natsflow_note(struct natsq *q, const char *queue, uint64_t producer,
		  uint32_t expect, int done);
int natsflow_expect(struct natsq *q, const char *queue, uint32_t expect);
int natsflow_reopen(struct natsq *q, const char *queue);
int natsflow_seal(struct natsq *q, const char *queue, int sealed);
int natsflow_read(struct natsq *q, const char *queue, struct flow *f);

#endif
