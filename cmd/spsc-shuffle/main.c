/*
 * spsc-shuffle: routes each event by its key to one of N outputs, so that
 * every event with a given key reaches the same downstream process.  See
 * spsc-shuffle(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomid.h"
#include "log.h"
#include "opt.h"
#include "partition.h"
#include "plan.h"
#include "prog.h"
#include "shuffle.h"
#include "stop.h"

#define EXIT_DEAD 3	/* events were dead-lettered */
#define PREFETCH 32	/* atoms a GET may bring: fewer round trips */

struct options {
	const char *input, *output, *dlq, *key, *sep, *name;
	long partitions;
	enum route_mode mode;
	enum on_error on_error;
	int drain;
	size_t max_atom;
};

enum { OPT_BROADCAST = 256, OPT_SPREAD, OPT_ON_ERROR, OPT_DLQ, OPT_NAME,
       OPT_DRAIN, OPT_MAX_ATOM, OPT_PRINT_ENDPOINTS };

static const char usage[] =
	"Usage: spsc-shuffle -o OUTPUT -p N (-k KEY [-t SEP] | --broadcast | --round-robin)\n"
	"                    [OPTIONS]\n"
	"Route each event by its key to one of N outputs: every event with the\n"
	"same key goes to the same output, on every host and version.\n"
	"\n"
	"Options:\n"
	"  -i, --input ENDPOINT  read atoms from ENDPOINT: '-' (stdin, the default),\n"
	"                        a file of frames (a path with a '/') or a queue\n"
	"                        (QUEUE or QUEUE@URL)\n"
	"  -o, --output OUTPUT   QUEUE[@URL]: write queues QUEUE.0 .. QUEUE.N-1;\n"
	"                        a path with %d (parts/%d.atoms, FIFOs too):\n"
	"                        write the files with %d replaced by 0 .. N-1\n"
	"  -p, --partitions N    how many outputs (1 to 4096)\n"
	"  -k, --key KEY         field N (from 1) or .json.path, as in spsc(7)\n"
	"  -t, --separator SEP   fields are split at SEP (default: runs of blanks)\n"
	"      --broadcast       every event to every output\n"
	"      --round-robin     whole atoms, spread over the outputs by atom id\n"
	"      --on-error MODE   an event without a usable key: dlq (the default:\n"
	"                        written to the dead-letter output, counted, and\n"
	"                        exit status 3), skip (counted) or fail (exit 1)\n"
	"      --dlq ENDPOINT    where dead-lettered events go (default: QUEUE.dlq,\n"
	"                        or the path with %d replaced by dlq)\n"
	"      --name NAME       salt for output atom ids (default: from the key,\n"
	"                        the mode and N)\n"
	"      --drain           exit when the input queue has nothing ready and\n"
	"                        nothing in flight (pipes and files end by themselves)\n"
	"      --max-atom SIZE   refuse frames larger than SIZE (default 64M)\n"
	"      --print-endpoints  check the options, print the endpoints\n"
	"                        (spsc-dag(5)) and exit\n"
	"  -h, --help            show this help and exit\n"
	"  -V, --version         show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 failure, 2 usage error, 3 events were dead-lettered.\n";

static const struct option long_options[] = {
	{ "input", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'o' },
	{ "partitions", required_argument, NULL, 'p' },
	{ "key", required_argument, NULL, 'k' },
	{ "separator", required_argument, NULL, 't' },
	{ "broadcast", no_argument, NULL, OPT_BROADCAST },
	{ "round-robin", no_argument, NULL, OPT_SPREAD },
	{ "on-error", required_argument, NULL, OPT_ON_ERROR },
	{ "dlq", required_argument, NULL, OPT_DLQ },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "drain", no_argument, NULL, OPT_DRAIN },
	{ "max-atom", required_argument, NULL, OPT_MAX_ATOM },
	{ "print-endpoints", no_argument, NULL, OPT_PRINT_ENDPOINTS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void set_mode(struct options *o, enum route_mode m)
{
	if (o->mode != ROUTE_KEY && o->mode != m)
		opt_usage_error("--broadcast and --round-robin exclude each other");
	o->mode = m;
}

static void check_options(const struct options *o)
{
	if (o->output == NULL)
		opt_usage_error("missing -o OUTPUT (a queue, or a path with %%d)");
	if (o->partitions == 0)
		opt_usage_error("missing -p N (how many outputs)");
	if (o->mode == ROUTE_KEY && o->key == NULL)
		opt_usage_error("missing -k KEY (or --broadcast, or --round-robin)");
	if (o->mode != ROUTE_KEY && (o->key || o->sep))
		opt_usage_error("-k and -t route by key; --%s takes neither",
				o->mode == ROUTE_BROADCAST ? "broadcast" : "round-robin");
}

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	memset(o, 0, sizeof *o);
	o->input = "-";
	o->max_atom = ATOM_DEFAULT_LIMIT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:o:p:k:t:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'i': o->input = optarg; break;
		case 'o': o->output = optarg; break;
		case 'p': o->partitions = opt_long("-p", optarg, 1, PARTITION_MAX); break;
		case 'k': o->key = optarg; break;
		case 't': o->sep = optarg; break;
		case OPT_BROADCAST: set_mode(o, ROUTE_BROADCAST); break;
		case OPT_SPREAD: set_mode(o, ROUTE_SPREAD); break;
		case OPT_ON_ERROR: o->on_error = opt_on_error(optarg); break;
		case OPT_DLQ: o->dlq = optarg; break;
		case OPT_NAME: o->name = optarg; break;
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
	if (optind < argc)
		opt_usage_error("unexpected argument '%s'", argv[optind]);
	check_options(o);
}

/*
 * The spec of output p ("dlq" for the dead letters): QUEUE[@URL] becomes
 * QUEUE.p[@URL]; a path has its one %d replaced.
 */
static void output_spec(const char *out, const char *part, char *buf, size_t len)
{
	const char *pct = strstr(out, "%d"), *at = strchr(out, '@');
	int n;

	if (pct)
		n = snprintf(buf, len, "%.*s%s%s", (int)(pct - out), out, part, pct + 2);
	else
		n = snprintf(buf, len, "%.*s.%s%s", at ? (int)(at - out) : (int)strlen(out),
			     out, part, at ? at : "");
	if (n < 0 || (size_t)n >= len)
		opt_usage_error("-o: '%s' is too long", out);
}

static void check_output(const char *out)
{
	const char *pct = strstr(out, "%d");

	if (pct) {
		if (strchr(pct + 2, '%') || memchr(out, '%', (size_t)(pct - out)))
			opt_usage_error("-o: '%s': one %%d and no other %%", out);
		if (strchr(out, '/') == NULL)
			opt_usage_error("-o: '%s' has no '/'; write ./%s for files here", out, out);
		return;
	}
	if (strchr(out, '%'))
		opt_usage_error("-o: '%s': a path takes %%d, not another %% form", out);
	if (endpoint_kind_of(out) != ENDPOINT_QUEUE)
		opt_usage_error("-o: '%s' is not a queue; N outputs need a queue name, or a path with %%d", out);
}

static uint64_t salt_of(const struct options *o)
{
	char n[24];
	const char *words[] = {
		"spsc-shuffle",
		o->mode == ROUTE_KEY ? "key" : o->mode == ROUTE_BROADCAST ? "broadcast" : "round-robin",
		o->key ? o->key : "", o->sep ? o->sep : "", n,
	};

	if (o->name)
		return atomid_salt(1, (char *const *)&o->name);
	snprintf(n, sizeof n, "%ld", o->partitions);
	return atomid_salt(5, (char *const *)words);
}

/* The spec of partition p. */
static void partition_spec(const struct options *o, uint32_t p, char *buf,
			   size_t len)
{
	char part[16];

	snprintf(part, sizeof part, "%u", p);
	output_spec(o->output, part, buf, len);
}

/* --print-endpoints: the input, each partition, and the dead letters if
 * events can go there. */
static _Noreturn void print_endpoints(const struct shuffle *s,
				      const struct options *o,
				      const char *dlq_spec, uint64_t producer)
{
	char spec[1024];

	plan_print("in", o->input, 0);
	for (uint32_t p = 0; p < s->n; p++) {
		partition_spec(o, p, spec, sizeof spec);
		plan_print("out", spec, producer);
	}
	if (o->on_error == ON_ERROR_DLQ)
		plan_print("dlq", dlq_spec, 0);
	plan_done();
}

static int open_outputs(struct shuffle *s, const struct options *o,
			const struct endpoint_opts *eo)
{
	char spec[1024];

	s->out = calloc(s->n, sizeof *s->out);
	if (s->out == NULL)
		return -1;
	for (uint32_t p = 0; p < s->n; p++) {
		partition_spec(o, p, spec, sizeof spec);
		if (endpoint_open(&s->out[p], spec, 1, eo) < 0) {
			snprintf(s->err, sizeof s->err, "%s", s->out[p].err);
			s->n = p;	/* what close_outputs must close */
			return -1;
		}
	}
	return 0;
}

/* The input is complete: so is every partition, even one that got no
 * event at all, whose consumer must still learn that it may end. */
static int finish_outputs(struct shuffle *s)
{
	for (uint32_t p = 0; p < s->n; p++)
		if (endpoint_finish(&s->out[p]) < 0) {
			log_error("%s", s->out[p].err);
			return -1;
		}
	return 0;
}

static void close_outputs(struct shuffle *s)
{
	for (uint32_t p = 0; p < s->n; p++)
		if (endpoint_close(&s->out[p]) < 0)
			log_error("%s", s->out[p].err);
	free(s->out);
	lazy_output_close(&s->dlq);
}

static int shuffle_input(struct shuffle *s, struct endpoint *in)
{
	struct atom a;
	int rc, status = EXIT_OK;

	atom_init(&a);
	while ((rc = endpoint_read(in, &a)) > 0) {
		if (shuffle_atom(s, &a, endpoint_watermark(in)) < 0) {
			log_error("%s", s->err);
			/* Back at once: its outputs so far are idempotent. */
			(void)endpoint_nack(in, &a, 0);
			status = EXIT_FAIL;
			break;
		}
		if (endpoint_ack(in, &a) < 0) {
			log_error("%s", in->err);
			status = EXIT_FAIL;
			break;
		}
	}
	if (rc < 0) {
		log_error("%s", in->err);
		status = EXIT_FAIL;
	}
	atom_free(&a);
	return status;
}

int main(int argc, char **argv)
{
	static struct shuffle s;
	struct endpoint_opts eo = { 0 };
	struct endpoint in;
	struct options o;
	char err[600], dlq_spec[1024];
	uint64_t producer;
	int status;

	prog_init(argv[0]);
	parse_options(argc, argv, &o);
	check_output(o.output);
	s.mode = o.mode;
	s.salt = salt_of(&o);
	bad_events_init(&s.bad, o.on_error, s.salt);
	if (o.key && key_spec_parse(&s.key, o.key, o.sep, err, sizeof err) < 0)
		opt_usage_error("%s", err);
	if (o.dlq)
		snprintf(dlq_spec, sizeof dlq_spec, "%s", o.dlq);
	else
		output_spec(o.output, "dlq", dlq_spec, sizeof dlq_spec);
	eo.limit = o.max_atom;
	eo.drain = o.drain;
	eo.prefetch = PREFETCH;
	eo.read_ahead = 1;
	if (shuffle_init(&s, (uint32_t)o.partitions) < 0)
		die(EXIT_FAIL, "out of memory");
	/* of the partitions, not the dead letters */
	producer = atomid_producer(s.salt, o.input);
	if (plan_requested)
		print_endpoints(&s, &o, dlq_spec, producer);
	if (stop_on_signals() < 0)
		log_warn("cannot catch SIGTERM: %s", strerror(errno));
	if (endpoint_open(&in, o.input, 0, &eo) < 0)
		die(EXIT_FAIL, "%s", in.err);
	eo.producer = producer;
	eo.late_is_redundant = endpoint_is_queue(&in);
	if (open_outputs(&s, &o, &eo) < 0)
		die(EXIT_FAIL, "%s", s.err[0] ? s.err : "out of memory");
	eo.producer = 0;
	s.dlq.spec = dlq_spec;
	s.dlq.eo = &eo;
	status = shuffle_input(&s, &in);
	if (status == EXIT_OK && !stop_requested && finish_outputs(&s) < 0)
		status = EXIT_FAIL;
	close_outputs(&s);
	if (endpoint_close(&in) < 0)	/* its last acks: they come again */
		log_warn("%s", in.err);
	if (s.bad.total)
		log_warn("%llu of %llu events had no usable key and were %s",
			 (unsigned long long)s.bad.total, (unsigned long long)s.events,
			 bad_events_verb(&s.bad));
	if (status == EXIT_OK && s.bad.total && o.on_error == ON_ERROR_DLQ)
		status = EXIT_DEAD;
	key_spec_free(&s.key);
	shuffle_free(&s);
	return status;
}
