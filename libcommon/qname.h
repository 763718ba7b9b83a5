/*
 * qname: what a queue may be called.  Shared by the wire protocol (which
 * checks every name a request carries) and the endpoints (which check a
 * QUEUE spec before connecting), so both refuse the same names.
 *
 * A name is 1 to QUEUE_NAME_MAX bytes of [A-Za-z0-9._-], not "." or "..";
 * NAME.dlq, the dead-letter queue of any valid NAME, is valid too.
 */
#ifndef SPSC_QNAME_H
#define SPSC_QNAME_H

#include <stddef.h>

#define QUEUE_NAME_MAX 200

int queue_name_valid(const char *name, size_t len);

#endif
