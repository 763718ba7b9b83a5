/*
 * natsflow: who produces into a queue on NATS, for completion (flow.h's
 * bookkeeping, spsc(7) "Completion").  spsc-coord keeps it in its own
 * state; on NATS it is the key-value bucket SPSC_FLOW, a key per fact,
 * each under the queue's encoded name E (natsq.h):
 *
 *   E.p.<producer id, 16 hex digits>.run    the producer registered
 *   E.p.<producer id>.done                  the producer is done
 *   E.expect                                how many to wait for
 *   E.sealed                                nothing more will come
 *   E.p.<producer id>.wm.<instance>         a process's watermark entry
 *                                           (natswm.h)
 *
 * Facts are only put (and reopen purges E.p.> and E.sealed), never read,
 * changed and written back, so producers writing at once cannot undo
 * each other: a compare-and-set on one key per queue lost updates on a
 * nats-server 2.9 cluster.  A reader lists the keys from the bucket's
 * stream leader.
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
int natsflow_say_watermark(struct natsq *q, const char *queue,
			   uint64_t producer, uint64_t instance, const char *text);
int natsflow_watermark(struct natsq *q, const char *queue, const struct flow *f,
		       uint64_t first_seq, uint64_t msgs, int64_t *wm);

#endif
