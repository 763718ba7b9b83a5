/*
 * spsc-reduce: keyed state.  Aggregates per key, in windows on processing
 * or event time, emitted once the watermark passes their end; over queues
 * exactly once, through checkpoints that hold the state, the ids of the
 * atoms applied and the outputs not yet written.  See spsc-reduce(1).
 *
 * This file reads the options and sets the stage up; stage.c runs it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomid.h"
#include "checkpoint.h"
#include "deadletter.h"
#include "evtime.h"
#include "fdio.h"
#include "home.h"
#include "log.h"
#include "opt.h"
#include "plan.h"
#include "prog.h"
#include "reduce.h"
#include "stage.h"
#include "stop.h"
#include "units.h"

#define EXIT_DEAD 3	/* events were dead-lettered */
#define DEFAULT_DLQ "./spsc-reduce.dlq"
#define PREFETCH 16

enum {
	OPT_TUMBLING = 256, OPT_SLIDING, OPT_SESSION, OPT_TIME, OPT_LATENESS,
	OPT_LATE, OPT_ON_ERROR, OPT_DLQ, OPT_JSON, OPT_NAME, OPT_STATE,
	OPT_CHECKPOINT, OPT_CHECKPOINT_ATOMS, OPT_DRAIN, OPT_MAX_ATOM,
	OPT_PRINT_ENDPOINTS,
};

static const char usage[] =
	"Usage: spsc-reduce [-i IN] [-o OUT] -k KEY [-t SEP] [OPTIONS] AGG...\n"
	"Aggregate the events of each key, in windows or over the whole input,\n"
	"and write one result per key and window when the watermark passes it.\n"
	"\n"
	"AGG: count, sum:F, min:F, max:F, mean:F, first:F, last:F, distinct:F,\n"
	"with F a field as for -k (sum:3, sum:.price); results keep their order.\n"
	"\n"
	"Options:\n"
	"  -i, --input ENDPOINT     read atoms from ENDPOINT: '-' (stdin, the\n"
	"                           default), a file (a path with a '/') or a\n"
	"                           queue (QUEUE or QUEUE@URL)\n"
	"  -o, --output ENDPOINT    write results to ENDPOINT (default -: stdout)\n"
	"  -k, --key KEY            group by field N (from 1) or .json.path\n"
	"  -t, --separator SEP      fields are split at SEP (default: runs of\n"
	"                           blanks)\n"
	"      --tumbling SIZE      windows [k*SIZE, (k+1)*SIZE)\n"
	"      --sliding SIZE/SLIDE windows of SIZE every SLIDE\n"
	"      --session GAP        per key, events less than GAP apart\n"
	"                           (no window: one result per key at the end)\n"
	"      --time FIELD         event time from FIELD: epoch seconds or\n"
	"                           milliseconds, or RFC 3339 (default:\n"
	"                           processing time)\n"
	"      --lateness DURATION  how far events may come out of order (needs\n"
	"                           --time; default: none, only the input's\n"
	"                           watermark closes windows, or its end)\n"
	"      --late ENDPOINT      where late events go (default: the dead\n"
	"                           letters' endpoint)\n"
	"      --on-error MODE      an event without a usable key, value or time:\n"
	"                           dlq (the default: dead-lettered, counted, exit\n"
	"                           status 3), skip (counted) or fail (exit 1)\n"
	"      --dlq ENDPOINT       where dead letters go (default: IN.dlq for a\n"
	"                           queue, else " DEFAULT_DLQ ")\n"
	"      --json               results as JSON objects, one a line\n"
	"      --name NAME          the stage's name: salt for result ids and the\n"
	"                           state directory's name (default: from the\n"
	"                           options)\n"
	"      --state DIR          keep checkpoints in DIR (default, for a queue\n"
	"                           input: $SPSC_HOME/reduce/NAME-SALT; pipes and\n"
	"                           files: none unless given)\n"
	"      --checkpoint DURATION  checkpoint at least this often while atoms\n"
	"                           wait for one (default 1s)\n"
	"      --checkpoint-atoms N at least every N atoms (default 1000)\n"
	"      --drain              with a queue input: end when it has nothing\n"
	"                           ready and nothing in flight\n"
	"      --max-atom SIZE      refuse frames larger than SIZE (default 64M)\n"
	"      --print-endpoints    check the options, print the endpoints\n"
	"                           (spsc-dag(5)) and exit\n"
	"  -h, --help               show this help and exit\n"
	"  -V, --version            show the version and exit\n"
	"\n"
	"Durations: 500ms, 10s, 5m, 1h.  Exit status: 0 done, 1 failure, 2 usage\n"
	"error, 3 events were dead-lettered.\n";

static const struct option long_options[] = {
	{ "input", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'o' },
	{ "key", required_argument, NULL, 'k' },
	{ "separator", required_argument, NULL, 't' },
	{ "tumbling", required_argument, NULL, OPT_TUMBLING },
	{ "sliding", required_argument, NULL, OPT_SLIDING },
	{ "session", required_argument, NULL, OPT_SESSION },
	{ "time", required_argument, NULL, OPT_TIME },
	{ "lateness", required_argument, NULL, OPT_LATENESS },
	{ "late", required_argument, NULL, OPT_LATE },
	{ "on-error", required_argument, NULL, OPT_ON_ERROR },
	{ "dlq", required_argument, NULL, OPT_DLQ },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
	{ "checkpoint-atoms", required_argument, NULL, OPT_CHECKPOINT_ATOMS },
	{ "drain", no_argument, NULL, OPT_DRAIN },
	{ "max-atom", required_argument, NULL, OPT_MAX_ATOM },
	{ "print-endpoints", no_argument, NULL, OPT_PRINT_ENDPOINTS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* --- options --------------------------------------------------------- */

/* A window's length: more than 0, at most SPAN_MAX. */
static int64_t span(const char *name, const char *arg)
{
	int64_t ns = opt_duration(name, arg);

	if (ns <= 0)
		opt_usage_error("%s: '%s' must be longer than 0", name, arg);
	if (ns > SPAN_MAX)
		opt_usage_error("%s: '%s' is too long (at most 73 years)", name, arg);
	return ns;
}

static void set_window(struct options *o, enum win_kind kind, const char *arg)
{
	char size[64];
	const char *slash;

	if (o->nwin++)
		opt_usage_error("--tumbling, --sliding and --session exclude each other");
	o->win.kind = kind;
	if (kind == WIN_TUMBLING) {
		o->win.size = span("--tumbling", arg);
	} else if (kind == WIN_SESSION) {
		o->win.gap = span("--session", arg);
	} else {
		slash = strchr(arg, '/');
		if (slash == NULL || (size_t)(slash - arg) >= sizeof size)
			opt_usage_error("--sliding: '%s' is not SIZE/SLIDE (e.g. 10s/5s)", arg);
		snprintf(size, sizeof size, "%.*s", (int)(slash - arg), arg);
		o->win.size = span("--sliding SIZE", size);
		o->win.slide = span("--sliding SLIDE", slash + 1);
		if (o->win.slide > o->win.size)
			opt_usage_error("--sliding: '%s': SLIDE must not be longer than SIZE (gaps would drop events)",
					arg);
	}
}

static void check_options(const struct options *o)
{
	if (o->key == NULL)
		opt_usage_error("missing -k KEY (the field N or .json.path to group by)");
	if (o->naggs == 0)
		opt_usage_error("missing AGG: what to compute per key (count, sum:F, min:F, max:F, mean:F, first:F, last:F, distinct:F)");
	if (o->lateness_set && o->time == NULL)
		opt_usage_error("--lateness needs --time: in processing time nothing is late");
	if (strcmp(o->output, "-") == 0 && o->late && strcmp(o->late, "-") == 0)
		opt_usage_error("--late - and results to stdout would mix late events into the results");
	if (strcmp(o->output, "-") == 0 && o->dlq && strcmp(o->dlq, "-") == 0)
		opt_usage_error("--dlq - and results to stdout would mix dead letters into the results");
}

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	memset(o, 0, sizeof *o);
	o->input = o->output = "-";
	o->max_atom = ATOM_DEFAULT_LIMIT;
	o->every = NS_PER_SEC;
	o->every_atoms = 1000;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:o:k:t:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'i': o->input = optarg; break;
		case 'o': o->output = optarg; break;
		case 'k': o->key = optarg; break;
		case 't': o->sep = optarg; break;
		case OPT_TUMBLING: set_window(o, WIN_TUMBLING, optarg); break;
		case OPT_SLIDING: set_window(o, WIN_SLIDING, optarg); break;
		case OPT_SESSION: set_window(o, WIN_SESSION, optarg); break;
		case OPT_TIME: o->time = optarg; break;
		case OPT_LATENESS:
			o->lateness = opt_duration("--lateness", optarg);
			if (o->lateness > SPAN_MAX)
				opt_usage_error("--lateness: '%s' is too long (at most 73 years)", optarg);
			o->lateness_set = 1;
			break;
		case OPT_LATE: o->late = optarg; break;
		case OPT_ON_ERROR: o->on_error = opt_on_error(optarg); break;
		case OPT_DLQ: o->dlq = optarg; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_NAME:
			if (*optarg == '\0' || strchr(optarg, '/'))
				opt_usage_error("--name: '%s': a name is not empty and has no '/'", optarg);
			o->name = optarg;
			break;
		case OPT_STATE: o->state = optarg; break;
		case OPT_CHECKPOINT:
			o->every = opt_duration("--checkpoint", optarg);
			if (o->every <= 0)
				opt_usage_error("--checkpoint: '%s' must be longer than 0", optarg);
			break;
		case OPT_CHECKPOINT_ATOMS:
			o->every_atoms = opt_long("--checkpoint-atoms", optarg, 1, 1000000000);
			break;
		case OPT_DRAIN: o->drain = 1; break;
		case OPT_MAX_ATOM:
			o->max_atom = opt_size("--max-atom", optarg, 1, ATOM_LIMIT_MAX);
			break;
		case OPT_PRINT_ENDPOINTS: plan_requested = 1; break;
		case 'h': opt_help(usage);
		case 'V': opt_version();
		case ':':
			opt_usage_error("option '%s' needs a value",
					opt_bad_option(argv[optind - 1]));
		default:
			opt_usage_error("unknown option '%s'",
					opt_bad_option(argv[optind - 1]));
		}
	}
	o->aggs = argv + optind;
	o->naggs = argc - optind;
	check_options(o);
}

/* The queue name of an endpoint spec, without its @URL. */
static void queue_name(const char *spec, char *buf, size_t len)
{
	const char *at = strchr(spec, '@');

	snprintf(buf, len, "%.*s", at ? (int)(at - spec) : (int)strlen(spec), spec);
}

/*
 * What the state means: a checkpoint made under other such options cannot
 * be continued.  (Lateness, outputs and checkpoint pacing may change from
 * run to run.)
 */
static void describe(struct stage *st)
{
	char win[128], aggs[1200];
	const struct options *o = &st->o;

	window_describe(&o->win, win, sizeof win);
	agg_set_describe(&st->r.aggs, aggs, sizeof aggs);
	snprintf(st->options_text, sizeof st->options_text,
		 "-k %s, -t %s, window %s, time %s, aggregates %s", o->key,
		 o->sep ? o->sep : "(blanks)", win, o->time ? o->time : "(processing)",
		 aggs);
}

/* The stage's salt: its name, or the options that shape its results;
 * and the input, so that the stages of N partitions, which share their
 * options or their name, keep apart. */
static uint64_t salt_of(const struct stage *st)
{
	char in[512];
	char *words[4] = { "spsc-reduce", NULL, in, st->o.json ? "json" : "tsv" };

	queue_name(st->o.input, in, sizeof in);
	words[1] = st->o.name ? (char *)st->o.name : (char *)st->options_text;
	return atomid_salt(4, words);
}

static void setup_reduce(struct stage *st)
{
	struct reduce *r = &st->r;
	const struct options *o = &st->o;
	char err[700];

	if (key_spec_parse(&r->key, o->key, o->sep, err, sizeof err) < 0)
		opt_usage_error("-k: %s", err);
	if (o->time) {
		if (key_spec_parse(&r->time, o->time, o->sep, err, sizeof err) < 0)
			opt_usage_error("--time: %s", err);
		r->event_time = 1;
		r->time_text = o->time;
	}
	if (agg_set_parse(&r->aggs, o->aggs, o->naggs, o->sep, o->time != NULL,
			  err, sizeof err) < 0)
		opt_usage_error("%s", err);
	r->win = o->win;
	r->lateness = o->lateness;
	r->lateness_given = o->lateness_set;
	r->json = o->json;
	describe(st);
	r->salt = salt_of(st);
	bad_events_init(&r->bad, o->on_error, r->salt);
	if (reduce_init(r) < 0)
		die(EXIT_FAIL, "out of memory");
}

/* --- endpoints and the state directory ------------------------------- */

static void dlq_default(struct stage *st)
{
	const char *in = st->o.input, *at = strchr(in, '@');

	if (st->o.dlq) {
		snprintf(st->dlq_spec, sizeof st->dlq_spec, "%s", st->o.dlq);
	} else if (endpoint_kind_of(in) == ENDPOINT_QUEUE) {
		snprintf(st->dlq_spec, sizeof st->dlq_spec, "%.*s.dlq%s",
			 at ? (int)(at - in) : (int)strlen(in), in, at ? at : "");
	} else {
		snprintf(st->dlq_spec, sizeof st->dlq_spec, "%s", DEFAULT_DLQ);
		snprintf(st->dlq_note, sizeof st->dlq_note,
			 "no --dlq given: dead letters%s go to %s",
			 st->o.late ? "" : " and late events", DEFAULT_DLQ);
		st->dlq.note = st->dlq_note;
	}
}

/* --print-endpoints: the dead letters if anything can go there (bad
 * events with --on-error dlq, late events without --late). */
static _Noreturn void print_endpoints(const struct stage *st)
{
	const struct options *o = &st->o;

	plan_print("in", o->input, 0);
	plan_print("out", o->output, st->eo_out.producer);
	if (o->on_error == ON_ERROR_DLQ || o->late == NULL)
		plan_print("dlq", st->dlq_spec, 0);
	if (o->late)
		plan_print("late", o->late, 0);
	plan_done();
}

static void open_endpoints(struct stage *st)
{
	const struct options *o = &st->o;
	char in[512];

	/* The results alone name the stage as their producer (spsc(7)). */
	queue_name(o->input, in, sizeof in);
	st->eo_out.producer = atomid_producer(st->r.salt, in);
	dlq_default(st);
	if (plan_requested)
		print_endpoints(st);
	st->eo_in.limit = st->eo_out.limit = st->eo_side.limit = o->max_atom;
	st->eo_in.drain = o->drain;
	st->eo_in.prefetch = PREFETCH;
	st->eo_in.read_ahead = 1;
	if (endpoint_open(&st->in, o->input, 0, &st->eo_in) < 0)
		die(EXIT_FAIL, "%s", st->in.err);
	if (endpoint_open(&st->out, o->output, 1, &st->eo_out) < 0)
		die(EXIT_FAIL, "%s", st->out.err);
	st->dlq.spec = st->dlq_spec;
	st->dlq.eo = &st->eo_side;
	st->late.spec = o->late;
	st->late.eo = &st->eo_side;
	st->late_out = o->late ? &st->late : &st->dlq;
}

/* --state DIR, or the default under $SPSC_HOME for a queue input;
 * 0 when the run keeps no state. */
static int state_dir(struct stage *st)
{
	char home[4096];
	int n;

	if (st->o.state) {
		snprintf(st->state_dir, sizeof st->state_dir, "%s", st->o.state);
		return 1;
	}
	if (!endpoint_is_queue(&st->in))
		return 0;
	if (spsc_home(home, sizeof home, 1) < 0)
		die(EXIT_FAIL, "cannot make the state directory ($SPSC_HOME): %s",
		    strerror(errno));
	n = snprintf(st->state_dir, sizeof st->state_dir, "%s/reduce/%s-%016llx",
		     home, st->o.name ? st->o.name : "spsc-reduce",
		     (unsigned long long)st->r.salt);
	if (n < 0 || (size_t)n >= sizeof st->state_dir)
		die(EXIT_FAIL, "%s: state directory name too long", home);
	return 1;
}

/* --- start and end --------------------------------------------------- */

/*
 * The input of this state was complete, and every window was written.  If
 * it has been reopened since (spsc run does so before each run, so that a
 * cron job takes up new input), the stage goes on past the windows it
 * wrote; if not, it sees the end again at once and has nothing to say.
 */
static void resume(struct stage *st)
{
	char when[64];

	st->r.wm = window_resume(&st->r.win, st->r.maxt);
	if (st->r.wm == ATOM_TIME_NONE) {
		log_info("%s: the input was complete: atoms applied then are skipped, new events start new results (remove %s to start a new job)",
			 st->ck.path, st->state_dir);
		return;
	}
	evtime_format(st->r.wm, when, sizeof when);
	log_info("%s: the input was complete up to %s: later events start new windows, earlier ones are late (remove %s to start a new job)",
		 st->ck.path, when, st->state_dir);
}

static void open_state(struct stage *st)
{
	char err[1200];
	int rc;

	if (!state_dir(st))
		return;
	st->durable = 1;
	if (ckpt_open(&st->ck, st->state_dir, st->options_text, err, sizeof err) < 0)
		die(EXIT_FAIL, "%s", err);
	rc = ckpt_load(&st->ck, &st->r, err, sizeof err);
	if (rc < 0)
		die(EXIT_FAIL, "%s", err);
	if (rc == 0)
		return;
	log_debug("%s: %zu keys, %zu open windows, %zu atoms applied, %zu outputs to write again",
		  st->ck.path, st->r.state.ngroups, st->r.state.nwins,
		  st->r.applied.len, st->r.outbox.n);
	if (st->r.wm == ATOM_TIME_END)
		resume(st);
	/* What the last checkpoint had made may not all have been written. */
	if (stage_flush(st) < 0)
		exit(EXIT_FAIL);
}

static void report(const struct stage *st, int status)
{
	const struct reduce *r = &st->r;
	char line[1400];
	int n;

	if (r->late_events) {
		/* The count every run of a job ends with, checkpoints
		 * included: a plain line, as the contract quotes it. */
		n = snprintf(line, sizeof line, "%s: %llu late events (behind the watermark) went to %s\n",
			     log_prog, (unsigned long long)r->late_events,
			     st->late_out->spec);
		if (n > 0)
			(void)fd_write_all(STDERR_FILENO, line,
					   (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	}
	if (r->bad.total)
		log_warn("%llu events could not be used (no key, value or time) and were %s",
			 (unsigned long long)r->bad.total, bad_events_verb(&r->bad));
	log_debug("%llu atoms, %llu events applied, %llu results; %zu keys and %zu windows open, %zu bytes of state; %llu checkpoints of %llu bytes; exit %d",
		  (unsigned long long)r->atoms, (unsigned long long)r->events,
		  (unsigned long long)r->results, r->state.ngroups, r->state.nwins,
		  state_memory(&r->state), (unsigned long long)st->ck.saved,
		  (unsigned long long)st->ck.bytes, status);
}

int main(int argc, char **argv)
{
	static struct stage st;
	int status;

	prog_init(argv[0]);
	parse_options(argc, argv, &st.o);
	setup_reduce(&st);
	if (stop_on_signals() < 0)
		log_warn("cannot catch SIGTERM: %s", strerror(errno));
	open_endpoints(&st);
	open_state(&st);
	if (!st.durable) {
		st.r.spill = stage_flush;
		st.r.spill_arg = &st;
	}
	status = stage_run(&st);
	report(&st, status);
	if (endpoint_close(&st.out) < 0) {
		log_error("%s", st.out.err);
		status = EXIT_FAIL;
	}
	if (lazy_output_close(&st.dlq) < 0 || lazy_output_close(&st.late) < 0)
		status = EXIT_FAIL;
	if (endpoint_close(&st.in) < 0)	/* its last acks: they come again */
		log_warn("%s", st.in.err);
	if (st.durable)
		ckpt_close(&st.ck);
	if (status == EXIT_OK && st.r.bad.total && st.o.on_error == ON_ERROR_DLQ)
		status = EXIT_DEAD;
	reduce_free(&st.r);
	free(st.pending);
	return status;
}
