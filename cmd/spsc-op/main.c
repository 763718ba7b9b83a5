/*
 * spsc-op: run a command for each atom.  The atom's events go to the
 * command's stdin; its stdout, once it has exited well, becomes the output
 * atoms.  Failures are retried and finally dead-lettered; see spsc-op(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "op.h"
#include "opt.h"
#include "plan.h"
#include "prog.h"
#include "stop.h"
#include "units.h"

#define DEFAULT_DLQ "./spsc-op.dlq"
#define DEFAULT_SPILL ((size_t)16 << 20)
#define JOBS_MAX 256

static const char usage[] =
	"Usage: spsc-op [OPTION]... [--] COMMAND [ARG]...\n"
	"Run COMMAND for each input atom: the atom's events go to its standard\n"
	"input, and its standard output, once it exits with status 0, becomes\n"
	"the output atoms.\n"
	"\n"
	"  -i, --input ENDPOINT     read atoms from ENDPOINT (default -: stdin)\n"
	"  -o, --output ENDPOINT    write atoms to ENDPOINT (default -: stdout)\n"
	"  -j, --jobs N             run up to N invocations at once (default 1)\n"
	"      --ordered            emit outputs in input order, also with -j\n"
	"  -t, --timeout DURATION   deadline of each invocation (default 30s;\n"
	"                           0: none)\n"
	"      --grace DURATION     from SIGTERM to SIGKILL (default 2s)\n"
	"  -r, --retries N          attempts per atom, in all (default 3)\n"
	"      --ok-exit CODES      exit statuses that mean success, comma\n"
	"                           separated (default 0; grep wants 0,1)\n"
	"      --dlq ENDPOINT       where atoms go after the last failed attempt\n"
	"                           (default " DEFAULT_DLQ ")\n"
	"      --warm               keep one COMMAND per job running across atoms\n"
	"                           (see WARM PROTOCOL in spsc-op(1))\n"
	"      --shell              run the words of COMMAND with sh -c\n"
	"      --name NAME          salt for output atom ids (default: the\n"
	"                           command line)\n"
	"  -z, --compress[=LEVEL]   zstd-compress output payloads (level 1-22,\n"
	"                           default 3)\n"
	"      --drain              with a queue input: exit once it has nothing\n"
	"                           ready and nothing in flight\n"
	"      --max-atom SIZE      largest atom read or written (default 64M)\n"
	"      --spill SIZE         output held in memory per atom before it goes\n"
	"                           to a file in $TMPDIR (default 16M)\n"
	"  -q, --quiet              log errors only\n"
	"      --print-endpoints    check the options, print the endpoints\n"
	"                           (spsc-dag(5)) and exit\n"
	"      --help               show this help and exit\n"
	"      --version            show the version and exit\n"
	"\n"
	"Exit status: 0 every atom done; 1 input or output error; 2 usage error\n"
	"or COMMAND not found; 3 one or more atoms dead-lettered.\n";

enum {
	OPT_ORDERED = 256, OPT_GRACE, OPT_DLQ, OPT_WARM, OPT_SHELL, OPT_NAME,
	OPT_MAX_ATOM, OPT_SPILL, OPT_OK_EXIT, OPT_DRAIN, OPT_PRINT_ENDPOINTS,
	OPT_HELP, OPT_VERSION,
};

static const struct option long_options[] = {
	{ "input", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'o' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "ordered", no_argument, NULL, OPT_ORDERED },
	{ "timeout", required_argument, NULL, 't' },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "retries", required_argument, NULL, 'r' },
	{ "dlq", required_argument, NULL, OPT_DLQ },
	{ "warm", no_argument, NULL, OPT_WARM },
	{ "shell", no_argument, NULL, OPT_SHELL },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "compress", optional_argument, NULL, 'z' },
	{ "max-atom", required_argument, NULL, OPT_MAX_ATOM },
	{ "spill", required_argument, NULL, OPT_SPILL },
	{ "ok-exit", required_argument, NULL, OPT_OK_EXIT },
	{ "drain", no_argument, NULL, OPT_DRAIN },
	{ "quiet", no_argument, NULL, 'q' },
	{ "print-endpoints", no_argument, NULL, OPT_PRINT_ENDPOINTS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

struct args {
	const char *input, *output, *dlq, *name;
	int shell;
};

static void defaults(struct op *op, struct args *a)
{
	memset(op, 0, sizeof *op);
	memset(a, 0, sizeof *a);
	a->input = a->output = "-";
	op->jobs = 1;
	op->wm_out = ATOM_TIME_NONE;
	op->timeout = 30 * NS_PER_SEC;
	op->grace = 2 * NS_PER_SEC;
	op->attempts = 3;
	op->max_atom = ATOM_DEFAULT_LIMIT;
	op->hold.memory = DEFAULT_SPILL;
	op->ok_exit[0] = 1;
}

/* "0,1": the exit statuses that count as success. */
static void parse_ok_exit(struct op *op, const char *arg)
{
	char buf[256], *save = NULL, *word;

	if (strlen(arg) >= sizeof buf)
		opt_usage_error("--ok-exit: list too long");
	snprintf(buf, sizeof buf, "%s", arg);
	memset(op->ok_exit, 0, sizeof op->ok_exit);
	for (word = strtok_r(buf, ",", &save); word; word = strtok_r(NULL, ",", &save))
		op->ok_exit[opt_long("--ok-exit", word, 0, 255)] = 1;
}

static void parse_options(int argc, char **argv, struct op *op, struct args *a)
{
	int c;

	/* '+': options end at COMMAND, whose own options are its business. */
	while ((c = getopt_long(argc, argv, "+i:o:j:t:r:z::q", long_options,
				NULL)) != -1) {
		switch (c) {
		case 'i': a->input = optarg; break;
		case 'o': a->output = optarg; break;
		case 'j':
			op->jobs = (int)opt_long("--jobs", optarg, 1, JOBS_MAX);
			break;
		case OPT_ORDERED: op->ordered = 1; break;
		case 't': op->timeout = opt_duration("--timeout", optarg); break;
		case OPT_GRACE: op->grace = opt_duration("--grace", optarg); break;
		case 'r':
			op->attempts = (uint32_t)opt_long("--retries", optarg, 1,
							  1000000);
			break;
		case OPT_DLQ: a->dlq = optarg; break;
		case OPT_WARM: op->warm = 1; break;
		case OPT_SHELL: a->shell = 1; break;
		case OPT_NAME: a->name = optarg; break;
		case 'z':
			op->epo.level = optarg ? (int)opt_long("--compress",
							       optarg, 1, 22)
					       : 3;
			break;
		case OPT_MAX_ATOM:
			op->max_atom = (size_t)opt_size("--max-atom", optarg,
							256, ATOM_LIMIT_MAX);
			break;
		case OPT_SPILL:
			op->hold.memory = (size_t)opt_size("--spill", optarg,
							   4096, SIZE_MAX / 4);
			break;
		case OPT_OK_EXIT: parse_ok_exit(op, optarg); break;
		case OPT_DRAIN: op->epo.drain = 1; break;
		case 'q': log_threshold = LOG_ERROR; break;
		case OPT_PRINT_ENDPOINTS: plan_requested = 1; break;
		case OPT_HELP: opt_help(usage);
		case OPT_VERSION: opt_version();
		default: opt_usage_error("unknown option or missing argument");
		}
	}
	if (optind >= argc)
		opt_usage_error("no COMMAND given");
	if (a->dlq && strcmp(a->dlq, "-") == 0 && strcmp(a->output, "-") == 0)
		opt_usage_error("--dlq - and output to stdout would mix dead atoms into the output");
}

/* COMMAND [ARG]... joined by spaces, as sh -c "$*" would see it. */
static char *join_words(int n, char **words)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	if ((s = malloc(len)) == NULL)
		die(EXIT_FAIL, "out of memory");
	s[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, words[i]);
	}
	return s;
}

/*
 * The command as it will be run, found now: a misspelt command is a usage
 * error, reported before a single atom is consumed.
 */
static void setup_command(struct op *op, struct args *a, int n, char **words)
{
	static char *shell_argv[4];
	char err[512];

	if (a->shell) {
		shell_argv[0] = "sh";
		shell_argv[1] = "-c";
		shell_argv[2] = join_words(n, words);
		op->argv = shell_argv;
	} else {
		op->argv = words;
	}
	if (child_find(op->argv[0], op->path, sizeof op->path, err,
		       sizeof err) < 0) {
		log_error("%s", err);
		exit(EXIT_USAGE);
	}
	op->salt = a->name ? atomid_salt(1, (char *const *)&a->name)
			   : atomid_salt(n, words);
}

/*
 * The end-of-atom marker of the warm protocol: a line no real output
 * contains by chance, new for every run.
 */
static void make_marker(struct op *op)
{
	uint64_t r;

	if (getrandom(&r, sizeof r, 0) != sizeof r)
		r = hash_mix64((uint64_t)wall_ns() ^ (uint64_t)getpid() << 32);
	snprintf(op->marker, sizeof op->marker, "\n%s%016llx\n", MARKER_PREFIX,
		 (unsigned long long)r);
	op->marker_len = strlen(op->marker);
	snprintf(op->env_marker, sizeof op->env_marker, "SPSC_MARKER=%.*s",
		 (int)op->marker_len - 2, op->marker + 1);
}

static void setup_holding(struct op *op)
{
	const char *tmp = getenv("TMPDIR");

	op->hold.tmpdir = tmp && *tmp ? tmp : "/tmp";
	op->hold.max_line = op->max_atom;
	op->hold.keep = op->warm ? op->marker_len : 0;
}

/* --print-endpoints: what open_endpoints would open, and the queue's own
 * dead letters for a queue input. */
static _Noreturn void print_endpoints(const struct op *op, const struct args *a,
				      uint64_t producer)
{
	plan_print("in", a->input, 0);
	plan_print("out", a->output, producer);
	if (endpoint_kind_of(a->input) == ENDPOINT_QUEUE)
		plan_print_queue_dlq(a->input);
	else
		plan_print("dlq", op->dlq_spec, 0);
	plan_done();
}

/* Endpoints are opened after the command is known to exist; an explicit
 * --dlq is opened now too, so that a bad one is reported before any atom
 * could need it. */
static void open_endpoints(struct op *op, const struct args *a)
{
	/* The output alone names the stage as its producer (spsc(7)). */
	uint64_t producer = atomid_producer(op->salt, a->input);

	op->dlq_spec = a->dlq ? a->dlq : DEFAULT_DLQ;
	op->dlq_default = a->dlq == NULL;
	if (plan_requested)
		print_endpoints(op, a, producer);
	op->epo.limit = op->max_atom;
	/* A GET brings as many atoms as the stage works on at once; a warm
	 * stage, fast per atom, takes several rounds' worth, so that its
	 * command is not idle for a round trip after each round.  (A slow
	 * stage takes no more, leaving the rest to competing consumers.) */
	op->epo.prefetch = op->warm ? WARM_PREFETCH_ROUNDS * op->jobs * WARM_DEPTH_MIN : op->jobs;
	/* A per-atom op takes only what its free slots can start: atoms
	 * fetched ahead would wait, leased, while long commands run. */
	op->epo.read_ahead = op->warm;
	op->epo.look_wait_ns = OP_LOOK_WAIT_NS;
	if (endpoint_open(&op->in, a->input, 0, &op->epo) < 0)
		die(EXIT_FAIL, "%s", op->in.err);
	op->epo.producer = producer;
	op->epo.late_is_redundant = endpoint_is_queue(&op->in);
	if (endpoint_open(&op->out, a->output, 1, &op->epo) < 0)
		die(EXIT_FAIL, "%s", op->out.err);
	op->epo.producer = 0;
	if (endpoint_is_queue(&op->in)) {
		/* The queue retries and dead-letters (max-receives). */
		if (a->dlq)
			log_warn("--dlq is not used with a queue input: failed atoms go back to %s, and after its max-receives to %s.dlq",
				 op->in.name, op->in.name);
		return;
	}
	if (a->dlq) {
		if (endpoint_open(&op->dlq, a->dlq, 1, &op->epo) < 0)
			die(EXIT_FAIL, "%s", op->dlq.err);
		op->dlq_open = 1;
	}
}

static int close_endpoints(struct op *op)
{
	int status = EXIT_OK;

	if (endpoint_close(&op->in) < 0) {
		log_error("%s", op->in.err);
		status = EXIT_FAIL;
	}
	if (endpoint_close(&op->out) < 0) {
		log_error("%s", op->out.err);
		status = EXIT_FAIL;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct op op;
	struct args a;
	int status;

	prog_init(argv[0]);
	defaults(&op, &a);
	parse_options(argc, argv, &op, &a);
	setup_command(&op, &a, argc - optind, argv + optind);
	make_marker(&op);
	setup_holding(&op);
	open_endpoints(&op, &a);
	status = op_run(&op);
	/* The input is complete and all of it was handled (some perhaps
	 * dead-lettered): the output is whole.  Not after a stop or a
	 * failure, when it is not. */
	if (op.input_done && !op.fatal && status != EXIT_FAIL && !stop_requested &&
	    endpoint_finish(&op.out) < 0) {
		log_error("%s", op.out.err);
		status = EXIT_FAIL;
	}
	if (close_endpoints(&op) != EXIT_OK)
		status = EXIT_FAIL;
	if (a.shell)
		free(op.argv[2]);
	return status;
}
