#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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
/* Events taken from epoll per wait; more stay for the next. */
#define WAIT_EVENTS 64

/*
 * What an epoll event is about: its kind in the top two bits; for a
 * connection its number and its index in v, for a listener its index.  An
 * index can be stale (a drop moves the last connection into the hole) and
 * is then looked up by number.
 */
enum { EV_ROUTER = 1, EV_LISTENER, EV_CONN };

static uint64_t tag(unsigned kind, size_t index, uint32_t id)
{
	return (uint64_t)kind << 62 | (uint64_t)(index & 0x3fffffff) << 32 | id;
}

void conns_init(struct conns *cs)
{
	memset(cs, 0, sizeof *cs);
	cs->ep = -1;
}

/*
 * Puts connection i's fd in the epoll set (EPOLL_CTL_ADD) or updates it
 * (EPOLL_CTL_MOD).  It always waits to be readable; writable only while
 * replies wait for room, since a client reading its replies would
 * otherwise wake the loop each time.
 */
static int watch(struct conns *cs, size_t i, int op)
{
	struct conn *k = &cs->v[i];
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | (k->want_out ? EPOLLOUT : 0),
		.data.u64 = tag(EV_CONN, i, k->id),
	};

	return epoll_ctl(cs->ep, op, k->fd, &ev);
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
	if (cs->ep < 0 && (cs->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		log_error("unix://%s: epoll: %s", path, strerror(errno));
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
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = tag(EV_LISTENER, cs->nl, 0) };
	if (epoll_ctl(cs->ep, EPOLL_CTL_ADD, l->fd, &ev) < 0) {
		log_error("unix://%s: epoll: %s", path, strerror(errno));
		close(l->fd);
		(void)unlink(path);
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
	conn_free(&cs->v[i]);	/* its close takes it out of the epoll set */
	cs->v[i] = cs->v[--cs->n];
	if (i < cs->n && watch(cs, i, EPOLL_CTL_MOD) < 0)
		log_warn("unix connection %u: epoll: %s", cs->v[i].id, strerror(errno));
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
	if (watch(cs, cs->n, EPOLL_CTL_ADD) < 0) {
		log_warn("unix://%s: epoll: %s: refusing a connection", path,
			 strerror(errno));
		conn_free(k);
		return;
	}
	cs->n++;
	log_debug("unix connection %u opened", k->id);
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

/* Writes what connection i is owed, as far as its socket takes it now,
 * and has epoll say when it can take the rest.  -1: it was dropped. */
static int write_out(struct conns *cs, size_t i)
{
	struct conn *k = &cs->v[i];
	int want;

	if (msgwire_write(&k->out, k->fd) < 0) {
		drop(cs, i, strerror(errno));
		return -1;
	}
	want = msgwire_pending(&k->out) > 0;
	if (want != k->want_out) {
		k->want_out = want;
		if (watch(cs, i, EPOLL_CTL_MOD) < 0) {
			drop(cs, i, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static size_t tag_index(uint64_t t)
{
	return (size_t)(t >> 32 & 0x3fffffff);
}

/* Connection number id, or NULL if it is gone. */
static struct conn *find_id(struct conns *cs, uint32_t id, size_t *at)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].id == id) {
			*at = i;
			return &cs->v[i];
		}
	return NULL;
}

/* The connection an event is about, or NULL if it was dropped since. */
static struct conn *event_conn(struct conns *cs, uint64_t t, size_t *at)
{
	size_t i = tag_index(t);
	uint32_t id = (uint32_t)t;

	if (i < cs->n && cs->v[i].id == id) {
		*at = i;
		return &cs->v[i];
	}
	return find_id(cs, id, at);
}

static void handle_event(struct conns *cs, const struct epoll_event *e)
{
	struct conn *k;
	size_t i;

	switch (e->data.u64 >> 62) {
	case EV_LISTENER:
		accept_all(cs, &cs->l[tag_index(e->data.u64)]);
		break;
	case EV_CONN:
		if ((k = event_conn(cs, e->data.u64, &i)) == NULL)
			break;
		if (e->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			k->readable = 1;
		if (e->events & EPOLLOUT)
			(void)write_out(cs, i);
		break;
	default:
		break;	/* the ROUTER: it is asked with ZMQ_EVENTS */
	}
}

/* Has the ROUTER a request to take?  What libzmq says, not its fd,
 * which only says that this may have changed. */
static int router_ready(void *router)
{
	int events = 0;
	size_t len = sizeof events;

	return zmq_getsockopt(router, ZMQ_EVENTS, &events, &len) == 0 &&
	       (events & ZMQ_POLLIN);
}

static int watch_router(struct conns *cs, void *router)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag(EV_ROUTER, 0, 0) };
	int fd;
	size_t len = sizeof fd;

	if (cs->router == router)
		return 0;
	if (zmq_getsockopt(router, ZMQ_FD, &fd, &len) < 0 ||
	    epoll_ctl(cs->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	cs->router = router;
	return 0;
}

/*
 * Waits up to timeout_ms (0: not at all) for work: a request on the ROUTER
 * or on a connection, a connection that can take more of its replies, a
 * new connection.  Notes the readable connections for conns_next, writes
 * to those that can take more, and takes in new ones.  epoll, not poll:
 * the set stays put between turns, where poll(2) would hook and unhook
 * every fd's wait queue on every turn.  -1 on an error; a signal is not.
 */
int conns_wait(struct conns *cs, void *router, long timeout_ms)
{
	struct epoll_event ev[WAIT_EVENTS];
	int n;

	if (cs->nl == 0) {
		zmq_pollitem_t item = { .socket = router, .events = ZMQ_POLLIN };
		n = zmq_poll(&item, 1, timeout_ms);
		return n < 0 && errno != EINTR ? -1 : 0;
	}
	if (watch_router(cs, router) < 0)
		return -1;
	if (timeout_ms != 0 && router_ready(router))
		timeout_ms = 0;
	n = epoll_wait(cs->ep, ev, WAIT_EVENTS,
		       timeout_ms > INT32_MAX ? INT32_MAX : (int)timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++)
		handle_event(cs, &ev[i]);
	return 0;
}

static struct conn *find(struct conns *cs, const zmq_msg_t *identity, size_t *at)
{
	uint32_t id = le_get32((const uint8_t *)zmq_msg_data((zmq_msg_t *)identity) + 2);

	return find_id(cs, id, at);
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

/* Writes the queued replies, as far as each socket takes them now.
 * Backwards, so that a dropped connection's place (taken by the last
 * one) has been seen already. */
void conns_flush(struct conns *cs)
{
	for (size_t i = cs->n; i-- > 0;)
		if (msgwire_pending(&cs->v[i].out))
			(void)write_out(cs, i);
}

void conns_close(struct conns *cs)
{
	while (cs->n > 0)
		drop(cs, cs->n - 1, "stopping");
	free(cs->v);
	if (cs->ep >= 0)
		close(cs->ep);
	for (size_t j = 0; j < cs->nl; j++) {
		close(cs->l[j].fd);
		(void)unlink(cs->l[j].path);
	}
	conns_init(cs);
}
