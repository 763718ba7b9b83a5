/*
 * server: the event loop of `spsc-coord serve`.
 *
 * One thread, one ROUTER socket.  Each turn of the loop:
 *
 *   1. waits (conns_wait: epoll, or zmq_poll on the ROUTER alone) for
 *      requests or the next timer;
 *   2. handles every request already queued, up to a batch: handlers
 *      change the queues in memory, buffer log records and build replies,
 *      but send nothing;
 *   3. expires leases and serves long-polling GETs;
 *   4. writes the buffered records with one writev (group commit) and
 *      syncs if the --fsync policy says so;
 *   5. only then sends the replies.
 *
 * So no client ever hears "OK" for a change that is not in the log, and a
 * burst of requests costs one write(2), not one each.
 *
 * A service manager that set $NOTIFY_SOCKET (systemd with Type=notify, or
 * spsc run) hears READY=1 once the log is replayed and every address is
 * bound, and STOPPING=1 when the loop ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "coord.h"
#include "curve.h"
#include "listen.h"
#include "lock.h"
#include "log.h"
#include "reply.h"
#include "units.h"

#define BATCH 256
/* A turn stops taking requests once its replies and the PUTs it holds
 * reach this: the rest wait in ZeroMQ's queue for the next turn, so a
 * turn's memory is this plus one request, not BATCH of the largest. */
#define TURN_BYTES ((size_t)64 << 20)
#define MAX_WAIT_MS 1000
#define TOTALS_EVERY (200 * NS_PER_MS)
#define TOTALS_SHARE 20		/* saves take at most 1/20 of the time */

volatile sig_atomic_t coord_stopping;

static void on_signal(int sig)
{
	(void)sig;
	coord_stopping = 1;
}

/* No SA_RESTART: zmq_poll must return EINTR so the loop sees the flag. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* Reads one multipart message; 0 when none is waiting. */
static int recv_message(struct coord *c, zmq_msg_t *parts, size_t *n)
{
	int more = 0;

	*n = 0;
	do {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, c->router, *n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
			zmq_msg_close(&m);
			if (*n == 0)
				return errno == EAGAIN || errno == EINTR ? 0 : -1;
			continue;	/* the rest of a multipart always follows */
		}
		more = zmq_msg_more(&m);
		if (*n < PROTO_PARTS_MAX + 2)
			parts[(*n)++] = m;
		else
			zmq_msg_close(&m);	/* handle_request sees the count */
	} while (more);
	return 1;
}

/* How long the loop may sleep: until the first queue timer, the first
 * waiter's deadline, the next sync or the next save of the totals.  Each
 * is the top of a heap or a field: no walk over the queues or waiters. */
static int64_t next_timeout_ms(struct coord *c, int64_t now)
{
	int64_t due = now + MAX_WAIT_MS * NS_PER_MS;

	if (queues_next_due(c) < due)
		due = queues_next_due(c);
	if (waiters_next_deadline(&c->waiters) < due)
		due = waiters_next_deadline(&c->waiters);
	if (c->totals_dirty && c->totals_saved + c->totals_every < due)
		due = c->totals_saved + c->totals_every;
	if (c->store.fsync == FSYNC_INTERVAL && c->store.dirty &&
	    c->store.last_sync_ns + c->store.fsync_interval_ns < due)
		due = c->store.last_sync_ns + c->store.fsync_interval_ns;
	return due <= now ? 0 : (due - now + NS_PER_MS - 1) / NS_PER_MS;
}

/*
 * Settings are saved and synced in the turn they change, before the
 * replies go: a client told "created" or "deleted" can count on it.
 * Totals change on every request that writes the log, and a queue made by
 * a PUT (or a move, or the replay) is implied by its records in the log,
 * so those are saved unsynced, in one write for any number of new queues:
 * at most every TOTALS_EVERY, and, since a save costs time in proportion
 * to the queues (about 5 ms per 1000), at most 1/TOTALS_SHARE of the
 * loop's time.  A crash may lose that much counting, never an atom or a
 * setting: the replay makes a queue for every PUT record, and keeps it
 * while it holds atoms (queues_forget_unlisted).
 */
static void save_conf(struct coord *c)
{
	int64_t now = mono_ns(), took;

	if (c->conf_dirty) {
		if (conf_save(c, 1) == 0)
			c->conf_dirty = c->totals_dirty = 0;
	} else if (c->totals_dirty && now - c->totals_saved >= c->totals_every) {
		if (conf_save(c, 0) == 0)
			c->totals_dirty = 0;
	} else
		return;
	c->totals_saved = now;
	took = mono_ns() - now;
	c->totals_every = took * TOTALS_SHARE > TOTALS_EVERY ? took * TOTALS_SHARE : TOTALS_EVERY;
	log_debug("queue table saved: %zu queues in %.1f ms", c->nqueues,
		  (double)took / NS_PER_MS);
}

/*
 * Deletes the segments no atom needs any more.  The totals are saved
 * first: a replay after a crash counts the records written since the last
 * save (replay.c), and could not count those of a deleted segment.  A
 * failed save (a full disk) does not hold deletion back: space matters
 * more than exact counting.
 */
static void reclaim(struct coord *c)
{
	if (!store_reclaimable(&c->store))
		return;
	if (conf_save(c, c->conf_dirty) == 0)
		c->conf_dirty = c->totals_dirty = 0;
	c->totals_saved = mono_ns();
	store_reclaim(&c->store);
}

/* Writes the turn's records; a failure is fatal (see spsc-coord(1),
 * DURABILITY): replies are not sent, and a restart replays the log. */
static int commit_turn(struct coord *c)
{
	if (c->store.pending > 0)
		c->totals_dirty = 1;
	if (store_flush(&c->store) < 0 || store_sync_due(&c->store, mono_ns()) < 0) {
		log_error("%s; stopping without answering the last requests",
			  c->store.err);
		return -1;
	}
	save_conf(c);
	reclaim(c);
	replies_send(c);
	replies_release(c);
	return 0;
}

/* The next request from the ROUTER or a unix:// connection, in turn, so
 * that neither transport starves the other: 1, 0 when neither has one,
 * -1 on the ROUTER's failure. */
static int next_request(struct coord *c, zmq_msg_t *parts, size_t *n, int *turn_of_conns)
{
	int rc;

	*turn_of_conns = !*turn_of_conns;
	if (*turn_of_conns && conns_next(&c->conns, parts, n))
		return 1;
	if ((rc = recv_message(c, parts, n)) != 0)
		return rc;
	/* the connections' turn came first, and they had nothing */
	return *turn_of_conns ? 0 : conns_next(&c->conns, parts, n);
}

static int turn(struct coord *c, zmq_msg_t *parts)
{
	int64_t now = mono_ns();
	size_t n;
	int conns_first = 0;
	int rc = conns_wait(&c->conns, c->router,
			    conns_busy(&c->conns) ? 0 : (long)next_timeout_ms(c, now));

	if (rc < 0) {
		log_error("wait for requests: %s", zmq_strerror(errno));
		return -1;
	}
	for (int i = 0; i < BATCH && !coord_stopping && replies_bytes(c) < TURN_BYTES; i++) {
		rc = next_request(c, parts, &n, &conns_first);
		if (rc < 0) {
			log_error("receive: %s", zmq_strerror(errno));
			return -1;
		}
		if (rc == 0)
			break;
		handle_request(c, parts, n);
		for (size_t k = 0; k < n; k++)
			zmq_msg_close(&parts[k]);
	}
	now = mono_ns();
	queues_tick(c, now);
	serve_waiters(c, now);
	queues_settle(c);
	compact_tick(c);
	store_retry_space(&c->store, now);
	return commit_turn(c);
}

/*
 * One sd_notify(3) message to whoever set $NOTIFY_SOCKET; with it unset
 * sd_notify does nothing and returns 0.  A failure only costs the manager
 * its news (it will time out waiting), so it is a warning, not a reason to
 * stop serving.
 */
static void notify(const char *what, const char *status)
{
	int rc = sd_notifyf(0, "%s\nSTATUS=%s", what, status);

	if (rc < 0)
		log_warn("cannot tell the service manager %s (NOTIFY_SOCKET=%s): %s",
			 what, getenv("NOTIFY_SOCKET"), strerror(-rc));
}

static void notify_ready(const struct coord *c, const struct listen_urls *u)
{
	char status[1200];

	snprintf(status, sizeof status, "serving %zu queue%s on %s", c->nqueues,
		 c->nqueues == 1 ? "" : "s", u->list);
	notify("READY=1", status);
}

static int open_socket(struct coord *c, struct listen_urls *u)
{
	/* Clients wait for each reply before the next request, so a thousand
	 * replies queued for one connection means a client that stopped
	 * reading: what is past that is dropped rather than held. */
	int linger = 0, sndhwm = 1000, hwm = 100000, ipv6 = 1;
	int64_t maxmsg = (int64_t)c->opt.limit + (1 << 20);

	c->zctx = zmq_ctx_new();
	if (c->zctx == NULL)
		return -1;
	c->router = zmq_socket(c->zctx, ZMQ_ROUTER);
	if (c->router == NULL)
		return -1;
	zmq_setsockopt(c->router, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(c->router, ZMQ_IPV6, &ipv6, sizeof ipv6);	/* [::1] */
	zmq_setsockopt(c->router, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
	zmq_setsockopt(c->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
	/* Frames a little over the limit still get a TOOBIG reply; only a
	 * message far past it is cut off by ZeroMQ itself. */
	maxmsg = maxmsg * 2;
	zmq_setsockopt(c->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	/* The options above hold for every endpoint; listen.c binds the ipc
	 * ones, then with --curve makes the rest CURVE endpoints. */
	return listen_all(c->zctx, c->router, &c->conns, (size_t)maxmsg, &c->opt, u);
}

/*
 * ZeroMQ's threads (and the ZAP handler's) are started with SIGTERM and
 * SIGINT blocked, so that those signals always reach the main thread:
 * otherwise one landing on a ZeroMQ thread sets the flag without
 * interrupting zmq_poll, and the stop waits for the next timer.
 */
static int open_socket_masked(struct coord *c, struct listen_urls *u)
{
	sigset_t stop, old;
	int rc;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &stop, &old) != 0)
		return open_socket(c, u);
	rc = open_socket(c, u);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void shutdown_coord(struct coord *c, int lockfd)
{
	waiters_free(&c->waiters);
	conns_close(&c->conns);
	if (c->router) {
		char sock[4200];
		zmq_close(c->router);
		snprintf(sock, sizeof sock, "%s/coord.sock", c->opt.home);
		(void)unlink(sock);
	}
	if (c->zctx)
		zmq_ctx_term(c->zctx);	/* also ends the ZAP thread's socket */
	curve_server_join();
	store_close(&c->store);
	table_free(c);
	replies_free(c);
	atom_codec_free(&c->codec);
	if (lockfd >= 0)
		close(lockfd);
}

int serve(struct serve_opts *o)
{
	struct coord c;
	struct listen_urls urls;
	zmq_msg_t *parts;
	int lockfd, rc = -1;
	char dir[4200];

	memset(&c, 0, sizeof c);
	conns_init(&c.conns);
	c.opt = *o;
	table_init(&c);
	atom_codec_init(&c.codec, 0, o->limit);
	catch_signals();
	if ((lockfd = coord_lock(o->home)) < 0)
		return -1;
	snprintf(dir, sizeof dir, "%s/log", o->home);
	if (conf_load(&c) < 0 ||
	    store_open(&c.store, dir, o->segment_max, o->fsync,
		       o->fsync_interval_ns, replay_record, &c) < 0) {
		int damaged = c.store.damaged;
		if (c.store.err[0])
			log_error("%s", c.store.err);
		if (damaged)
			log_error("atoms put or acknowledged there would be lost or come back, so nothing was changed: "
				  "'spsc-coord fsck' shows what is at stake, 'spsc-coord fsck --repair' goes on without it");
		shutdown_coord(&c, lockfd);
		return damaged ? -EXIT_LOG_DAMAGED : -1;
	}
	queues_forget_unlisted(&c);
	queues_start_rates(&c, mono_ns());
	queues_settle(&c);
	if (c.nqueues >= o->max_queues)
		log_warn("%zu queues, and --max-queues is %zu: clients cannot make more until some are deleted",
			 c.nqueues, o->max_queues);
	parts = calloc(PROTO_PARTS_MAX + 2, sizeof *parts);
	if (parts && open_socket_masked(&c, &urls) == 0) {
		notify_ready(&c, &urls);
		while (!coord_stopping)
			if (turn(&c, parts) < 0)
				break;
		rc = coord_stopping ? 0 : -1;
		notify("STOPPING=1", rc == 0 ? "stopping: flushing the log"
					     : "stopping after an error");
		if (rc == 0 && commit_turn(&c) < 0)
			rc = -1;
		if (rc == 0)
			log_info("stopped: log flushed");
	}
	free(parts);
	if (rc == 0)	/* else the log may end before what the totals saw */
		conf_save(&c, 1);
	shutdown_coord(&c, lockfd);
	return rc;
}
