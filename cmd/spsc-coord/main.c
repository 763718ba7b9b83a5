/*
 * spsc-coord: durable queues with visibility timeouts over ZeroMQ.
 *
 *   spsc-coord serve [OPTIONS]          run the coordinator
 *   spsc-coord status [--json] [--watch[=DUR]] [QUEUE...]
 *   spsc-coord create QUEUE [OPTIONS]   create, or change settings
 *   spsc-coord delete|purge|redrive|seal|reopen QUEUE
 *   spsc-coord peek QUEUE [N]           print events without consuming
 *   spsc-coord put QUEUE                store framed atoms from stdin
 *   spsc-coord keygen PREFIX            write a CURVE key pair
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "coord.h"
#include "curve.h"
#include "fsck.h"
#include "home.h"
#include "log.h"
#include "opt.h"
#include "prog.h"
#include "unixconn.h"
#include "units.h"

static const char usage[] =
	"Usage: spsc-coord COMMAND [OPTIONS] [ARGS]\n"
	"Durable queues with visibility timeouts, over ZeroMQ.\n"
	"\n"
	"Commands:\n"
	"  serve                  run the coordinator (see options below)\n"
	"  status [QUEUE...]      one row per queue: ready, in flight, dead letters,\n"
	"                         totals, consumers, oldest age, rates\n"
	"  create QUEUE           create a queue, or change its settings\n"
	"  delete QUEUE           delete a queue and its atoms\n"
	"  purge QUEUE            drop every atom of a queue\n"
	"  redrive QUEUE          move QUEUE.dlq back into QUEUE\n"
	"  seal QUEUE             nothing more comes in: complete once empty\n"
	"  reopen QUEUE           forget the seal and the producers' \"done\"\n"
	"  peek QUEUE [N]         print the events of the first N ready atoms\n"
	"  put QUEUE              store the framed atoms read from stdin\n"
	"  keygen PREFIX          write a CURVE key pair: PREFIX.key (secret) and\n"
	"                         PREFIX.pub\n"
	"  fsck [--repair]        check the log of a stopped coordinator; with\n"
	"                         --repair, go on without its damaged records\n"
	"\n"
	"Options for serve:\n"
	"      --home DIR             state directory (default: $SPSC_HOME)\n"
	"      --bind URL             also listen on URL, e.g. tcp://127.0.0.1:7878\n"
	"                             (repeatable; loopback, ipc://PATH or unix://PATH\n"
	"                             only without --allow-remote or --curve)\n"
	"      --allow-remote         allow --bind on any address, unauthenticated\n"
	"      --curve KEYFILE        CURVE on every address but ipc, with the secret\n"
	"                             key in KEYFILE (needs --clients)\n"
	"      --clients DIR          with --curve: admit the public keys in DIR/*.pub\n"
	"      --fsync POLICY         always, interval[=MS] (default interval=1000)\n"
	"                             or never\n"
	"      --dedup-window DUR     remember acked ids this long (default 10m)\n"
	"      --segment-size SIZE    log segment size (default 64M)\n"
	"      --max-atom SIZE        largest frame accepted (default 64M)\n"
	"      --max-queues N         queues clients may make (default 10000)\n"
	"      --max-waiters N        GETs waiting for atoms at once (default 10000)\n"
	"Queue settings (serve: defaults for new queues; create: this queue):\n"
	"      --visibility DUR       lease of a GET (default 30s)\n"
	"      --max-receives N       deliveries before NAME.dlq (default 5)\n"
	"      --max-depth N          atoms before PUT answers full (default 0: none)\n"
	"      --max-bytes SIZE       bytes before PUT answers full (default 0: none)\n"
	"      --retention DUR        drop atoms older than this (default 0: never)\n"
	"      --producers N          create: producers that must finish before the\n"
	"                             queue is complete (default 1)\n"
	"Options for clients:\n"
	"  -c, --coord URL            coordinator (default: $SPSC_COORD, else\n"
	"                             ipc://$SPSC_HOME/coord.sock); nats://HOST:PORT\n"
	"                             for status and create of queues on NATS\n"
	"      --json                 status as JSON\n"
	"      --watch[=DUR]          status: refresh every DUR (default 1s)\n"
	"      --help                 show this help and exit\n"
	"      --version              show the version and exit\n"
	"Clients use CURVE on tcp when SPSC_CURVE_SERVERKEY (the coordinator's\n"
	"public key) and SPSC_CURVE_KEY (their secret key file) are set.\n"
	"\n"
	"Exit status: 0 ok, 1 failure, 2 usage error, 3 the log is damaged\n"
	"(serve will not start, fsck found damage): see spsc-coord fsck.\n";

enum {
	OPT_HOME = 256, OPT_BIND, OPT_ALLOW_REMOTE, OPT_FSYNC, OPT_DEDUP,
	OPT_CURVE, OPT_CLIENTS,
	OPT_SEGMENT, OPT_MAX_ATOM, OPT_VIS, OPT_MAX_RECV, OPT_MAX_DEPTH,
	OPT_MAX_BYTES, OPT_RETENTION, OPT_JSON, OPT_WATCH, OPT_HELP, OPT_VERSION,
	OPT_REPAIR, OPT_MAX_QUEUES, OPT_MAX_WAITERS, OPT_PRODUCERS
};

static const struct option longopts[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE },
	{ "curve", required_argument, NULL, OPT_CURVE },
	{ "clients", required_argument, NULL, OPT_CLIENTS },
	{ "fsync", required_argument, NULL, OPT_FSYNC },
	{ "dedup-window", required_argument, NULL, OPT_DEDUP },
	{ "segment-size", required_argument, NULL, OPT_SEGMENT },
	{ "max-atom", required_argument, NULL, OPT_MAX_ATOM },
	{ "max-queues", required_argument, NULL, OPT_MAX_QUEUES },
	{ "max-waiters", required_argument, NULL, OPT_MAX_WAITERS },
	{ "visibility", required_argument, NULL, OPT_VIS },
	{ "max-receives", required_argument, NULL, OPT_MAX_RECV },
	{ "max-depth", required_argument, NULL, OPT_MAX_DEPTH },
	{ "max-bytes", required_argument, NULL, OPT_MAX_BYTES },
	{ "retention", required_argument, NULL, OPT_RETENTION },
	{ "producers", required_argument, NULL, OPT_PRODUCERS },
	{ "coord", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "watch", optional_argument, NULL, OPT_WATCH },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "repair", no_argument, NULL, OPT_REPAIR },
	{ NULL, 0, NULL, 0 }
};

static void parse_fsync(struct serve_opts *o, const char *arg)
{
	if (strcmp(arg, "always") == 0)
		o->fsync = FSYNC_ALWAYS;
	else if (strcmp(arg, "never") == 0)
		o->fsync = FSYNC_NEVER;
	else if (strcmp(arg, "interval") == 0)
		o->fsync = FSYNC_INTERVAL;
	else if (strncmp(arg, "interval=", 9) == 0) {
		o->fsync = FSYNC_INTERVAL;
		o->fsync_interval_ns = opt_long("--fsync", arg + 9, 1, 3600000) * NS_PER_MS;
	} else
		opt_usage_error("--fsync: '%s' is not always, interval[=MS] or never", arg);
}

static void warn_open(const char *url)
{
	log_warn("--bind %s: no CURVE here: whoever can reach it can read, change and delete every queue, "
		 "and the traffic is unauthenticated and unencrypted (see --curve)", url);
}

/* The coordinator takes every command from whoever connects.  Who can:
 * to an ipc socket in a directory, whoever its file permissions let in;
 * to loopback TCP, every local user, unless --curve requires keys.
 * Anything else -- other hosts, or an abstract socket (ipc://@NAME), which
 * has no permissions at all -- needs --allow-remote, or --curve where
 * CURVE applies (every address but ipc), and is warned about without. */
static void check_bind(const char *url, const struct serve_opts *o)
{
	const char *host = url + 6;

	if (unixconn_is_url(url)) {
		if (unixconn_path(url)[0] != '/')
			opt_usage_error("--bind: '%s': unix:// takes an absolute path, e.g. unix:///run/spsc/coord.unix",
					url);
		return;
	}
	if (strncmp(url, "ipc://", 6) == 0) {
		if (url[6] != '@')
			return;
		if (!o->allow_remote)
			opt_usage_error("--bind: '%s' is an abstract socket, which every local process can connect to (it has no file permissions); use ipc://PATH, or add --allow-remote",
					url);
		warn_open(url);
		return;
	}
	if (strncmp(url, "tcp://", 6) == 0 &&
	    (strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost:", 10) == 0 ||
	     strncmp(host, "[::1]:", 6) == 0))
		return;
	if (o->curve_key)
		return;
	if (!o->allow_remote && strncmp(url, "tcp://", 6) != 0)
		opt_usage_error("--bind: '%s': use tcp://127.0.0.1:PORT, ipc://PATH or unix://PATH", url);
	if (!o->allow_remote)
		opt_usage_error("--bind: '%s' is not a loopback address; add --allow-remote to listen on it, or --curve and --clients to require keys",
				url);
	warn_open(url);
}

/* The state directory holds the socket, the log and the queue table:
 * whoever can enter it may reach them, and whoever can write to it may
 * replace them.  spsc_home makes it 0700; one made otherwise must be as
 * private. */
static void check_home(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		die(EXIT_FAIL, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die(EXIT_FAIL, "%s: the state directory is not a directory", dir);
	if (st.st_mode & 077)
		die(EXIT_FAIL, "%s: the state directory has mode %04o, open to group or others; run 'chmod 700 %s'",
		    dir, (unsigned)(st.st_mode & 07777), dir);
}

static void env_defaults(struct queue_conf *d)
{
	const char *v;

	if ((v = getenv("SPSC_VISIBILITY")) != NULL)
		d->visibility_ns = opt_duration("SPSC_VISIBILITY", v);
	if ((v = getenv("SPSC_MAX_RECEIVES")) != NULL)
		d->max_receives = (uint32_t)opt_long("SPSC_MAX_RECEIVES", v, 1, 1000000);
	if ((v = getenv("SPSC_MAX_DEPTH")) != NULL)
		d->max_depth = (uint64_t)opt_long("SPSC_MAX_DEPTH", v, 0, (long)1 << 62);
}

struct cli {
	struct serve_opts serve;
	struct admin_opts admin;
	int repair;		/* fsck --repair */
};

static void parse_option(struct cli *c, int ch, const char *arg)
{
	struct serve_opts *o = &c->serve;
	struct queue_conf *d = &o->defaults;

	switch (ch) {
	case OPT_HOME: snprintf(o->home, sizeof o->home, "%s", arg); break;
	case OPT_BIND:
		if (o->nbinds == MAX_BINDS)
			opt_usage_error("--bind: at most %d addresses", MAX_BINDS);
		o->binds[o->nbinds++] = arg;
		break;
	case OPT_ALLOW_REMOTE: o->allow_remote = 1; break;
	case OPT_CURVE: o->curve_key = arg; break;
	case OPT_CLIENTS: o->curve_clients = arg; break;
	case OPT_FSYNC: parse_fsync(o, arg); break;
	case OPT_DEDUP: d->dedup_window_ns = opt_duration("--dedup-window", arg); break;
	case OPT_SEGMENT: o->segment_max = opt_size("--segment-size", arg, 4096, (uint64_t)1 << 32); break;
	case OPT_MAX_ATOM: o->limit = opt_size("--max-atom", arg, 64, ATOM_LIMIT_MAX); break;
	case OPT_MAX_QUEUES: o->max_queues = (size_t)opt_long("--max-queues", arg, 1, 10000000); break;
	case OPT_MAX_WAITERS: o->max_waiters = (size_t)opt_long("--max-waiters", arg, 1, 10000000); break;
	case OPT_VIS:
		d->visibility_ns = opt_duration("--visibility", arg);
		if (d->visibility_ns < NS_PER_MS || d->visibility_ns / NS_PER_MS > UINT32_MAX)
			opt_usage_error("--visibility: '%s' is out of range (1ms to 49d)", arg);
		c->admin.set_vis = 1;
		break;
	case OPT_MAX_RECV: d->max_receives = (uint32_t)opt_long("--max-receives", arg, 1, 1000000); c->admin.set_recv = 1; break;
	case OPT_MAX_DEPTH: d->max_depth = (uint64_t)opt_long("--max-depth", arg, 0, (long)1 << 62); c->admin.set_depth = 1; break;
	case OPT_MAX_BYTES: d->max_bytes = opt_size("--max-bytes", arg, 0, UINT64_MAX); c->admin.set_bytes = 1; break;
	case OPT_RETENTION: d->retention_ns = opt_duration("--retention", arg); c->admin.set_retention = 1; break;
	case OPT_PRODUCERS: c->admin.producers = opt_long("--producers", arg, 0, 1024); break;
	case 'c': c->admin.url = arg; break;
	case OPT_JSON: c->admin.json = 1; break;
	case OPT_WATCH: c->admin.watch_ns = arg ? opt_duration("--watch", arg) : NS_PER_SEC; break;
	case OPT_HELP: opt_help(usage);
	case OPT_VERSION: opt_version();
	case OPT_REPAIR: c->repair = 1; break;
	default: opt_usage_error("unknown option");
	}
}

static int run_serve(struct cli *c)
{
	struct serve_opts *o = &c->serve;
	int rc;

	if (!o->curve_key != !o->curve_clients)
		opt_usage_error("--curve and --clients go together: the secret key file, and the directory of client public keys");
	for (int i = 0; i < o->nbinds; i++)
		check_bind(o->binds[i], o);
	if (o->home[0] == '\0' && spsc_home(o->home, sizeof o->home, 1) < 0)
		die(EXIT_FAIL, "cannot make the state directory: %m (set SPSC_HOME)");
	if (strlen(o->home) > 90)
		die(EXIT_FAIL, "%s: state directory path too long for an ipc socket (at most 90 bytes)",
		    o->home);
	check_home(o->home);
	if (o->curve_key && curve_server_check(o->curve_key, o->curve_clients) < 0)
		return EXIT_FAIL;
	rc = serve(o);
	return rc == 0 ? EXIT_OK : rc == -EXIT_LOG_DAMAGED ? EXIT_LOG_DAMAGED : EXIT_FAIL;
}

static int run_fsck(struct cli *c, int extra)
{
	char *home = c->serve.home;

	if (extra)
		opt_usage_error("fsck takes no arguments");
	if (home[0] == '\0' && spsc_home(home, sizeof c->serve.home, 0) < 0)
		die(EXIT_FAIL, "no state directory: %m (set SPSC_HOME or --home)");
	return fsck_main(home, c->repair);
}

int main(int argc, char **argv)
{
	struct cli c = {
		.admin = { .producers = -1 },
		.serve = {
			.fsync = FSYNC_INTERVAL,
			.fsync_interval_ns = 1000 * NS_PER_MS,
			.segment_max = (uint64_t)64 << 20,
			.limit = ATOM_DEFAULT_LIMIT,
			.max_queues = MAX_QUEUES_DEFAULT,
			.max_waiters = MAX_WAITERS_DEFAULT,
			.defaults = {
				.visibility_ns = 30 * NS_PER_SEC,
				.max_receives = 5,
				.dedup_window_ns = 600 * NS_PER_SEC,
			},
		},
	};
	const char *cmd;
	int ch, base;

	prog_init(argv[0]);
	env_defaults(&c.serve.defaults);
	while ((ch = getopt_long(argc, argv, "+c:", longopts, NULL)) != -1) {
		if (ch == '?')
			opt_usage_error("unknown option");
		parse_option(&c, ch, optarg);
	}
	if (optind >= argc)
		opt_usage_error("missing command (serve, status, create, delete, purge, redrive, seal, reopen, peek, put, keygen, fsck)");
	/* Options may also follow the command ("spsc-coord status --json",
	 * "create q --visibility 5s"): parse the rest as its own argv, whose
	 * argv[0] is the command; optind = 0 restarts glibc's getopt. */
	base = optind;
	cmd = argv[base];
	optind = 0;
	while ((ch = getopt_long(argc - base, argv + base, "c:", longopts, NULL)) != -1) {
		if (ch == '?')
			opt_usage_error("unknown option");
		parse_option(&c, ch, optarg);
	}
	base += optind;
	if (strcmp(cmd, "fsck") == 0)
		return run_fsck(&c, base < argc);
	if (c.repair)
		opt_usage_error("--repair is an option of fsck, not of %s", cmd);
	if (strcmp(cmd, "keygen") == 0) {
		if (argc - base != 1 || argv[base][0] == '\0')
			opt_usage_error("keygen: expected one PREFIX (it writes PREFIX.key and PREFIX.pub)");
		return curve_keygen(argv[base]) == 0 ? EXIT_OK : EXIT_FAIL;
	}
	if (strcmp(cmd, "serve") == 0) {
		if (base < argc)
			opt_usage_error("serve takes no arguments");
		return run_serve(&c);
	}
	c.admin.defaults = c.serve.defaults;
	return admin_main(&c.admin, cmd, argc - base, argv + base);
}
