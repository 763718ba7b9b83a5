#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conns.h"
#include "grow.h"
#include "le.h"
#include "log.h"
#include "proto.h"

#define CONNS_MAX 4096
/* Parts queued for a client that does not read: its window allows 16
 * replies, a GET's at most 2001 parts; far past that it has stopped
 * reading, and what it would be sent is not held for ever. */
#define OUT_PARTS_MAX 100000
/* A routing id ZeroMQ never makes (its own are 5 bytes): a zero byte,
 * 'u', and the connection's number. */
#define ID_LEN 6

void conns_init(struct conns *cs)
{
	memset(cs, 0, sizeof *cs);
}

/*
 * A socket file already at a --bind path is taken over only if nobody
 * answers on it (a coordinator that died); a live listener, or a file
 * that is not a socket, is an error, never removed.
 */
static int clear_stale(const char *path, const struct sockaddr_un *a)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("bind unix://%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_error("bind unix://%s: the file exists and is not a socket", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		log_error("unix socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)a, sizeof *a);
	close(fd);
	if (rc == 0) {
		log_error("bind unix://%s: something is listening there already", path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		log_error("bind unix://%s: %s", path, strerror(errno));
		return -1;
	}
	(void)unlink(path);
	return 0;
}

/* The socket file is made under umask 0177: 0600 from the moment it
 * exists, as listen.c does for ipc://.  'ours' is the state directory's
 * socket: the coordinator holds that directory's lock, so a file already
 * there is a dead coordinator's. */
int conns_listen(struct conns *cs, const char *path, size_t max_bytes,
		 int ours)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct listener *l = &cs->l[cs->nl];
	mode_t old;
	int rc;

	if (strlen(path) >= sizeof a.sun_path) {
		log_error("bind unix://%s: path too long for a unix socket", path);
		return -1;
	}
	if (cs->nl == CONNS_LISTEN_MAX) {
		log_error("bind unix://%s: at most %d unix:// addresses", path,
			  CONNS_LISTEN_MAX);
		return -1;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	cs->max_bytes = max_bytes;
	/* every connection there can be, made once: the loop never has to
	 * grow it, nor fail to */
	if (cs->items == NULL &&
	    (cs->items = calloc(1 + CONNS_LISTEN_MAX + CONNS_MAX, sizeof *cs->items)) == NULL) {
		log_error("unix://%s: out of memory", path);
		return -1;
	}
	if (ours)
		(void)unlink(path);
	else if (clear_stale(path, &a) < 0)
		return -1;
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		log_error("unix socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	rc = bind(l->fd, (struct sockaddr *)&a, sizeof a);
	umask(old);
	if (rc < 0 || listen(l->fd, 128) < 0) {
		log_error("bind unix://%s: %s", path, strerror(errno));
		close(l->fd);
		return -1;
	}
	snprintf(l->path, sizeof l->path, "%s", path);
	cs->nl++;
	log_info("listening on unix://%s", path);
	return 0;
}

static void conn_free(struct conn *k)
{
	close(k->fd);
	msgwire_in_free(&k->in);
	msgwire_out_free(&k->out);
	free(k->parts);
}

/* Closes connection i; what it was sent, or is owed, is dropped: a client
 * that comes back sends its requests again. */
static void drop(struct conns *cs, size_t i, const char *why)
{
	log_debug("unix connection %u closed: %s", cs->v[i].id, why);
	conn_free(&cs->v[i]);
	cs->v[i] = cs->v[--cs->n];
}

static void accept_one(struct conns *cs, const char *path, int fd)
{
	struct conn *k;

	if (cs->n == CONNS_MAX ||
	    grow(&cs->v, &cs->cap, cs->n + 1, sizeof *cs->v) < 0) {
		log_warn("unix://%s: %d connections, or out of memory: refusing one",
			 path, CONNS_MAX);
		close(fd);
		return;
	}
	k = &cs->v[cs->n];
	memset(k, 0, sizeof *k);
	k->fd = fd;
	k->id = ++cs->next_id;
	/* one part over the limit still reaches handle_request, which says
	 * BADREQ; past that the stream is cut */
	k->parts = calloc(PROTO_PARTS_MAX + 1, sizeof *k->parts);
	if (k->parts == NULL ||
	    msgwire_in_init(&k->in, k->parts, PROTO_PARTS_MAX + 1, cs->max_bytes) < 0) {
		log_warn("unix://%s: out of memory: refusing a connection", path);
		free(k->parts);
		close(fd);
		return;
	}
	cs->n++;
	log_debug("unix connection %u opened", k->id);
}

/* What the loop waits on: the ROUTER, then each listener and each
 * connection, if listening. */
zmq_pollitem_t *conns_pollset(struct conns *cs, void *router, size_t *n)
{
	*n = 1;
	if (cs->nl == 0) {
		cs->router_item = (zmq_pollitem_t){ .socket = router, .events = ZMQ_POLLIN };
		return &cs->router_item;
	}
	cs->items[0] = (zmq_pollitem_t){ .socket = router, .events = ZMQ_POLLIN };
	for (size_t j = 0; j < cs->nl; j++)
		cs->items[(*n)++] = (zmq_pollitem_t){ .fd = cs->l[j].fd, .events = ZMQ_POLLIN };
	for (size_t i = 0; i < cs->n; i++)
		cs->items[(*n)++] = (zmq_pollitem_t){
			.fd = cs->v[i].fd,
			.events = (short)(ZMQ_POLLIN | (msgwire_pending(&cs->v[i].out) ? ZMQ_POLLOUT : 0)) };
	return cs->items;
}

/* Takes in every connection waiting on listener l. */
static void accept_all(struct conns *cs, const struct listener *l)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("unix://%s: accept: %s", l->path, strerror(errno));
			if (errno != EINTR)
				return;
			continue;
		}
		accept_one(cs, l->path, fd);
	}
}

/* After zmq_poll on conns_pollset's items: notes which connections have
 * something to read, writes to those that can take more, and takes in new
 * ones.  Backwards, so that a dropped connection's place (taken by the
 * last one) has been seen already. */
void conns_polled(struct conns *cs)
{
	const zmq_pollitem_t *conn_items = cs->items + 1 + cs->nl;

	if (cs->nl == 0)
		return;
	for (size_t i = cs->n; i-- > 0;) {
		short re = conn_items[i].revents;
		if (re & (ZMQ_POLLIN | ZMQ_POLLERR))
			cs->v[i].readable = 1;
		if ((re & ZMQ_POLLOUT) && msgwire_write(&cs->v[i].out, cs->v[i].fd) < 0)
			drop(cs, i, strerror(errno));
	}
	for (size_t j = 0; j < cs->nl; j++)
		if (cs->items[1 + j].revents & ZMQ_POLLIN)
			accept_all(cs, &cs->l[j]);
}

static struct conn *find(struct conns *cs, const zmq_msg_t *identity, size_t *at)
{
	uint32_t id = le_get32((const uint8_t *)zmq_msg_data((zmq_msg_t *)identity) + 2);

	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].id == id) {
			*at = i;
			return &cs->v[i];
		}
	return NULL;
}

int conns_owns(const zmq_msg_t *identity)
{
	const uint8_t *p = zmq_msg_data((zmq_msg_t *)identity);

	return zmq_msg_size((zmq_msg_t *)identity) == ID_LEN && p[0] == 0 && p[1] == 'u';
}

/* parts[0] the connection's routing id, then the request's parts. */
static int take(struct conn *k, zmq_msg_t *parts, size_t *n)
{
	uint8_t id[ID_LEN] = { 0, 'u' };

	le_put32(id + 2, k->id);
	if (zmq_msg_init_size(&parts[0], ID_LEN) < 0)
		return -1;
	memcpy(zmq_msg_data(&parts[0]), id, ID_LEN);
	for (size_t i = 0; i < k->in.nparts; i++) {
		zmq_msg_init(&parts[1 + i]);
		zmq_msg_move(&parts[1 + i], &k->parts[i]);
		zmq_msg_close(&k->parts[i]);
	}
	*n = 1 + k->in.nparts;
	return 0;
}

/*
 * The next whole request from any connection, taking them in turn: 1, and
 * parts[0 .. *n) are the sender's routing id and the request (the caller
 * closes them); 0 when none has one.  parts holds PROTO_PARTS_MAX + 2.
 */
int conns_next(struct conns *cs, zmq_msg_t *parts, size_t *n)
{
	for (size_t seen = 0; seen < cs->n; seen++) {
		size_t i = (cs->next + seen) % cs->n;
		struct conn *k = &cs->v[i];
		int rc;
		if (!k->readable)
			continue;
		rc = msgwire_read(&k->in, k->fd);
		if (rc == 1 && take(k, parts, n) == 0) {
			cs->next = (i + 1) % cs->n;
			return 1;
		}
		if (rc == 0) {
			k->readable = 0;
			continue;
		}
		if (rc < 0 && errno == EMSGSIZE)
			log_warn("unix connection %u: a request over %zu bytes or %d parts; closing it",
				 k->id, cs->max_bytes, PROTO_PARTS_MAX + 1);
		drop(cs, i, rc < 0 && errno ? strerror(errno) : "end of stream");
		return conns_next(cs, parts, n);
	}
	return 0;
}

/* Has a connection requests not yet taken (a turn's bound cut it off)? */
int conns_busy(const struct conns *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].readable)
			return 1;
	return 0;
}

/* Queues a reply, taking over its parts (parts[0], the routing id, is
 * closed); it goes at conns_flush.  A client gone is sent nothing. */
void conns_send(struct conns *cs, zmq_msg_t *parts, size_t n)
{
	size_t i, at = 0;
	struct conn *k = find(cs, &parts[0], &at);

	for (i = 1; k && i < n; i++)
		if (msgwire_push_msg(&k->out, &parts[i], i + 1 < n) < 0)
			break;
	if (k && i < n)
		drop(cs, at, "out of memory");
	else if (k && msgwire_pending(&k->out) > OUT_PARTS_MAX) {
		log_warn("unix connection %u: %zu reply parts not read; closing it", k->id,
			 msgwire_pending(&k->out));
		drop(cs, at, "not reading");
	}
	for (; i < n; i++)
		zmq_msg_close(&parts[i]);
	zmq_msg_close(&parts[0]);
}

/* Writes the queued replies, as far as each socket takes them now. */
void conns_flush(struct conns *cs)
{
	for (size_t i = cs->n; i-- > 0;)
		if (msgwire_pending(&cs->v[i].out) && msgwire_write(&cs->v[i].out, cs->v[i].fd) < 0)
			drop(cs, i, strerror(errno));
}

void conns_close(struct conns *cs)
{
	while (cs->n > 0)
		drop(cs, cs->n - 1, "stopping");
	free(cs->v);
	free(cs->items);
	for (size_t j = 0; j < cs->nl; j++) {
		close(cs->l[j].fd);
		(void)unlink(cs->l[j].path);
	}
	conns_init(cs);
}
