/*
 * atomtool: the C side of t/atom-format.bats.  It writes and reads frames
 * through libcommon's own writer and reader, with every header field under
 * the test's control, so that the Python reader written from spsc-atom(5)
 * can be checked against the implementation in both directions.
 *
 *   atomtool encode [-n EVENTS] [-z LEVEL] [--name N] [--label L]
 *                   [--created NS] [--attempt N] [--fail KIND:CODE]
 *                   [--times TMIN,TMAX] [--wm WM]
 *       frames the lines on stdin; ids as a source atom of name/label;
 *       event times (ns, "none" or "end") make version 2 frames
 *   atomtool decode [--max-atom SIZE]
 *       reads frames on stdin and prints each atom as atomread.py does
 *       (the part of its header line before " | "), events tab-prefixed
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atom.h"
#include "crc32c.h"
#include "event.h"
#include "fdio.h"
#include "log.h"
#include "opt.h"

struct options {
	long per_atom;
	int level;
	const char *name;
	const char *label;
	int64_t created;
	uint32_t attempt;
	int fail_kind;
	int32_t fail_code;
	int64_t tmin, tmax, wm;
	size_t limit;
};

static char *slurp(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0, got;
	char *buf = malloc(cap), *p;

	while (buf != NULL) {
		if (fd_read_full(fd, buf + n, cap - n, &got) < 0)
			die(EXIT_FAIL, "stdin: %m");
		n += got;
		if (n < cap)
			break;
		p = realloc(buf, cap * 2);
		if (p == NULL)
			free(buf);
		buf = p;
		cap *= 2;
	}
	if (buf == NULL)
		die(EXIT_FAIL, "out of memory");
	*len = n;
	return buf;
}

static void emit(struct atom_writer *w, const struct options *o,
		 struct atom *a, uint64_t ordinal)
{
	a->id = atomid_source(o->name, o->label, ordinal,
			      crc32c(0, a->data, a->len), a->len);
	a->created_ns = o->created;
	a->attempt = o->attempt;
	a->fail_kind = (uint8_t)o->fail_kind;
	a->fail_code = o->fail_code;
	a->tmin = o->tmin;
	a->tmax = o->tmax;
	a->wm = o->wm;
	if (atom_write(w, a) < 0)
		die(EXIT_FAIL, "%s", w->err);
}

static int encode(const struct options *o)
{
	struct atom_codec codec;
	struct atom_writer w;
	struct event_iter it;
	struct atom a;
	const char *ev;
	size_t len, n;
	uint64_t ordinal = 0;
	char *in = slurp(STDIN_FILENO, &len);

	atom_codec_init(&codec, o->level, o->limit);
	atom_writer_init(&w, STDOUT_FILENO, "stdout", &codec);
	atom_init(&a);
	event_iter_init(&it, in, len);
	while (event_next(&it, &ev, &n)) {
		if (atom_append(&a, ev, n) < 0 ||
		    (ev[n - 1] != '\n' && atom_append(&a, "\n", 1) < 0))
			die(EXIT_FAIL, "out of memory");
		if (++a.events == (uint32_t)o->per_atom) {
			emit(&w, o, &a, ordinal++);
			atom_reset(&a);
		}
	}
	if (a.events > 0)
		emit(&w, o, &a, ordinal);
	atom_free(&a);
	atom_codec_free(&codec);
	free(in);
	return EXIT_OK;
}

/* An event time as atomread.py prints it. */
static void print_time(const char *name, int64_t t)
{
	if (t == ATOM_TIME_NONE)
		printf(" %s=none", name);
	else if (t == ATOM_TIME_END)
		printf(" %s=end", name);
	else
		printf(" %s=%" PRId64, name, t);
}

static void print_atom(const struct atom *a)
{
	char hex[ATOMID_HEX_LEN + 1];

	atomid_hex(&a->id, hex);
	printf("atom id=%s created_ns=%" PRId64 " events=%" PRIu32
	       " attempt=%" PRIu32 " fail=%s:%" PRId32 " raw=%zu",
	       hex, a->created_ns, a->events, a->attempt,
	       atom_fail_name(a->fail_kind), a->fail_code, a->len);
	/* Only a version 2 frame says anything about event time. */
	if (a->tmin != ATOM_TIME_NONE || a->tmax != ATOM_TIME_NONE ||
	    a->wm != ATOM_TIME_NONE) {
		print_time("tmin", a->tmin);
		print_time("tmax", a->tmax);
		print_time("wm", a->wm);
	}
	putchar('\n');
	for (size_t i = 0; i < a->len; i++) {
		if (i == 0 || a->data[i - 1] == '\n')
			putchar('\t');
		putchar(a->data[i]);
	}
}

static int decode(const struct options *o)
{
	struct atom_codec codec;
	struct atom_reader r;
	struct atom a;
	int rc;

	atom_codec_init(&codec, 0, o->limit);
	if (atom_reader_init(&r, STDIN_FILENO, "stdin", &codec) < 0)
		die(EXIT_FAIL, "out of memory");
	atom_init(&a);
	while ((rc = atom_read(&r, &a)) == 1)
		print_atom(&a);
	if (fflush(stdout) != 0)
		die(EXIT_FAIL, "stdout: %m");
	if (rc < 0)
		log_error("%s", r.err);
	atom_free(&a);
	atom_reader_free(&r);
	atom_codec_free(&codec);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}

static int64_t parse_time(const char *opt, const char *arg)
{
	if (strcmp(arg, "none") == 0)
		return ATOM_TIME_NONE;
	if (strcmp(arg, "end") == 0)
		return ATOM_TIME_END;
	return opt_long(opt, arg, INT64_MIN, INT64_MAX);
}

static void parse_times(struct options *o, const char *arg)
{
	const char *comma = strchr(arg, ',');
	char first[32];

	if (comma == NULL || (size_t)(comma - arg) >= sizeof first)
		opt_usage_error("--times: '%s' is not TMIN,TMAX", arg);
	memcpy(first, arg, (size_t)(comma - arg));
	first[comma - arg] = '\0';
	o->tmin = parse_time("--times", first);
	o->tmax = parse_time("--times", comma + 1);
}

static void parse_fail(struct options *o, const char *arg)
{
	char *end;
	long kind = strtol(arg, &end, 10);

	if (end == arg || *end != ':' || kind < 0 || kind > 255)
		opt_usage_error("--fail: '%s' is not KIND:CODE", arg);
	o->fail_kind = (int)kind;
	o->fail_code = (int32_t)opt_long("--fail", end + 1, INT32_MIN, INT32_MAX);
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "atom-events", required_argument, NULL, 'n' },
		{ "compress", required_argument, NULL, 'z' },
		{ "name", required_argument, NULL, 'N' },
		{ "label", required_argument, NULL, 'L' },
		{ "created", required_argument, NULL, 'c' },
		{ "attempt", required_argument, NULL, 'a' },
		{ "fail", required_argument, NULL, 'f' },
		{ "max-atom", required_argument, NULL, 'm' },
		{ "times", required_argument, NULL, 'T' },
		{ "wm", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	struct options o = { .per_atom = 1000, .name = "atomtool", .label = "-",
			     .tmin = ATOM_TIME_NONE, .tmax = ATOM_TIME_NONE,
			     .wm = ATOM_TIME_NONE };
	int c;

	log_init(argv[0]);
	fd_ignore_sigpipe();
	while ((c = getopt_long(argc, argv, "n:z:", longs, NULL)) != -1) {
		switch (c) {
		case 'n': o.per_atom = opt_long("-n", optarg, 1, INT32_MAX); break;
		case 'z': o.level = (int)opt_long("-z", optarg, 0, 19); break;
		case 'N': o.name = optarg; break;
		case 'L': o.label = optarg; break;
		case 'c': o.created = opt_long("--created", optarg, 0, INT64_MAX); break;
		case 'a': o.attempt = (uint32_t)opt_long("--attempt", optarg, 0, UINT32_MAX); break;
		case 'f': parse_fail(&o, optarg); break;
		case 'm': o.limit = opt_size("--max-atom", optarg, 1, ATOM_LIMIT_MAX); break;
		case 'T': parse_times(&o, optarg); break;
		case 'W': o.wm = parse_time("--wm", optarg); break;
		default: opt_usage_error("unknown option");
		}
	}
	if (optind != argc - 1)
		opt_usage_error("usage: atomtool encode|decode [OPTIONS]");
	if (strcmp(argv[optind], "encode") == 0)
		return encode(&o);
	if (strcmp(argv[optind], "decode") == 0)
		return decode(&o);
	opt_usage_error("'%s': neither encode nor decode", argv[optind]);
}
