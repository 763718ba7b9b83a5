/*
 * spsc-source: raw input in, atoms out.
 *
 * Reads files, directories, globs, archives, compressed files or standard
 * input, cuts the events (lines) into atoms and writes them to an endpoint.
 * Three modes: read the inputs and exit (the default), --follow files that
 * grow, or --watch a directory for files that land in it.  See
 * spsc-source(1), and source.h for how the files fit together.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atom.h"
#include "endpoint.h"
#include "log.h"
#include "manifest.h"
#include "opt.h"
#include "plan.h"
#include "prog.h"
#include "source.h"
#include "units.h"

static const char usage[] =
	"Usage: spsc-source [OPTIONS] [INPUT...]\n"
	"Cut raw input into atoms (batches of newline-terminated events) and\n"
	"write them to an endpoint.\n"
	"\n"
	"INPUT is a file, a directory (read recursively, in sorted order), a glob\n"
	"or '-' for standard input (the default).  Archives (tar, zip, cpio, 7z)\n"
	"and compressed files (gzip, zstd, xz, bzip2, ...) are recognised by\n"
	"their content; each archive member is a stream of events.\n"
	"\n"
	"Atoms:\n"
	"  -n, --atom-events=N     cut an atom at N events (default 1000)\n"
	"  -b, --atom-bytes=SIZE   keep atoms within SIZE bytes (default 1M)\n"
	"  -l, --linger=DURATION   while waiting for input, cut a partial atom once\n"
	"                          it is this old (default 1s)\n"
	"      --name=NAME         seed the atom ids (default spsc-source)\n"
	"  -z, --compress[=LEVEL]  zstd-compress payloads (level 1-22, default 3)\n"
	"      --max-atom=SIZE     longest event, largest frame (default 64M)\n"
	"  -o, --output=ENDPOINT   where atoms go: '-' (standard output, the\n"
	"                          default) or a file path containing '/'\n"
	"\n"
	"Event time:\n"
	"      --time=FIELD        stamp each atom with the least and greatest time\n"
	"                          of its events (FIELD as spsc-shuffle's -k: N, or\n"
	"                          .json.path; epoch s or ms, or RFC 3339) and with\n"
	"                          the source's watermark\n"
	"  -t, --separator=SEP     field separator for --time N (default: blanks)\n"
	"      --lateness=DURATION the watermark trails the latest time read by\n"
	"                          this much (default 0)\n"
	"\n"
	"Modes:\n"
	"  -f, --follow            follow the files as they grow, like tail -F,\n"
	"                          until SIGTERM or SIGINT\n"
	"  -w, --watch=DIR         take each file that lands in DIR, until a signal\n"
	"      --once              with --watch: take the files already in DIR,\n"
	"                          then exit\n"
	"      --state=DIR         remember ingested files in DIR/manifest and skip\n"
	"                          them when run again (cron)\n"
	"\n"
	"Pace and reporting:\n"
	"      --rate=N            at most N events per second\n"
	"      --progress          report bytes and events per second on stderr\n"
	"                          (the default when stderr is a terminal)\n"
	"      --no-progress       do not, even on a terminal\n"
	"      --print-endpoints   check the options, print the endpoints\n"
	"                          (spsc-dag(5)) and exit\n"
	"      --help              show this help and exit\n"
	"      --version           show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 some input failed (the others were read),\n"
	"2 usage error.  See spsc-source(1).\n";

enum {
	OPT_NAME = 256,
	OPT_MAX_ATOM,
	OPT_ONCE,
	OPT_STATE,
	OPT_RATE,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_HELP,
	OPT_VERSION,
	OPT_TIME,
	OPT_LATENESS,
	OPT_PRINT_ENDPOINTS,
};

static const struct option long_options[] = {
	{ "atom-events", required_argument, NULL, 'n' },
	{ "atom-bytes", required_argument, NULL, 'b' },
	{ "linger", required_argument, NULL, 'l' },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "compress", optional_argument, NULL, 'z' },
	{ "max-atom", required_argument, NULL, OPT_MAX_ATOM },
	{ "output", required_argument, NULL, 'o' },
	{ "follow", no_argument, NULL, 'f' },
	{ "watch", required_argument, NULL, 'w' },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "time", required_argument, NULL, OPT_TIME },
	{ "separator", required_argument, NULL, 't' },
	{ "lateness", required_argument, NULL, OPT_LATENESS },
	{ "print-endpoints", no_argument, NULL, OPT_PRINT_ENDPOINTS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static double parse_rate(const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(v) || v <= 0)
		opt_usage_error("--rate: '%s' is not a positive number of events per second",
				arg);
	return v;
}

/* -1: progress was neither asked for nor refused: follow the terminal. */
static int parse_options(struct source_cfg *cfg, int argc, char **argv)
{
	int c, progress = -1;
	uint64_t atom_bytes = 1 << 20;

	memset(cfg, 0, sizeof *cfg);
	cfg->name = SOURCE_DEFAULT_NAME;
	cfg->atom_events = 1000;
	cfg->linger_ns = NS_PER_SEC;
	cfg->max_atom = ATOM_DEFAULT_LIMIT;
	cfg->output = "-";
	while ((c = getopt_long(argc, argv, "n:b:l:z::o:fw:t:", long_options,
				NULL)) != -1) {
		switch (c) {
		case 'n':
			cfg->atom_events = (uint32_t)opt_long("--atom-events",
							      optarg, 1, UINT32_MAX);
			break;
		case 'b':
			atom_bytes = opt_size("--atom-bytes", optarg, 1,
					      ATOM_LIMIT_MAX);
			break;
		case 'l':
			cfg->linger_ns = opt_duration("--linger", optarg);
			break;
		case OPT_NAME:
			cfg->name = optarg;
			break;
		case 'z':
			cfg->out_opts.level = optarg ? (int)opt_long("--compress",
								     optarg, 1, 22)
						     : 3;
			break;
		case OPT_MAX_ATOM:
			cfg->max_atom = opt_size("--max-atom", optarg, 1,
						 ATOM_LIMIT_MAX);
			break;
		case 'o':
			cfg->output = optarg;
			break;
		case 'f':
			cfg->follow = 1;
			break;
		case 'w':
			cfg->watch_dir = optarg;
			break;
		case OPT_ONCE:
			cfg->once = 1;
			break;
		case OPT_STATE:
			cfg->state_dir = optarg;
			break;
		case OPT_RATE:
			cfg->rate = parse_rate(optarg);
			break;
		case OPT_TIME:
			cfg->time_field = optarg;
			break;
		case 't':
			cfg->time_sep = optarg;
			break;
		case OPT_LATENESS:
			cfg->lateness_ns = opt_duration("--lateness", optarg);
			break;
		case OPT_PROGRESS:
			progress = 1;
			break;
		case OPT_NO_PROGRESS:
			progress = 0;
			break;
		case OPT_PRINT_ENDPOINTS:
			plan_requested = 1;
			break;
		case OPT_HELP:
			opt_help(usage);
		case OPT_VERSION:
			opt_version();
		default:
			opt_usage_error("unknown or incomplete option");
		}
	}
	/* A -b above the frame limit could never be honoured: the frame
	 * limit wins, quietly, so --max-atom alone is enough to lower both. */
	cfg->atom_bytes = atom_bytes < cfg->max_atom ? (size_t)atom_bytes
						     : cfg->max_atom;
	cfg->out_opts.limit = cfg->max_atom;
	cfg->progress = progress >= 0 ? progress : isatty(STDERR_FILENO);
	return optind;
}

static void check_modes(const struct source_cfg *cfg, char **inputs,
			int ninputs)
{
	if (cfg->follow && cfg->watch_dir)
		opt_usage_error("--follow and --watch do not go together");
	if (cfg->follow && (cfg->once || cfg->state_dir))
		opt_usage_error("--follow runs until a signal: it takes neither --once nor --state");
	if (cfg->follow && ninputs == 0)
		opt_usage_error("--follow needs FILE arguments");
	for (int i = 0; cfg->follow && i < ninputs; i++)
		if (strcmp(inputs[i], "-") == 0)
			opt_usage_error("--follow: standard input cannot be followed; leave out -f");
	if (cfg->watch_dir && ninputs > 0)
		opt_usage_error("--watch takes no INPUT arguments");
	if (cfg->name[0] == '\0')
		opt_usage_error("--name: must not be empty");
}

/*
 * Under `spsc run --once` (SPSC_ONCE=1) a source takes what is there and
 * ends, so that the DAG can complete: --watch takes the files already in
 * DIR, --follow reads its files to their current end.  Atom ids depend
 * only on the input, so what a later run reads again is de-duplicated.
 */
static void once_from_launcher(struct source_cfg *cfg)
{
	const char *once = getenv("SPSC_ONCE");

	if (once == NULL || strcmp(once, "1") != 0)
		return;
	if (cfg->watch_dir)
		cfg->once = 1;
	cfg->follow = 0;
}

/* Failures are counted in src->failed; each input is tried. */
static void run_batch(struct source *src, char **inputs, int n)
{
	if (n == 0) {
		(void)input_stdin(src);
		return;
	}
	for (int i = 0; i < n && !src->stopping && !src->fatal; i++)
		(void)walk_arg(src, inputs[i], input_file);
}

#define SOURCE_PRODUCER_INPUTS 64

static void setup_stamp(struct source *src, const struct source_cfg *cfg)
{
	char err[600];

	if ((cfg->time_sep || cfg->lateness_ns) && !cfg->time_field)
		opt_usage_error("%s needs --time FIELD",
				cfg->time_sep ? "-t" : "--lateness");
	if (stamp_init(&src->stamp, cfg->time_field, cfg->time_sep,
		       cfg->lateness_ns, err, sizeof err) < 0)
		opt_usage_error("--time: %s", err);
}

/* --print-endpoints: each input as given (standard input when there is
 * none), or the --watch DIR; then the output. */
static _Noreturn void print_endpoints(const struct source_cfg *cfg,
				      char **inputs, int n)
{
	if (cfg->watch_dir)
		plan_print("file", cfg->watch_dir, 0);
	else if (n == 0)
		plan_print("file", "-", 0);
	for (int i = 0; i < n; i++)
		plan_print("file", inputs[i], 0);
	plan_print("out", cfg->output, cfg->out_opts.producer);
	plan_done();
}

static int open_output(struct source *src, const struct source_cfg *cfg)
{
	if (strcmp(cfg->output, "-") == 0 && isatty(STDOUT_FILENO)) {
		log_error("stdout is a terminal: atoms are binary; pipe them into spsc-sink or use -o FILE");
		return -1;
	}
	if (endpoint_open(&src->out, cfg->output, 1, &cfg->out_opts) < 0) {
		log_error("%s", src->out.err);
		return -1;
	}
	return 0;
}

/* The source as a producer of its output queue: its name and its inputs,
 * the same across restarts and distinct from any other source. */
static uint64_t producer_id(const struct source_cfg *cfg, char **inputs, int n)
{
	char *words[1 + SOURCE_PRODUCER_INPUTS];
	int k = 0;

	words[k++] = (char *)cfg->name;
	for (int i = 0; i < n && i < SOURCE_PRODUCER_INPUTS; i++)
		words[k++] = inputs[i];
	return atomid_salt(k, words);
}

int main(int argc, char **argv)
{
	struct source_cfg cfg;
	struct source src;
	int first, ninputs;

	prog_init(argv[0]);
	first = parse_options(&cfg, argc, argv);
	ninputs = argc - first;
	check_modes(&cfg, argv + first, ninputs);
	once_from_launcher(&cfg);

	memset(&src, 0, sizeof src);
	src.cfg = &cfg;
	src.sigfd = -1;
	rate_init(&src.rate, cfg.rate);
	setup_stamp(&src, &cfg);
	cfg.out_opts.producer = producer_id(&cfg, argv + first, ninputs);
	if (plan_requested)
		print_endpoints(&cfg, argv + first, ninputs);
	if (open_output(&src, &cfg) < 0)
		return EXIT_FAIL;
	src.block = malloc(SOURCE_READ_BLOCK);
	if (src.block == NULL) {
		log_error("out of memory");
		return EXIT_FAIL;
	}
	if (signals_init(&src) < 0)
		return EXIT_FAIL;
	if (cfg.state_dir || cfg.watch_dir) {
		src.manifest = manifest_open(cfg.state_dir);
		if (src.manifest == NULL)
			return EXIT_FAIL;
	}
	progress_init(&src);

	if (cfg.watch_dir)
		(void)watch_run(&src, cfg.watch_dir);
	else if (cfg.follow)
		(void)follow_run(&src, argv + first, ninputs);
	else
		run_batch(&src, argv + first, ninputs);

	progress_done(&src);
	/* A batch run that read every input whole has made its last atom,
	 * and so has --watch --once; following and watching never end that
	 * way. */
	if ((!cfg.watch_dir || cfg.once) && !cfg.follow && !src.fatal &&
	    !src.failed &&
	    !src.stopping && endpoint_finish(&src.out) < 0) {
		log_error("%s", src.out.err);
		src.fatal = 1;
	}
	if (endpoint_close(&src.out) < 0) {
		log_error("%s", src.out.err);
		src.fatal = 1;
	}
	stamp_report(&src.stamp, cfg.time_field);
	stamp_free(&src.stamp);
	manifest_close(src.manifest);
	free(src.block);
	close(src.sigfd);
	return src.fatal || src.failed ? EXIT_FAIL : EXIT_OK;
}
