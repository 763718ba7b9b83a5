/*
 * spsc: the launcher.  One DAG file (spsc-dag(5)) run in a terminal,
 * under cron or under systemd; checked, drawn, watched and stopped.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dag.h"
#include "graph.h"
#include "log.h"
#include "opt.h"
#include "prog.h"
#include "spsc.h"

static const char usage[] =
	"Usage: spsc COMMAND [OPTIONS] DAG\n"
	"Run a DAG of spsc stages (spsc-dag(5)): check it, run it, watch it.\n"
	"\n"
	"Commands:\n"
	"  check DAG              report every error as FILE:LINE:COL\n"
	"  run [--once] DAG       start the coordinator and the stages, restart\n"
	"                         what fails, stop in data order on SIGTERM\n"
	"  status DAG [STAGE...]  stages beside their queues (--json, --watch)\n"
	"  graph DAG              DOT (or --format text), --status for depths\n"
	"  stop DAG               stop a running DAG in data order\n"
	"  systemd DAG DIR        write systemd units for the DAG into DIR\n"
	"\n"
	"Options:\n"
	"      --once             run: ingest what is new, run to completion, exit\n"
	"      --stop-timeout DUR run, stop: how long a stage may take to stop\n"
	"                         before it is killed (default 30s)\n"
	"      --json             status: as JSON\n"
	"      --watch[=DUR]      status: refresh every DUR (default 1s)\n"
	"      --format FMT       graph: dot (default) or text\n"
	"      --status           graph: label queues with their live depths\n"
	"      --timer CALENDAR   systemd: a timer running 'spsc run --once'\n"
	"      --remove           systemd: remove the files written before\n"
	"      --host NAME        systemd: only the stages placed on host NAME\n"
	"  -q, --quiet            check: only the exit status\n"
	"      --help             show this help and exit\n"
	"      --version          show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 failure (or errors in the DAG), 2 usage error,\n"
	"3 run --once: atoms were dead-lettered, 4 run: the DAG is already\n"
	"running.  See spsc(1).\n";

enum {
	OPT_ONCE = 256, OPT_STOP_TIMEOUT, OPT_JSON, OPT_WATCH, OPT_FORMAT,
	OPT_STATUS, OPT_TIMER, OPT_REMOVE, OPT_HOST, OPT_HELP, OPT_VERSION,
};

static const struct option long_options[] = {
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "watch", optional_argument, NULL, OPT_WATCH },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "timer", required_argument, NULL, OPT_TIMER },
	{ "remove", no_argument, NULL, OPT_REMOVE },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* Which command takes which option: any other is a usage error, not
 * silently ignored. */
static const struct {
	const char *cmd;
	const char *opts;	/* the options' long names, space-separated */
} takes[] = {
	{ "check", "quiet" },
	{ "run", "once stop-timeout" },
	{ "status", "json watch" },
	{ "graph", "format status" },
	{ "stop", "stop-timeout" },
	{ "systemd", "timer remove stop-timeout host" },
};

static void check_takes(const char *cmd, const char *opt)
{
	char word[32];

	snprintf(word, sizeof word, " %s ", opt);
	for (size_t i = 0; i < sizeof takes / sizeof takes[0]; i++) {
		char list[64];

		if (strcmp(takes[i].cmd, cmd) != 0)
			continue;
		snprintf(list, sizeof list, " %s ", takes[i].opts);
		if (strstr(list, word) == NULL)
			opt_usage_error("%s does not take --%s", cmd, opt);
		return;
	}
	opt_usage_error("'%s' is not a command: check, run, status, graph, stop or systemd",
			cmd);
}

static void parse_options(int argc, char **argv, const char *cmd,
			  struct spsc_opts *o)
{
	int c, index;

	/* options may come before or after the DAG: getopt permutes */
	while ((c = getopt_long(argc, argv, "q", long_options, &index)) != -1) {
		if (c == 'q')
			check_takes(cmd, "quiet");
		else if (c >= OPT_ONCE && c < OPT_HELP)
			check_takes(cmd, long_options[index].name);
		switch (c) {
		case OPT_ONCE: o->once = 1; break;
		case OPT_STOP_TIMEOUT:
			o->stop_timeout = opt_duration("--stop-timeout", optarg);
			break;
		case OPT_JSON: o->json = 1; break;
		case OPT_WATCH:
			o->watch = optarg ? opt_duration("--watch", optarg)
					  : 1000000000LL;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "dot") && strcmp(optarg, "text"))
				opt_usage_error("--format: '%s' is neither dot nor text",
						optarg);
			o->text = strcmp(optarg, "text") == 0;
			break;
		case OPT_STATUS: o->status = 1; break;
		case OPT_TIMER: o->timer = optarg; break;
		case OPT_REMOVE: o->remove = 1; break;
		case OPT_HOST: o->host = optarg; break;
		case 'q': o->quiet = 1; break;
		case OPT_HELP: opt_help(usage);
		case OPT_VERSION: opt_version();
		default: opt_usage_error("unknown option or missing argument");
		}
	}
}

static int cmd_check(const struct spsc_opts *o, const char *path)
{
	struct dag d;
	struct diag dg;
	int rc = spsc_load(&d, &dg, path, o->quiet);

	if (!o->quiet && rc == 0)
		fprintf(stderr, "%s: ok: %zu stages, %zu queues%s\n", path,
			d.nstages, d.nqueues,
			dg.warnings ? " (see the warnings)" : "");
	dag_free(&d);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

static int cmd_graph(const struct spsc_opts *o, const char *path)
{
	struct dag d;
	struct diag dg;
	struct queue_depth *depth = NULL;

	if (spsc_load(&d, &dg, path, 0) < 0) {
		dag_free(&d);
		return EXIT_FAIL;
	}
	if (o->status)
		depth = status_depths(&d);
	if (o->text)
		graph_text(stdout, &d, depth);
	else
		graph_dot(stdout, &d, depth);
	free(depth);
	dag_free(&d);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

int main(int argc, char **argv)
{
	struct spsc_opts o = { .stop_timeout = 30 * 1000000000LL };
	const char *cmd;

	prog_init(argv[0]);
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		opt_help(usage);
	if (argc > 1 && strcmp(argv[1], "--version") == 0)
		opt_version();
	if (argc < 2)
		opt_usage_error("no COMMAND given");
	cmd = argv[1];
	optind = 2;
	parse_options(argc, argv, cmd, &o);
	if (strcmp(cmd, "systemd") == 0) {
		if (argc - optind != 2)
			opt_usage_error("systemd takes DAG DIR");
		return systemd_main(&o, argv[optind], argv[optind + 1]);
	}
	if (strcmp(cmd, "status") == 0 && argc - optind >= 1)
		return status_main(&o, argv[optind], argv + optind + 1,
				   argc - optind - 1);
	if (argc - optind != 1)
		opt_usage_error("%s takes one DAG file", cmd);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(&o, argv[optind]);
	if (strcmp(cmd, "graph") == 0)
		return cmd_graph(&o, argv[optind]);
	if (strcmp(cmd, "run") == 0)
		return run_main(&o, argv[optind]);
	if (strcmp(cmd, "stop") == 0)
		return stop_main(&o, argv[optind]);
	opt_usage_error("'%s' is not a command: check, run, status, graph, stop or systemd",
			cmd);
}
