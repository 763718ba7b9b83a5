/*
 * test-qlink: chain acknowledgement in qlink_progress_all, against a real
 * spsc-coord that is paused (SIGSTOP) so that a PUT stays unanswered for
 * as long as the test needs.  An input's ACK must not leave while a PUT
 * that may carry its outputs is unanswered; one whose outputs are stored
 * must not wait for later PUTs.
 *
 * SPSC_COORD_BIN names the coordinator (default ./spsc-coord, the build
 * tree's, where make check runs this).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atom.h"
#include "qlink.h"
#include "unixconn.h"
#include "tap.h"

static char home[64];
static char url[128];
static pid_t coord = -1;
static struct atom_codec codec;

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int start_coord(void)
{
	const char *bin = getenv("SPSC_COORD_BIN");
	char sock[128];

	if (bin == NULL)
		bin = "./spsc-coord";
	snprintf(home, sizeof home, "/tmp/spsc-qlink.XXXXXX");
	if (mkdtemp(home) == NULL)
		return -1;
	snprintf(url, sizeof url, "unix://%s/coord.unix", home);
	snprintf(sock, sizeof sock, "%s/coord.unix", home);
	if ((coord = fork()) < 0)
		return -1;
	if (coord == 0) {
		/* dies with the test, however the test ends */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		execl(bin, bin, "serve", "--home", home, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		struct stat st;
		if (stat(sock, &st) == 0)
			return 0;
		nap_ms(25);
	}
	return -1;
}

static void stop_coord(void)
{
	char cmd[128];

	if (coord > 0) {
		(void)kill(coord, SIGCONT);
		(void)kill(coord, SIGKILL);
		(void)waitpid(coord, NULL, 0);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
	if (home[0] && system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", home);
}

/* A one-event atom numbered n into the link's open PUT batch. */
static int write_atom(struct queue_link *l, unsigned n)
{
	uint8_t hdr[ATOM_HEADER_BUF];
	char line[32];
	const void *payload;
	size_t stored;
	struct atom a;
	int hlen, rc;

	atom_init(&a);
	snprintf(line, sizeof line, "event %u\n", n);
	a.id = atomid_source("test-qlink", "", n, 0, strlen(line));
	a.events = 1;
	if (atom_append(&a, line, strlen(line)) < 0)
		return -1;
	hlen = atom_encode(&codec, &a, hdr, &payload, &stored);
	rc = hlen < 0 ? -1 : qlink_write(l, hdr, (size_t)hlen, payload, stored, a.wm);
	atom_free(&a);
	return rc;
}

/* GETs up to max atoms of the link's queue; their receipts into r. */
static size_t get_receipts(struct queue_link *l, size_t max,
			   uint8_t r[][RECEIPT_WIRE])
{
	struct proto_header h = { .code = OP_GET };
	size_t n = 0;
	char why[64];

	proto_set(&h, "max", max);
	if (qlink_get_send(l, &h, 0) < 0 || qlink_get_wait(l) < 0)
		return 0;
	for (size_t i = 0; i < l->rep->nparts && n < max; i++) {
		struct atom a;
		struct atom_frame f;
		struct receipt rc;
		zmq_msg_t *m = &l->rep->parts[i];

		if (atom_parse_header(zmq_msg_data(m), zmq_msg_size(m), SIZE_MAX,
				      &a, &f, why, sizeof why) < 0)
			continue;
		rc = (struct receipt){ .id = a.id, .delivery = a.attempt };
		receipt_encode(&rc, r[n++]);
	}
	qreply_free(l->rep);
	return n;
}

/* Receipts held back in the batch being filled, and sent but unanswered. */
static size_t acks_held(const struct queue_link *l)
{
	return l->acks[l->ack_fill].n;
}

static size_t acks_on_their_way(const struct queue_link *l)
{
	const struct ack_batch *a = &l->acks[!l->ack_fill];

	return a->reqid ? a->n : 0;
}

/* Has the coordinator answered on the link's socket, unread as yet? */
static int answer_waiting(const struct queue_link *l)
{
	struct pollfd p = { .fd = l->qc.ux ? l->qc.ux->fd : -1, .events = POLLIN };

	return poll(&p, 1, 10000) == 1;
}

static int settle_all(void)
{
	char err[600];

	for (int i = 0; i < 400; i++) {
		int p = qlink_progress_all(err, sizeof err);
		if (p <= 0)
			return p;
		nap_ms(10);
	}
	return -1;
}

int main(void)
{
	struct queue_link *in, *out;
	uint8_t r[2][RECEIPT_WIRE];
	char err[600];

	signal(SIGPIPE, SIG_IGN);
	atom_codec_init(&codec, 0, 0);
	if (start_coord() < 0) {
		printf("Bail out! cannot start the coordinator\n");
		stop_coord();
		return 1;
	}
	in = qlink_open("qin", url, err, sizeof err);
	out = qlink_open("qout", url, err, sizeof err);
	ok(in && out, "links open: %s", in && out ? "yes" : err);
	if (!in || !out) {
		stop_coord();
		return tap_done();
	}

	/* two inputs, leased to us */
	ok(write_atom(in, 1) == 0 && write_atom(in, 2) == 0 &&
	   qlink_flush_all(err, sizeof err) == 0, "two atoms stored in qin");
	ok(get_receipts(in, 2, r) == 2, "both leased");

	/* input 1's output goes and is answered; its ACK is held while that
	 * PUT is on its way, and goes with the next look once it is in */
	ok(write_atom(out, 101) == 0 && qlink_ack(in, r[0]) == 0, "output 1 written, input 1 acked");
	(void)kill(coord, SIGSTOP);
	ok(qlink_progress_all(err, sizeof err) == 1, "progress: something still on its way");
	ok(acks_held(in) == 1 && acks_on_their_way(in) == 0,
	   "coordinator paused, PUT unanswered: the ACK is held back");
	(void)kill(coord, SIGCONT);
	ok(answer_waiting(out), "the PUT's answer comes in");

	/* input 2's output goes while the coordinator is paused again: input
	 * 1's ACK, whose PUT is answered, must go, and input 2's stay */
	(void)kill(coord, SIGSTOP);
	ok(write_atom(out, 102) == 0 && qlink_ack(in, r[1]) == 0, "output 2 written, input 2 acked");
	ok(qlink_progress_all(err, sizeof err) == 1, "progress: something still on its way");
	ok(acks_on_their_way(in) == 1, "the ACK whose output is stored went (%zu)",
	   acks_on_their_way(in));
	ok(acks_held(in) == 1, "the ACK whose output is unanswered is held (%zu)",
	   acks_held(in));
	(void)kill(coord, SIGCONT);

	/* once everything is answered, both inputs are gone and both
	 * outputs stored */
	ok(settle_all() == 0, "everything settles");
	ok(acks_held(in) == 0 && acks_on_their_way(in) == 0, "no ACK left behind");
	ok(get_receipts(in, 2, r) == 0, "qin has nothing left to lease");
	ok(get_receipts(out, 2, r) == 2, "qout holds both outputs");

	qlink_close(in);
	qlink_close(out);
	atom_codec_free(&codec);
	stop_coord();
	return tap_done();
}
