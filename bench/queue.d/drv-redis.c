/*
 * drv-redis: the bench/queue driver for Redis Streams (hiredis).
 *
 *   setup: XGROUP CREATE QUEUE workers $ MKSTREAM
 *   put:   n x XADD QUEUE * d PAYLOAD, pipelined: one round trip
 *   take:  XREADGROUP GROUP workers cN COUNT n BLOCK wait_ms
 *            STREAMS QUEUE >
 *          then one XACK QUEUE workers ID...
 *   teardown: DEL QUEUE
 *
 * The window is hiredis's own pipelining (redisAppendCommand): a
 * batch's XADDs go out at once and their replies are read only when the
 * window is full, oldest batch first; an XACK goes out at once and its
 * reply is read before the next XREADGROUP's, Redis answering in order.
 *
 * XACK removes an entry from the group's pending list but not from the
 * stream: that is how Redis Streams is used as a work queue, and it
 * spares Redis the deletion spsc's ACK does.  SERVER is HOST:PORT.
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define GROUP "workers"

struct rconn {
	redisContext *rc;
	const struct qb_conf *conf;
	char consumer[32];
	const char **argv;	/* XACK's arguments */
	size_t *argvlen;
	char (*ids)[48];	/* the entry ids of one take */
	/* The batches (of XADDs) or XACKs sent whose replies are still to
	 * be read, oldest first: a ring of window entries, each its number
	 * of replies (XADD) or of ids acknowledged (XACK). */
	int pending[QB_WINDOW_MAX];
	int first, npending;
};

static redisContext *connect_to(const char *server)
{
	char host[256];
	const char *colon = strrchr(server, ':');
	redisContext *rc;

	if (strncmp(server, "unix:", 5) == 0) {
		rc = redisConnectUnix(server + 5);
	} else if (colon == NULL || (size_t)(colon - server) >= sizeof host) {
		qb_error("%s: expected HOST:PORT or unix:PATH", server);
		return NULL;
	} else {
		memcpy(host, server, (size_t)(colon - server));
		host[colon - server] = '\0';
		rc = redisConnect(host, atoi(colon + 1));
	}
	if (rc == NULL || rc->err) {
		qb_error("%s: %s", server, rc ? rc->errstr : "out of memory");
		if (rc)
			redisFree(rc);
		return NULL;
	}
	return rc;
}

/* Takes the next pipelined reply; NULL (reported) on an error reply or a
 * broken connection. */
static redisReply *next_reply(struct rconn *c, const char *what)
{
	redisReply *r = NULL;

	if (redisGetReply(c->rc, (void **)&r) != REDIS_OK || r == NULL) {
		qb_error("%s: %s", what, c->rc->errstr);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		qb_error("%s: %s", what, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* Hands what hiredis has buffered to the socket now, not at the next
 * read: a pipelined command must be on its way while the client does
 * something else. */
static int send_buffered(struct rconn *c, const char *what)
{
	int done = 0;

	while (!done)
		if (redisBufferWrite(c->rc, &done) != REDIS_OK) {
			qb_error("%s: %s", what, c->rc->errstr);
			return -1;
		}
	return 0;
}

/* Reads the replies to the oldest batch of XADDs or the oldest XACK. */
static int read_oldest(struct rconn *c, int xack)
{
	int n = c->pending[c->first];

	c->first = (c->first + 1) % QB_WINDOW_MAX;
	c->npending--;
	if (xack) {
		redisReply *r = next_reply(c, "XACK");
		int ok;
		if (r == NULL)
			return -1;
		ok = r->type == REDIS_REPLY_INTEGER && r->integer == n;
		if (!ok)
			qb_error("XACK of %d entries acknowledged %lld", n,
				 r->type == REDIS_REPLY_INTEGER ? r->integer : -1LL);
		freeReplyObject(r);
		return ok ? 0 : -1;
	}
	for (int i = 0; i < n; i++) {
		redisReply *r = next_reply(c, "XADD");
		if (r == NULL)
			return -1;
		freeReplyObject(r);
	}
	return 0;
}

/* Records what was just sent and reads the oldest replies until at most
 * window - 1 are unread (none with a window of 1). */
static int sent(struct rconn *c, int n, int xack)
{
	c->pending[(c->first + c->npending) % QB_WINDOW_MAX] = n;
	c->npending++;
	while (c->npending >= c->conf->window)
		if (read_oldest(c, xack) < 0)
			return -1;
	return 0;
}

static int r_flush_puts(void *conn)
{
	struct rconn *c = conn;

	while (c->npending > 0)
		if (read_oldest(c, 0) < 0)
			return -1;
	return 0;
}

static int r_flush_acks(void *conn)
{
	struct rconn *c = conn;

	while (c->npending > 0)
		if (read_oldest(c, 1) < 0)
			return -1;
	return 0;
}

static void r_close(void *conn)
{
	struct rconn *c = conn;

	if (c->rc)
		redisFree(c->rc);
	free(c->argv);
	free(c->argvlen);
	free(c->ids);
	free(c);
}

static void *r_open(const struct qb_conf *conf, int consumer)
{
	struct rconn *c = calloc(1, sizeof *c);
	size_t n = (size_t)conf->batch + 3;

	if (c == NULL)
		return NULL;
	c->conf = conf;
	snprintf(c->consumer, sizeof c->consumer, "c%d", consumer);
	c->argv = calloc(n, sizeof *c->argv);
	c->argvlen = calloc(n, sizeof *c->argvlen);
	c->ids = calloc((size_t)conf->batch, sizeof *c->ids);
	if (c->argv == NULL || c->argvlen == NULL || c->ids == NULL ||
	    (c->rc = connect_to(conf->server)) == NULL) {
		r_close(c);
		return NULL;
	}
	return c;
}

static int r_setup(const struct qb_conf *conf)
{
	struct rconn *c = r_open(conf, 0);
	redisReply *r;

	if (c == NULL)
		return -1;
	r = redisCommand(c->rc, "XGROUP CREATE %s %s $ MKSTREAM", conf->queue, GROUP);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		qb_error("XGROUP CREATE: %s", r ? r->str : c->rc->errstr);
		if (r)
			freeReplyObject(r);
		r_close(c);
		return -1;
	}
	freeReplyObject(r);
	r_close(c);
	return 0;
}

static int r_teardown(const struct qb_conf *conf)
{
	struct rconn *c = r_open(conf, 0);
	redisReply *r;

	if (c == NULL)
		return -1;
	r = redisCommand(c->rc, "DEL %s", conf->queue);
	if (r)
		freeReplyObject(r);
	r_close(c);
	return r ? 0 : -1;
}

static int r_put(void *conn, const struct qb_atom *atoms, int n)
{
	struct rconn *c = conn;
	const char *argv[5] = { "XADD", c->conf->queue, "*", "d", NULL };
	size_t argvlen[5] = { 4, strlen(c->conf->queue), 1, 1, 0 };

	/* hiredis copies each command into its output buffer: the atoms'
	 * data is free again once appended. */
	for (int i = 0; i < n; i++) {
		argv[4] = (const char *)atoms[i].data;
		argvlen[4] = atoms[i].len;
		if (redisAppendCommandArgv(c->rc, 5, argv, argvlen) != REDIS_OK) {
			qb_error("XADD: %s", c->rc->errstr);
			return -1;
		}
	}
	if (send_buffered(c, "XADD") < 0)
		return -1;
	return sent(c, n, 0);
}

/* Checks the entries of XREADGROUP's answer and keeps their ids:
 * [[QUEUE, [[ID, [d, PAYLOAD]], ...]]]. */
static int collect(struct rconn *c, redisReply *r, qb_check_fn check,
		   void *ctx)
{
	redisReply *entries;
	int n = 0;

	if (r->type == REDIS_REPLY_NIL)
		return 0;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2)
		goto bad;
	entries = r->element[0]->element[1];
	if (entries->type != REDIS_REPLY_ARRAY || entries->elements > (size_t)c->conf->batch)
		goto bad;
	for (size_t i = 0; i < entries->elements; i++) {
		redisReply *e = entries->element[i], *fields;
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    e->element[0]->len >= sizeof c->ids[0])
			goto bad;
		fields = e->element[1];
		if (fields->type != REDIS_REPLY_ARRAY || fields->elements != 2 ||
		    fields->element[1]->type != REDIS_REPLY_STRING)
			goto bad;
		if (check(ctx, (const uint8_t *)fields->element[1]->str,
			  fields->element[1]->len) < 0) {
			qb_error("XREADGROUP: entry %s is not one the producer made",
				 e->element[0]->str);
			return -1;
		}
		memcpy(c->ids[n], e->element[0]->str, e->element[0]->len + 1);
		n++;
	}
	return n;
bad:
	qb_error("XREADGROUP: unexpected reply shape");
	return -1;
}

static int r_take(void *conn, int max, int wait_ms, qb_check_fn check,
		  void *ctx)
{
	struct rconn *c = conn;
	redisReply *r;
	int n;

	/* Behind the last take's XACK, if its reply is unread: at most
	 * window - 1 are, so this keeps within the window.  The XACKs'
	 * replies come first. */
	if (redisAppendCommand(c->rc, "XREADGROUP GROUP %s %s COUNT %d BLOCK %d STREAMS %s >",
			       GROUP, c->consumer, max, wait_ms, c->conf->queue) != REDIS_OK) {
		qb_error("XREADGROUP: %s", c->rc->errstr);
		return -1;
	}
	if (send_buffered(c, "XREADGROUP") < 0 || r_flush_acks(c) < 0 ||
	    (r = next_reply(c, "XREADGROUP")) == NULL)
		return -1;
	n = collect(c, r, check, ctx);
	freeReplyObject(r);
	if (n <= 0)
		return n;
	c->argv[0] = "XACK";
	c->argv[1] = c->conf->queue;
	c->argv[2] = GROUP;
	for (int i = 0; i < 3; i++)
		c->argvlen[i] = strlen(c->argv[i]);
	for (int i = 0; i < n; i++) {
		c->argv[3 + i] = c->ids[i];
		c->argvlen[3 + i] = strlen(c->ids[i]);
	}
	if (redisAppendCommandArgv(c->rc, 3 + n, c->argv, c->argvlen) != REDIS_OK) {
		qb_error("XACK: %s", c->rc->errstr);
		return -1;
	}
	if (send_buffered(c, "XACK") < 0 || sent(c, n, 1) < 0)
		return -1;
	return n;
}

const struct qb_driver qb_driver = {
	.name = "redis",
	.setup = r_setup,
	.open = r_open,
	.put = r_put,
	.put_flush = r_flush_puts,
	.take = r_take,
	.take_flush = r_flush_acks,
	.close = r_close,
	.teardown = r_teardown,
};
