/* endpoint_queue: the spsc-coord backend of QUEUE[@URL] endpoints
 * (queue_coord in qbackend.h), and the flush of every coordinator link
 * of the process (private to the endpoint layer; programs use
 * endpoint.h). */
#ifndef SPSC_ENDPOINT_QUEUE_H
#define SPSC_ENDPOINT_QUEUE_H

#include <stddef.h>

int equeue_flush_all(char *err, size_t errlen);
int equeue_progress_all(char *err, size_t errlen);

#endif
