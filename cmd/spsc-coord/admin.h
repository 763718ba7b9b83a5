/* admin: the client-side commands of spsc-coord (status, create, ...). */
#ifndef SPSC_ADMIN_H
#define SPSC_ADMIN_H

#include <stdint.h>

#include "queue.h"

struct admin_opts {
	const char *url;
	int json;
	int64_t watch_ns;
	struct queue_conf defaults;
	int set_vis, set_recv, set_depth, set_bytes, set_retention;
	long producers;		/* create --producers; -1: leave as is */
};

int admin_main(struct admin_opts *o, const char *cmd, int argc, char **argv);
int admin_nats_main(const struct admin_opts *o, const char *url, const char *cmd,
		    int argc, char **argv);

#endif
