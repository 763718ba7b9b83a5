/*
 * qbackend: what a QUEUE[@URL] endpoint talks to (private to the endpoint
 * layer; programs use endpoint.h and never know which backend it is).
 *
 *   queue_coord  spsc-coord, over ZeroMQ (endpoint_queue.c): URL is
 *                ipc://PATH or tcp://HOST:PORT, the default
 *   queue_nats   NATS JetStream (endpoint_nats.c): URL is
 *                nats://HOST:PORT[,HOST:PORT...]
 *
 * Each function has the meaning of the endpoint_* function of the same
 * name; ep->qs is the backend's own state, ep->err its messages.
 * settle's op is OP_ACK, OP_NACK (ms: the delay) or OP_TOUCH (ms: the
 * new lease).
 */
#ifndef SPSC_QBACKEND_H
#define SPSC_QBACKEND_H

#include <stdint.h>

#include "endpoint.h"

struct pollfd;

struct queue_backend {
	int (*open)(struct endpoint *ep, const char *url,
		    const struct endpoint_opts *o);
	int (*read)(struct endpoint *ep, struct atom *a, int64_t wait_ns);
	int (*write)(struct endpoint *ep, const struct atom *a);
	int (*settle)(struct endpoint *ep, const struct atom *a, int op,
		      int64_t ms);
	int (*finish)(struct endpoint *ep);
	int (*sync)(struct endpoint *ep);
	int64_t (*lease_ns)(const struct endpoint *ep);
	int (*close)(struct endpoint *ep);
	/* every endpoint of the backend in the process: endpoints_flush and
	 * endpoints_progress */
	int (*flush_all)(char *err, size_t errlen);
	int (*progress_all)(char *err, size_t errlen);
	/* optional: endpoints_pollfds; endpoint_pending and
	 * endpoint_looks_wait for a reader */
	int (*pollfds_all)(struct pollfd *p, size_t max, int *now);
	int (*pending)(const struct endpoint *ep);
	int (*looks_wait)(const struct endpoint *ep);
};

extern const struct queue_backend queue_coord;
extern const struct queue_backend queue_nats;

const struct queue_backend *queue_backend_for(const char *url);

#endif
