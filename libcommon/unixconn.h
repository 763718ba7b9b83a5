/*
 * unixconn: a client's connection to the coordinator over unix://PATH, a
 * plain stream socket carrying msgwire messages (see msgwire.h for why).
 * It only moves messages; qclient.c decides what to send again after the
 * connection is lost.
 */
#ifndef SPSC_UNIXCONN_H
#define SPSC_UNIXCONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "msgwire.h"
#include "qclient.h"

struct unixconn {
	int fd;			/* -1 while not connected */
	struct sockaddr_un addr;
	struct msgwire_in in;
	struct msgwire_out out;
	zmq_msg_t *parts;	/* the message msgwire_in puts together */
};

int unixconn_is_url(const char *url);
const char *unixconn_path(const char *url);
int unixconn_open(struct unixconn *u, const char *url, char *err, size_t errlen);
void unixconn_close(struct unixconn *u);
int unixconn_connect(struct unixconn *u);
void unixconn_drop(struct unixconn *u);
int unixconn_send(struct unixconn *u, const char *head, size_t hlen,
		  const struct qpart *parts, size_t nparts, int64_t deadline);
int unixconn_recv(struct unixconn *u, int64_t deadline);

#endif
