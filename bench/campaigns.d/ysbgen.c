/*
 * ysbgen: ad events for bench/campaigns, fast, at full speed or in real
 * time.  The events have the shape of examples/campaigns/gen-events.awk's
 * (the Yahoo Streaming Benchmark's):
 *
 *   {"user_id":"…","page_id":"…","ad_id":"…","ad_type":"banner",
 *    "event_type":"view","event_time":1796075043502,"ip_address":"10.1.2.3"}
 *
 * with the same disorder: 3 in 100 events 0.2 to 3 s earlier than their
 * neighbours, and, once 30 s of event time have gone by, 5 in 1000 late by
 * 20 to 30 s.  ad_id is drawn from the ad table's first column.
 *
 *   ysbgen -a ADS [-n N] [-e EPS] [--seed S] [--stats FILE]
 *       N events as fast as they can be written; event time starts at
 *       2026-11-30T21:44:03.500Z and advances as if EPS events (default
 *       1000000) came each second.
 *
 *   ysbgen -a ADS -r RATE -s SECONDS [--seed S] [--stats FILE]
 *       RATE events a second for SECONDS, paced by the clock (every
 *       millisecond, the events due by then), each with event_time = the
 *       wall-clock time at which it is written, in milliseconds.  When the
 *       reader cannot keep up, writes block and the generator falls behind
 *       its schedule; it catches up later at most 100 ms worth at a time, so
 *       the achieved rate (in --stats) says what was really offered.
 *
 * --stats FILE gets one line at the end:
 *   events=N views=V start_ms=T0 stop_ms=T1 seconds=S
 * (views: events with event_type view; start/stop: the first and last
 * event time written in real-time mode, the wall clock of the run
 * otherwise).  Build: cc -O2 -o ysbgen ysbgen.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POOL 4096		/* user ids, page ids and addresses to draw from */
#define BUFSZ (1 << 18)

static char users[POOL][37], pages[POOL][37], ips[POOL][16];
static char (*ads)[64];
static size_t nads;
static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)	/* xorshift64* */
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static void uuid(char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t a = rnd(), b = rnd();
	int i, o = 0;

	for (i = 0; i < 32; i++) {
		uint64_t w = i < 16 ? a : b;
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[o++] = '-';
		out[o++] = hex[(w >> (4 * (i & 15))) & 15];
	}
	out[o] = 0;
}

static void load_ads(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t cap = 0;

	if (!f) {
		fprintf(stderr, "ysbgen: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof line, f)) {
		size_t n = strcspn(line, "\t\n");
		if (n == 0 || n >= sizeof ads[0])
			continue;
		if (nads == cap) {
			cap = cap ? 2 * cap : 1024;
			ads = realloc(ads, cap * sizeof *ads);
			if (!ads) {
				perror("ysbgen");
				exit(1);
			}
		}
		memcpy(ads[nads], line, n);
		ads[nads++][n] = 0;
	}
	fclose(f);
	if (nads == 0) {
		fprintf(stderr, "ysbgen: %s: no ad ids\n", path);
		exit(1);
	}
}

static char buf[BUFSZ + 1024];
static size_t used;

static void flush(void)
{
	size_t off = 0;

	while (off < used) {
		ssize_t w = write(1, buf + off, used - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "ysbgen: write: %s\n", strerror(errno));
			exit(1);
		}
		off += (size_t)w;
	}
	used = 0;
}

static char *put(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static const char *const adtypes[] = {
	"banner", "modal", "sponsored-search", "mail", "mobile"
};
static const char *const evtypes[] = { "view", "click", "purchase" };
static uint64_t nevents, nviews;

/* One event written at `now' (ms) by a generator that started at `first'. */
static void event(uint64_t now, uint64_t first)
{
	uint64_t t = now, r = rnd() % 1000;
	unsigned et = (unsigned)(rnd() % 3);
	char *p;

	if (r < 30)
		t = now - 200 - rnd() % 2800;
	else if (r < 35 && now - first >= 30000)
		t = now - 20000 - rnd() % 10000;
	if (used > BUFSZ)
		flush();
	p = buf + used;
	p = put(p, "{\"user_id\":\"");
	p = put(p, users[rnd() % POOL]);
	p = put(p, "\",\"page_id\":\"");
	p = put(p, pages[rnd() % POOL]);
	p = put(p, "\",\"ad_id\":\"");
	p = put(p, ads[rnd() % nads]);
	p = put(p, "\",\"ad_type\":\"");
	p = put(p, adtypes[rnd() % 5]);
	p = put(p, "\",\"event_type\":\"");
	p = put(p, evtypes[et]);
	p = put(p, "\",\"event_time\":");
	p = put_u64(p, t);
	p = put(p, ",\"ip_address\":\"");
	p = put(p, ips[rnd() % POOL]);
	p = put(p, "\"}\n");
	used = (size_t)(p - buf);
	nevents++;
	nviews += et == 0;
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: ysbgen -a ADS [-n N] [-e EPS] [--seed S] [--stats FILE]\n"
		"       ysbgen -a ADS -r RATE -s SECONDS [--seed S] [--stats FILE]\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ads", required_argument, 0, 'a' },
		{ "events", required_argument, 0, 'n' },
		{ "eps", required_argument, 0, 'e' },
		{ "rate", required_argument, 0, 'r' },
		{ "seconds", required_argument, 0, 's' },
		{ "seed", required_argument, 0, 'S' },
		{ "stats", required_argument, 0, 'T' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *adpath = NULL, *stats = NULL;
	uint64_t n = 0, eps = 1000000, rate = 0, seconds = 0, start_ms, stop_ms;
	uint64_t wall0;
	int c, i;

	while ((c = getopt_long(argc, argv, "a:n:e:r:s:h", longopts, 0)) != -1) {
		switch (c) {
		case 'a': adpath = optarg; break;
		case 'n': n = strtoull(optarg, 0, 10); break;
		case 'e': eps = strtoull(optarg, 0, 10); break;
		case 'r': rate = strtoull(optarg, 0, 10); break;
		case 's': seconds = strtoull(optarg, 0, 10); break;
		case 'S': rng = strtoull(optarg, 0, 10) * 0x9e3779b97f4a7c15ull | 1; break;
		case 'T': stats = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!adpath || optind != argc || eps == 0 || (rate != 0) != (seconds != 0) ||
	    (rate == 0 && n == 0))
		usage(2);
	load_ads(adpath);
	for (i = 0; i < POOL; i++) {
		uuid(users[i]);
		uuid(pages[i]);
		snprintf(ips[i], sizeof ips[i], "%u.%u.%u.%u",
			 (unsigned)(1 + rnd() % 223), (unsigned)(rnd() % 256),
			 (unsigned)(rnd() % 256), (unsigned)(1 + rnd() % 254));
	}

	wall0 = now_ns(CLOCK_REALTIME);
	if (rate == 0) {
		/* Event time in microseconds, so that any EPS advances it. */
		uint64_t first = 1796075043500ull * 1000, us;
		for (uint64_t k = 0; k < n; k++) {
			us = first + k * 1000000 / eps;
			event(us / 1000, first / 1000);
		}
		start_ms = wall0 / 1000000;
		stop_ms = now_ns(CLOCK_REALTIME) / 1000000;
	} else {
		uint64_t mono0 = now_ns(CLOCK_MONOTONIC), total = rate * seconds;
		uint64_t first = wall0 / 1000000, done = 0, last = first;
		struct timespec tick;

		clock_gettime(CLOCK_MONOTONIC, &tick);
		while (done < total) {
			uint64_t el = now_ns(CLOCK_MONOTONIC) - mono0;
			uint64_t due = (uint64_t)((unsigned __int128)el * rate / 1000000000u);
			uint64_t cap = done + rate / 10 + 1;	/* 100 ms at most */
			uint64_t ms = now_ns(CLOCK_REALTIME) / 1000000;

			if (due > total)
				due = total;
			if (due > cap)
				due = cap;
			for (; done < due; done++)
				event(ms, first);
			last = ms;
			flush();
			tick.tv_nsec += 1000000;
			if (tick.tv_nsec >= 1000000000) {
				tick.tv_nsec -= 1000000000;
				tick.tv_sec++;
			}
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, 0) == EINTR)
				;
			if (now_ns(CLOCK_MONOTONIC) - mono0 > (seconds + 60) * 1000000000u)
				break;	/* hopelessly behind: stop, and say so in the stats */
		}
		start_ms = first;
		stop_ms = last;
	}
	flush();
	if (stats) {
		FILE *f = fopen(stats, "w");
		double secs = (double)(now_ns(CLOCK_REALTIME) - wall0) / 1e9;
		if (!f || fprintf(f, "events=%" PRIu64 " views=%" PRIu64 " start_ms=%" PRIu64
				  " stop_ms=%" PRIu64 " seconds=%.3f\n", nevents, nviews,
				  start_ms, stop_ms, secs) < 0 || fclose(f) != 0) {
			fprintf(stderr, "ysbgen: %s: %s\n", stats, strerror(errno));
			return 1;
		}
	}
	return 0;
}
