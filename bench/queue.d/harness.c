/*
 * harness: workload, processes, timing and the proof of delivery for the
 * bench/queue clients.  See harness.h.
 *
 *   qb-NAME [-a ATOMS] [-e EVENTS] [-b BATCH] [-c CONSUMERS] [-t SECONDS]
 *           [-w WINDOW] [-W WAIT_MS] -s SERVER -q QUEUE
 *
 * prints one line, e.g.
 *
 *   system=spsc atoms=100000 events=100000 batch=100 consumers=1 window=4
 *   seconds=0.812 atoms_s=123152 events_s=123152 mb_s=12.3 lost=0 dup=0
 *   bad=0 per_take=100.0 cpu_s=1.234 ok
 *
 * The clock runs from the moment every process is connected and released
 * at once, to the moment the last atom the producer offered is
 * acknowledged.  Connecting is not timed: it is paid once per process.
 *
 * With a window over 1 a consumer's ACK may still be unanswered when its
 * take returns; its atoms count as acknowledged then, and the consumer
 * reads the answer later (take_flush at the latest): any answer that is
 * not a full acknowledgement fails the run.  The take that completes
 * the count reads its own ACKs' answers before it stops the clock, so
 * the last ACK is answered, not only sent, when the clock stops.
 *
 * cpu_s is the CPU time (user + system) of the producer and consumers,
 * their whole lives, connecting included, and of this process while it
 * waits for them: what the client side of the run cost, so that
 * bench/queue can add the server's and say what an event costs in CPU,
 * not only in wall time.  Setup and teardown are left out: they are not
 * part of moving atoms.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NS_PER_SEC INT64_C(1000000000)
#define READY_TIMEOUT_MS 60000
#define GRACE_SEC 60		/* past --max-time, before a run is killed */
#define STALL_SEC 30		/* no atom stored or acknowledged this long: failed */
#define MAX_CHILDREN 64

/* Lives in a shared mapping: every process of the run sees it. */
struct shared {
	int64_t start_ns;
	int64_t stop_putting_ns;	/* the producer offers no batch after */
	int64_t give_up_ns;		/* everyone stops, the run has failed */
	_Atomic uint64_t produced;	/* offered: handed to put() */
	_Atomic int producer_done;	/* and every put answered */
	_Atomic uint64_t acked;		/* taken, checked, ACK sent */
	_Atomic uint64_t takes;		/* takes that brought atoms */
	_Atomic uint64_t dups;
	_Atomic uint64_t bad;
	_Atomic int64_t end_ns;
	_Atomic int64_t progress_ns;	/* the last PUT or ACK that moved atoms */
	_Atomic int failed;
	_Atomic uint8_t seen[];		/* one bit per atom ordinal */
};

static const char usage[] =
	"Usage: qb-%s [OPTIONS] -s SERVER -q QUEUE\n"
	"One producer and C consumers move atoms through a queue; prints\n"
	"atoms/s and events/s from the first PUT to the last ACK.\n"
	"\n"
	"  -a, --atoms N        atoms the producer offers (default 10000)\n"
	"  -e, --events N       100-byte events per atom (default 1)\n"
	"  -b, --batch N        atoms per PUT, GET and ACK (default 100)\n"
	"  -c, --consumers N    consumer processes (default 1)\n"
	"  -t, --max-time SEC   offer no more atoms after SEC seconds (default 60)\n"
	"  -w, --window N       requests a connection may leave unanswered: PUT\n"
	"                       batches, ACKs and the next GET (default 4, 1 to %d;\n"
	"                       1: one request at a time)\n"
	"  -W, --wait MS        consumers' long-poll wait (default 200)\n"
	"  -s, --server ADDR    where the server listens\n"
	"  -q, --queue NAME     queue, tube or stream to use\n"
	"      --help           show this help and exit\n";

static struct shared *sh;
static struct qb_conf conf;

void qb_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "qb-%s[%ld]: error: ", qb_driver.name, (long)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int64_t qb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static _Noreturn void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "qb-%s: ", qb_driver.name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'qb-%s --help'.\n", qb_driver.name);
	exit(2);
}

static long parse_count(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage_error("%s: '%s' is not a number from %ld to %ld", opt, s,
			    min, max);
	return v;
}

static void parse_options(int argc, char **argv, long *max_time)
{
	static const struct option longopts[] = {
		{ "atoms", required_argument, NULL, 'a' },
		{ "events", required_argument, NULL, 'e' },
		{ "batch", required_argument, NULL, 'b' },
		{ "consumers", required_argument, NULL, 'c' },
		{ "max-time", required_argument, NULL, 't' },
		{ "window", required_argument, NULL, 'w' },
		{ "wait", required_argument, NULL, 'W' },
		{ "server", required_argument, NULL, 's' },
		{ "queue", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	conf.atoms = 10000;
	conf.events = 1;
	conf.batch = 100;
	conf.consumers = 1;
	conf.wait_ms = 200;
	conf.window = 4;
	*max_time = 60;
	while ((ch = getopt_long(argc, argv, "a:e:b:c:t:w:W:s:q:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': conf.atoms = (uint64_t)parse_count("--atoms", optarg, 1, 100000000); break;
		case 'e': conf.events = (uint32_t)parse_count("--events", optarg, 1, 100000); break;
		case 'b': conf.batch = (int)parse_count("--batch", optarg, 1, 1000); break;
		case 'c': conf.consumers = (int)parse_count("--consumers", optarg, 1, MAX_CHILDREN - 1); break;
		case 't': *max_time = parse_count("--max-time", optarg, 1, 86400); break;
		case 'w': conf.window = (int)parse_count("--window", optarg, 1, QB_WINDOW_MAX); break;
		case 'W': conf.wait_ms = (int)parse_count("--wait", optarg, 1, 60000); break;
		case 's': conf.server = optarg; break;
		case 'q': conf.queue = optarg; break;
		case 'h': printf(usage, qb_driver.name, QB_WINDOW_MAX); exit(0);
		default: usage_error("unknown option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (conf.server == NULL || conf.queue == NULL)
		usage_error("-s SERVER and -q QUEUE are required");
	conf.atom_bytes = (size_t)conf.events * QB_EVENT_BYTES;
}

/*
 * The producer's atoms: E lines of 99 bytes and a newline, log-like.
 * The first ten bytes are the atom's ordinal, rewritten for each atom;
 * the rest is the same for every atom, which no system here exploits (no
 * compression is enabled anywhere).
 */
static void fill_template(uint8_t *p)
{
	static const char filler[] =
		"GET /api/v1/items the quick brown fox jumps over the lazy dog "
		"pack my box with five dozen liquor jugs and sphinx of black quartz";

	for (uint32_t i = 0; i < conf.events; i++, p += QB_EVENT_BYTES) {
		char head[32];
		int n = snprintf(head, sizeof head, "%010u %06u INFO ", 0u, i);
		memcpy(p, head, (size_t)n);
		memcpy(p + n, filler, QB_EVENT_BYTES - 1 - (size_t)n);
		p[QB_EVENT_BYTES - 1] = '\n';
	}
}

static void stamp_ordinal(uint8_t *p, uint64_t ordinal)
{
	for (int i = 9; i >= 0; i--, ordinal /= 10)
		p[i] = (uint8_t)('0' + ordinal % 10);
}

/* The first consumer (or the producer) to see every offered atom
 * acknowledged stops the clock; later ones leave it alone. */
static void maybe_finish(void)
{
	int64_t zero = 0;

	if (atomic_load(&sh->producer_done) &&
	    atomic_load(&sh->acked) >= atomic_load(&sh->produced))
		atomic_compare_exchange_strong(&sh->end_ns, &zero, qb_now_ns());
}

static int run_producer(void *conn)
{
	/* window sets of buffers, used in turn: a batch's data stays as it
	 * is while its answer may be outstanding (see put in harness.h). */
	size_t stride = QB_HEADROOM + conf.atom_bytes;
	size_t natoms = (size_t)conf.window * (size_t)conf.batch;
	uint8_t *slots = malloc(natoms * stride);
	struct qb_atom *atoms = calloc(natoms, sizeof *atoms);
	uint64_t next = 0, batches = 0;
	int rc = 0;

	if (slots == NULL || atoms == NULL) {
		qb_error("producer: out of memory");
		free(slots);
		free(atoms);
		return -1;
	}
	for (size_t i = 0; i < natoms; i++) {
		atoms[i].data = slots + i * stride + QB_HEADROOM;
		atoms[i].len = conf.atom_bytes;
		fill_template(atoms[i].data);
	}
	while (next < conf.atoms && !atomic_load(&sh->failed) &&
	       qb_now_ns() < sh->stop_putting_ns) {
		struct qb_atom *batch = atoms + (batches % (uint64_t)conf.window) *
						(uint64_t)conf.batch;
		int n = conf.atoms - next < (uint64_t)conf.batch
			? (int)(conf.atoms - next) : conf.batch;
		for (int i = 0; i < n; i++) {
			batch[i].ordinal = next + (uint64_t)i;
			stamp_ordinal(batch[i].data, next + (uint64_t)i);
		}
		if (qb_driver.put(conn, batch, n) < 0) {
			rc = -1;
			break;
		}
		batches++;
		next += (uint64_t)n;
		atomic_store(&sh->produced, next);
		atomic_store(&sh->progress_ns, qb_now_ns());
	}
	/* Done means stored: the batches still unanswered are waited for
	 * before the consumers may stop the clock. */
	if (rc == 0 && qb_driver.put_flush(conn) < 0)
		rc = -1;
	atomic_store(&sh->producer_done, 1);
	maybe_finish();
	free(slots);
	free(atoms);
	return rc;
}

/* Marks the atom seen; a second sighting is a duplicate, an ordinal the
 * producer never made is a bad atom. */
static int check_atom(void *ctx, const uint8_t *p, size_t len)
{
	uint64_t ordinal = 0;
	uint8_t bit, old;

	(void)ctx;
	if (len != conf.atom_bytes || p[len - 1] != '\n')
		goto bad;
	for (int i = 0; i < 10; i++) {
		if (p[i] < '0' || p[i] > '9')
			goto bad;
		ordinal = ordinal * 10 + (uint64_t)(p[i] - '0');
	}
	if (ordinal >= conf.atoms)
		goto bad;
	bit = (uint8_t)(1u << (ordinal & 7));
	old = atomic_fetch_or_explicit(&sh->seen[ordinal >> 3], bit,
				       memory_order_relaxed);
	if (old & bit)
		atomic_fetch_add(&sh->dups, 1);
	return 0;
bad:
	atomic_fetch_add(&sh->bad, 1);
	return -1;
}

static int run_consumer(void *conn)
{
	while (atomic_load(&sh->end_ns) == 0 && !atomic_load(&sh->failed)) {
		int64_t now = qb_now_ns();
		int n;
		/* A server that stops handing out atoms fails the run soon,
		 * not at the give-up time meant for slow ones. */
		if (now > sh->give_up_ns ||
		    now - atomic_load(&sh->progress_ns) > STALL_SEC * NS_PER_SEC) {
			qb_error("consumer: %" PRIu64 " of %" PRIu64 " atoms acknowledged, none for %d s",
				 atomic_load(&sh->acked), atomic_load(&sh->produced),
				 (int)((now - atomic_load(&sh->progress_ns)) / NS_PER_SEC));
			return -1;
		}
		n = qb_driver.take(conn, conf.batch, conf.wait_ms, check_atom, NULL);
		if (n < 0)
			return -1;
		if (n > 0) {
			/* If these atoms complete the count, the clock is to
			 * stop: their ACK's answer is read first, so that it
			 * stops at an answered ACK whatever the window. */
			if (atomic_load(&sh->producer_done) &&
			    atomic_load(&sh->acked) + (uint64_t)n >= atomic_load(&sh->produced) &&
			    qb_driver.take_flush(conn) < 0)
				return -1;
			atomic_fetch_add(&sh->acked, (uint64_t)n);
			atomic_fetch_add(&sh->takes, 1);
			atomic_store(&sh->progress_ns, qb_now_ns());
		}
		maybe_finish();
	}
	/* Every ACK sent must have been answered in full for the run to
	 * count; after a failure elsewhere the answers do not matter, and
	 * the server may be gone. */
	if (atomic_load(&sh->failed))
		return 0;
	return qb_driver.take_flush(conn);
}

/* A child's life: connect, say so, wait for the start, work. */
static _Noreturn void child(int consumer, int ready_fd, int go_fd)
{
	void *conn = qb_driver.open(&conf, consumer);
	char ok = conn ? '1' : '0', c;
	int rc;

	if (write(ready_fd, &ok, 1) != 1 || conn == NULL)
		_exit(1);
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;
	rc = consumer < 0 ? run_producer(conn) : run_consumer(conn);
	if (rc < 0)
		atomic_store(&sh->failed, 1);
	qb_driver.close(conn);
	_exit(rc < 0 ? 1 : 0);
}

/* Runs setup or teardown in a child, so that the driver's library
 * threads never exist in the process that forks the workers. */
static int run_step(int (*step)(const struct qb_conf *), const char *what)
{
	pid_t pid;
	int status;

	if (step == NULL)
		return 0;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		qb_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		_exit(step(&conf) < 0 ? 1 : 0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		qb_error("%s failed", what);
		return -1;
	}
	return 0;
}

/* Reads one byte from each child: '1' connected, '0' could not. */
static int await_ready(int fd, int nchildren)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t until = qb_now_ns() + (int64_t)READY_TIMEOUT_MS * 1000000;
	int got = 0;

	while (got < nchildren) {
		int64_t left = (until - qb_now_ns()) / 1000000;
		char c;
		ssize_t n;
		if (left <= 0) {
			qb_error("clients did not connect within %d s", READY_TIMEOUT_MS / 1000);
			return -1;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c != '1') {
			qb_error("a client could not connect to %s", conf.server);
			return -1;
		}
		got++;
	}
	return 0;
}

/* Waits for every child, killing those still there at the give-up
 * time; returns -1 if any failed. */
static int reap(pid_t *pids, int n)
{
	sigset_t chld;
	int left = n, rc = 0;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (left > 0) {
		struct timespec ts;
		pid_t pid;
		int64_t ns;
		int status;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (int i = 0; i < n; i++)
				if (pids[i] == pid)
					pids[i] = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				rc = -1;
			left--;
		}
		if (left == 0)
			break;
		if ((ns = sh->give_up_ns + NS_PER_SEC - qb_now_ns()) <= 0) {
			qb_error("the run did not finish in time; stopping it");
			for (int i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			atomic_store(&sh->failed, 1);
			sh->give_up_ns = qb_now_ns() + 4 * NS_PER_SEC;
			ns = 5 * NS_PER_SEC;
		}
		ts.tv_sec = ns / NS_PER_SEC;
		ts.tv_nsec = ns % NS_PER_SEC;
		if (sigtimedwait(&chld, NULL, &ts) < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
	return rc;
}

static uint64_t count_seen(void)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < (conf.atoms + 7) / 8; i++)
		n += (uint64_t)__builtin_popcount(atomic_load(&sh->seen[i]));
	return n;
}

/* CPU seconds, user + system, of this process and of the children it
 * has waited for so far. */
static double cpu_seconds(void)
{
	struct rusage self, kids;

	if (getrusage(RUSAGE_SELF, &self) < 0 || getrusage(RUSAGE_CHILDREN, &kids) < 0)
		return 0;
	return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
			kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) +
	       (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
			kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) / 1e6;
}

static int report(int workers_ok, double cpu)
{
	uint64_t produced = atomic_load(&sh->produced);
	uint64_t seen = count_seen(), dups = atomic_load(&sh->dups);
	uint64_t bad = atomic_load(&sh->bad), takes = atomic_load(&sh->takes);
	int64_t end = atomic_load(&sh->end_ns);
	double s = end > sh->start_ns ? (double)(end - sh->start_ns) / 1e9 : 0;
	double events = (double)produced * conf.events;
	int ok = workers_ok && end != 0 && seen == produced && dups == 0 &&
		 bad == 0 && produced > 0;

	printf("system=%s atoms=%" PRIu64 " events=%.0f batch=%d consumers=%d window=%d "
	       "seconds=%.3f atoms_s=%.0f events_s=%.0f mb_s=%.1f lost=%" PRIu64
	       " dup=%" PRIu64 " bad=%" PRIu64 " per_take=%.1f cpu_s=%.3f %s\n",
	       qb_driver.name, produced, events, conf.batch, conf.consumers, conf.window, s,
	       s > 0 ? (double)produced / s : 0, s > 0 ? events / s : 0,
	       s > 0 ? events * QB_EVENT_BYTES / s / 1e6 : 0,
	       produced - seen, dups, bad,
	       takes ? (double)atomic_load(&sh->acked) / (double)takes : 0,
	       cpu, ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}

static int start_children(pid_t *pids, int n, int ready[2], int go[2])
{
	for (int i = 0; i < n; i++) {
		/* Consumers first: they are waiting when the first atom lands. */
		int consumer = i < conf.consumers ? i : -1;
		fflush(NULL);
		if ((pids[i] = fork()) < 0) {
			qb_error("fork: %s", strerror(errno));
			return -1;
		}
		if (pids[i] == 0) {
			close(ready[0]);
			close(go[1]);
			child(consumer, ready[1], go[0]);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	pid_t pids[MAX_CHILDREN] = { 0 };
	int ready[2], go[2], n, workers_ok, rc;
	sigset_t chld;
	long max_time;
	size_t size;
	double cpu0;

	signal(SIGPIPE, SIG_IGN);
	parse_options(argc, argv, &max_time);
	n = conf.consumers + 1;
	size = sizeof *sh + (conf.atoms + 7) / 8;
	sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		qb_error("mmap: %s", strerror(errno));
		return 1;
	}
	if (run_step(qb_driver.setup, "setup") < 0)
		return 1;
	/* SIGCHLD stays blocked so reap() can wait for it with a time-out. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if (pipe(ready) < 0 || pipe(go) < 0) {
		qb_error("pipe: %s", strerror(errno));
		return 1;
	}
	sh->give_up_ns = qb_now_ns() + (max_time + GRACE_SEC + READY_TIMEOUT_MS / 1000) * NS_PER_SEC;
	/* The setup child is reaped: from here on the CPU time counted is
	 * the workers' and ours (see cpu_s at the top). */
	cpu0 = cpu_seconds();
	if (start_children(pids, n, ready, go) < 0) {
		atomic_store(&sh->failed, 1);
		close(go[1]);
		reap(pids, n);
		return 1;
	}
	close(ready[1]);
	close(go[0]);
	if (await_ready(ready[0], n) < 0) {
		for (int i = 0; i < n; i++)
			if (pids[i] > 0)
				kill(pids[i], SIGKILL);
		reap(pids, n);
		return 1;
	}
	sh->start_ns = qb_now_ns();
	atomic_store(&sh->progress_ns, sh->start_ns);
	sh->stop_putting_ns = sh->start_ns + max_time * NS_PER_SEC;
	sh->give_up_ns = sh->stop_putting_ns + GRACE_SEC * NS_PER_SEC;
	close(go[1]);		/* every child's read() returns: go */
	workers_ok = reap(pids, n) == 0;
	rc = report(workers_ok, cpu_seconds() - cpu0);
	if (run_step(qb_driver.teardown, "teardown") < 0)
		rc = 1;
	return rc;
}
