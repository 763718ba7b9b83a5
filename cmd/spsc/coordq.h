/*
 * coordq: what the launcher asks of the coordinator, through spsc-coord's
 * own client commands (create, reopen, status --json), so that there is
 * one client for each request.
 */
#ifndef SPSC_COORDQ_H
#define SPSC_COORDQ_H

#include <cjson/cJSON.h>

struct dag;

int coordq_prepare(const struct dag *d, const char *url);
int coordq_seal(const char *url, const char *name);
cJSON *coordq_status(const char *url, const char *wait, char *err,
		     size_t errlen);
const cJSON *coordq_named(const cJSON *obj, const char *key, const char *name);
const cJSON *coordq_queue(const cJSON *status, const char *name);
double coordq_field(const cJSON *q, const char *key);
long long coordq_dead_letters(const struct dag *d, const cJSON *before,
			      const cJSON *status, char *where, size_t len);

#endif
