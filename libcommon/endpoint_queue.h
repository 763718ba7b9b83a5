/* endpoint_queue: the QUEUE[@URL] kind of endpoint (private to
 * endpoint.c; programs use endpoint.h). */
#ifndef SPSC_ENDPOINT_QUEUE_H
#define SPSC_ENDPOINT_QUEUE_H

#include "endpoint.h"

int equeue_open(struct endpoint *ep, const char *spec,
		const struct endpoint_opts *o);
int equeue_read(struct endpoint *ep, struct atom *a, int64_t wait_ns);
int equeue_write(struct endpoint *ep, const struct atom *a);
int equeue_settle(struct endpoint *ep, const struct atom *a, int op,
		  int64_t ms);
int equeue_finish(struct endpoint *ep);
int64_t equeue_lease_ns(const struct endpoint *ep);
int equeue_close(struct endpoint *ep);
int equeue_flush_all(char *err, size_t errlen);
int equeue_progress_all(char *err, size_t errlen);

#endif
