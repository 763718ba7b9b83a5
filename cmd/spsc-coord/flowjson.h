/*
 * flowjson: the completion and event-time fields of a queue's status
 * object, the same whether spsc-coord serve computed them or they were
 * read off NATS (admin_nats.c), so that one renderer shows both.
 */
#ifndef SPSC_FLOWJSON_H
#define SPSC_FLOWJSON_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "flow.h"

void flow_json(cJSON *o, const struct flow *f, int complete, int64_t wm);

#endif
