/*
 * spsc-sink: the end of a pipeline.  Reads atoms and writes their events to
 * stdout, a file or a directory, skipping every atom whose id it has
 * already written, so that retries and reruns upstream never duplicate
 * output.  See spsc-sink(1).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dest.h"
#include "endpoint.h"
#include "log.h"
#include "opt.h"
#include "plan.h"
#include "prog.h"
#include "stats.h"
#include "stop.h"

#define PREFETCH 32	/* atoms a GET may bring: fewer round trips */

enum stats_format { STATS_OFF, STATS_TEXT, STATS_JSON };

struct options {
	const char *input;
	const char *dest;
	const char *journal;
	int fsync;
	enum stats_format stats;
	int drain;
	size_t max_atom;
};

enum {
	OPT_JOURNAL = 256,
	OPT_FSYNC,
	OPT_STATS,
	OPT_MAX_ATOM,
	OPT_DRAIN,
	OPT_PRINT_ENDPOINTS,
};

static const char usage[] =
	"Usage: spsc-sink [OPTIONS] [DEST]\n"
	"Write the events of the atoms read from the input to DEST, skipping\n"
	"every atom whose id was already written.\n"
	"\n"
	"DEST:\n"
	"  - or nothing        standard output; ids are remembered for this run,\n"
	"                      and across runs with --journal\n"
	"  FILE                append to FILE; ids are kept in FILE.spsc-ids\n"
	"  DIR/                one file per atom, DIR/ID.events (also any existing\n"
	"                      directory); created if missing\n"
	"\n"
	"Options:\n"
	"  -i, --input ENDPOINT  read atoms from ENDPOINT: '-' (stdin, the default),\n"
	"                        a file of frames (a path with a '/') or a queue\n"
	"                        (QUEUE or QUEUE@URL)\n"
	"      --journal FILE    keep the ids of the atoms written in FILE, so that\n"
	"                        reruns skip them (for stdout; for a FILE\n"
	"                        destination it replaces FILE.spsc-ids)\n"
	"      --fsync           make every atom durable before reading the next\n"
	"      --stats[=FORMAT]  at exit, print atoms, events, bytes, events/s,\n"
	"                        latency percentiles and duplicates on stderr;\n"
	"                        FORMAT is text (the default) or json\n"
	"      --max-atom SIZE   refuse frames larger than SIZE (default 64M)\n"
	"      --drain           exit when the input queue has nothing ready and\n"
	"                        nothing in flight (pipes and files end by themselves)\n"
	"      --print-endpoints  check the options, print the endpoints\n"
	"                        (spsc-dag(5)) and exit\n"
	"  -h, --help            show this help and exit\n"
	"  -V, --version         show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 failure (bad input, write error), 2 usage error.\n";

static const struct option long_options[] = {
	{ "input", required_argument, NULL, 'i' },
	{ "journal", required_argument, NULL, OPT_JOURNAL },
	{ "fsync", no_argument, NULL, OPT_FSYNC },
	{ "stats", optional_argument, NULL, OPT_STATS },
	{ "max-atom", required_argument, NULL, OPT_MAX_ATOM },
	{ "drain", no_argument, NULL, OPT_DRAIN },
	{ "print-endpoints", no_argument, NULL, OPT_PRINT_ENDPOINTS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static enum stats_format parse_stats(const char *arg)
{
	if (arg == NULL || strcmp(arg, "text") == 0)
		return STATS_TEXT;
	if (strcmp(arg, "json") == 0)
		return STATS_JSON;
	opt_usage_error("--stats: '%s' is not a format (text or json)", arg);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	memset(o, 0, sizeof *o);
	o->input = "-";
	o->max_atom = ATOM_DEFAULT_LIMIT;
	opterr = 0;	/* one message, ours, in the shared usage format */
	while ((c = getopt_long(argc, argv, ":i:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->input = optarg;
			break;
		case OPT_JOURNAL:
			o->journal = optarg;
			break;
		case OPT_FSYNC:
			o->fsync = 1;
			break;
		case OPT_STATS:
			o->stats = parse_stats(optarg);
			break;
		case OPT_MAX_ATOM:
			o->max_atom = opt_size("--max-atom", optarg, 1,
					       ATOM_LIMIT_MAX);
			break;
		case OPT_DRAIN:
			o->drain = 1;
			break;
		case OPT_PRINT_ENDPOINTS:
			plan_requested = 1;
			break;
		case 'h':
			opt_help(usage);
		case 'V':
			opt_version();
		case ':':
			opt_usage_error("option '%s' needs a value",
					opt_bad_option(argv[optind - 1]));
		default:
			opt_usage_error("unknown option '%s'",
					opt_bad_option(argv[optind - 1]));
		}
	}
	if (argc - optind > 1)
		opt_usage_error("one destination only (got '%s' and '%s')",
				argv[optind], argv[optind + 1]);
	if (optind < argc)
		o->dest = argv[optind];
	if (o->journal && dest_kind_of(o->dest) == DEST_DIR)
		opt_usage_error("--journal: a directory destination needs no journal (its files are the record)");
}

/*
 * Past RLIMIT_FSIZE a write raises SIGXFSZ, which would kill the sink
 * mid-atom; ignored, the write fails with EFBIG and is reported like a
 * full disk, with the partial atom cut off.
 */
static void ignore_file_size_signal(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGXFSZ, &sa, NULL);
}

/* --print-endpoints: the input, where the events go, and a queue input's
 * own dead letters (max-receives). */
static _Noreturn void print_endpoints(const struct options *o)
{
	plan_print("in", o->input, 0);
	plan_print("file", o->dest ? o->dest : "-", 0);
	if (endpoint_kind_of(o->input) == ENDPOINT_QUEUE)
		plan_print_queue_dlq(o->input);
	plan_done();
}

static int sink_atoms(struct endpoint *in, struct dest *d, struct stats *st)
{
	struct atom a;
	int status = EXIT_OK, rc;

	atom_init(&a);
	for (;;) {
		rc = endpoint_read(in, &a);
		if (rc == 0)
			break;
		if (rc < 0) {
			log_error("%s", in->err);
			status = EXIT_FAIL;
			break;
		}
		if (st)
			stats_arrived(st);
		rc = dest_write(d, &a);
		if (rc < 0) {
			log_error("%s", d->err);
			/* Hand it back at once rather than when its lease runs
			 * out; a pipe has no one to tell. */
			(void)endpoint_nack(in, &a, 0);
			status = EXIT_FAIL;
			break;
		}
		if (st && rc > 0)
			stats_written(st, &a);
		else if (st)
			stats_duplicate(st);
		if (endpoint_ack(in, &a) < 0) {
			log_error("%s", in->err);
			status = EXIT_FAIL;
			break;
		}
	}
	if (stop_requested && status == EXIT_OK)
		log_info("stopped by a signal after the atom in hand");
	atom_free(&a);
	return status;
}

int main(int argc, char **argv)
{
	static struct stats stats;	/* static: the histogram is 58 KiB */
	struct endpoint_opts eo = { 0 };
	struct dest_opts dop = { 0 };
	struct endpoint in;
	struct dest dest;
	struct options o;
	int status;

	prog_init(argv[0]);
	ignore_file_size_signal();
	parse_options(argc, argv, &o);
	eo.limit = o.max_atom;
	eo.drain = o.drain;
	eo.prefetch = PREFETCH;
	eo.read_ahead = 1;
	dop.fsync = o.fsync;
	dop.journal = o.journal;
	stats_init(&stats);
	if (stop_on_signals() < 0)
		log_warn("cannot catch SIGTERM: %s", strerror(errno));

	if (plan_requested)
		print_endpoints(&o);
	if (endpoint_open(&in, o.input, 0, &eo) < 0)
		die(EXIT_FAIL, "%s", in.err);
	if (dest_open(&dest, o.dest, &dop) < 0) {
		log_error("%s", dest.err);
		status = EXIT_FAIL;
	} else {
		status = sink_atoms(&in, &dest, o.stats ? &stats : NULL);
	}
	if (dest_close(&dest) < 0) {
		log_error("%s", dest.err);
		status = EXIT_FAIL;
	}
	if (endpoint_close(&in) < 0)	/* its last acks: they come again */
		log_warn("%s", in.err);
	if (o.stats)
		stats_print(&stats, o.stats == STATS_JSON);
	return status;
}
