/*
 * request: what every handler shares in answering a request: the queue a
 * writing request may make, and the answer when memory runs out.
 */
#include "reply.h"
#include "request.h"

void request_oom(struct request *r)
{
	reply_error(r->c, r->identity, r->h.reqid, ST_ERROR, "out of memory");
}

/*
 * The queue a request writes to (PUT, CREATE, REDRIVE), made with the
 * defaults if there is none and clients may still make queues: at most
 * --max-queues, counting every queue (those of queues.json and the
 * dead-letter queues too).  NULL once the reply (LIMIT, or ERROR) is
 * built.  Dead-lettering does not come here: it makes NAME.dlq whatever
 * the count, because refusing it would leave an exhausted atom nowhere to
 * go.  So the dead-letter queues may take the count past the limit, at
 * most one for each queue clients made, and then clients make no more
 * until some are deleted.
 */
struct queue *client_queue(struct request *r, int *created)
{
	struct coord *c = r->c;
	struct queue *q = queue_lookup(c, r->h.queue, 0);

	if (created)
		*created = q == NULL;
	if (q)
		return q;
	if (c->nqueues >= c->opt.max_queues) {
		reply_error(c, r->identity, r->h.reqid, ST_LIMIT,
			    "too many queues (limit %zu); raise --max-queues or delete queues",
			    c->opt.max_queues);
		return NULL;
	}
	if ((q = queue_lookup(c, r->h.queue, 1)) == NULL)
		request_oom(r);
	return q;
}
