/* manage: the queues' timers and the management requests. */
#ifndef SPSC_MANAGE_H
#define SPSC_MANAGE_H

#include "request.h"

void op_status(struct request *r);
void op_create(struct request *r);
void op_delete(struct request *r);
void op_purge(struct request *r);
void op_redrive(struct request *r);
void op_peek(struct request *r);

#endif
