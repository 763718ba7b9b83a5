/*
 * latprobe: the latency floor of a pipeline of plain pipes.
 *
 *   latprobe send RATE EVENTS | cat | cat | cat | latprobe recv
 *
 * send writes EVENTS 100-byte lines at RATE lines a second, each line in
 * its own write, each stamped with the wall clock just before it goes;
 * recv reads them and prints how long they took, p50 and p99 in ms.  That
 * is what this machine's scheduler and pipes alone cost a stream at that
 * rate: four pipe hops and five processes, as many hops as spsc-source |
 * spsc-op --warm cat | spsc-sink.  bench/queue prints it beside the
 * pipelines' own latency, so that a p99 can be told from the machine's.
 *
 * The schedule is absolute (line i is due at start + i / RATE): a sender
 * that falls behind catches up, as spsc-source --rate does, and does not
 * drift.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_BYTES 100
#define STAMP_DIGITS 19
#define MAX_EVENTS 100000000ULL

static void usage(void)
{
	fputs("Usage: latprobe send RATE EVENTS\n"
	      "       latprobe recv\n"
	      "send writes EVENTS stamped 100-byte lines at RATE a second;\n"
	      "recv reads them and prints: events N p50_ms X p99_ms Y max_ms Z\n",
	      stderr);
}

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0) {
		perror("latprobe: clock_gettime");
		exit(1);
	}
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void sleep_until(int64_t due)
{
	struct timespec ts = { .tv_sec = due / 1000000000,
			       .tv_nsec = due % 1000000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int parse_count(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > MAX_EVENTS)
		return -1;
	*out = v;
	return 0;
}

static int do_send(uint64_t rate, uint64_t events)
{
	char line[LINE_BYTES], stamp[32];
	int64_t start = now_ns(CLOCK_MONOTONIC);
	uint64_t i;

	memset(line, 'x', sizeof line);
	line[STAMP_DIGITS] = ' ';
	line[LINE_BYTES - 1] = '\n';
	for (i = 0; i < events; i++) {
		int64_t due = start + (int64_t)(i * 1000000000ULL / rate);
		if (now_ns(CLOCK_MONOTONIC) < due)
			sleep_until(due);
		/* 19 digits, then the padding */
		snprintf(stamp, sizeof stamp, "%019" PRId64, now_ns(CLOCK_REALTIME));
		memcpy(line, stamp, STAMP_DIGITS);
		if (write_all(STDOUT_FILENO, line, sizeof line) < 0) {
			perror("latprobe: write");
			return 1;
		}
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The latencies so far, grown as lines come. */
struct samples {
	int64_t *v;
	size_t n, cap;
};

static int add_sample(struct samples *s, int64_t lat)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 65536;
		int64_t *v = cap > MAX_EVENTS ? NULL : realloc(s->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = lat;
	return 0;
}

/* Takes the stamp of each whole line in buf[0..len); returns the bytes
 * used (the rest is an unfinished line). */
static size_t take_lines(struct samples *s, const char *buf, size_t len,
			 int64_t now, int *bad)
{
	size_t used = 0;

	while (len - used >= LINE_BYTES) {
		const char *p = buf + used;
		char *end;
		long long stamp = strtoll(p, &end, 10);
		if (end != p + STAMP_DIGITS || p[LINE_BYTES - 1] != '\n' ||
		    add_sample(s, now - stamp) < 0)
			*bad = 1;
		used += LINE_BYTES;
	}
	return used;
}

static double pct_ms(const struct samples *s, int pct)
{
	size_t i = (s->n * (size_t)pct + 99) / 100;

	return s->v[i ? i - 1 : 0] / 1e6;
}

static int do_recv(void)
{
	static char buf[64 * LINE_BYTES];
	struct samples s = { 0 };
	size_t have = 0;
	int bad = 0;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + have, sizeof buf - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("latprobe: read");
			return 1;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		size_t used = take_lines(&s, buf, have, now_ns(CLOCK_REALTIME), &bad);
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	if (bad || have != 0 || s.n == 0) {
		fputs("latprobe: recv: the input is not latprobe send's lines\n", stderr);
		return 1;
	}
	qsort(s.v, s.n, sizeof *s.v, cmp_i64);
	printf("events %zu p50_ms %.3f p99_ms %.3f max_ms %.3f\n", s.n,
	       pct_ms(&s, 50), pct_ms(&s, 99), s.v[s.n - 1] / 1e6);
	free(s.v);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t rate, events;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && strcmp(argv[1], "send") == 0) {
		if (parse_count(argv[2], &rate) < 0 ||
		    parse_count(argv[3], &events) < 0) {
			usage();
			return 2;
		}
		return do_send(rate, events);
	}
	if (argc == 2 && strcmp(argv[1], "recv") == 0)
		return do_recv();
	usage();
	return 2;
}
