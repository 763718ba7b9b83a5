/* deliver: GET, now or once a parked GET's queue has atoms. */
#ifndef SPSC_DELIVER_H
#define SPSC_DELIVER_H

#include "request.h"

void op_get(struct request *r);
void waiters_deleted(struct coord *c, const char *name);

#endif
