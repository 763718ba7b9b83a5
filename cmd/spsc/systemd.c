/*
 * systemd: spsc systemd [--timer CALENDAR] [--remove] DAG DIR.
 *
 * Writes systemd units that run the DAG the way `spsc run` does, into
 * DIR, for `systemctl link` (or DIR may be a unit directory itself):
 *
 *   spsc-NAME.target            Wants= every unit below
 *   spsc-NAME-coord.service     the private coordinator, Type=notify
 *   spsc-NAME-STAGE.service     a stage of one replica, or
 *   spsc-NAME-STAGE@.service    a template, one instance per replica
 *
 * Data order is unit order: a stage is After= every stage downstream of
 * it (that reads a queue it writes) and After= the coordinator, so that
 * systemd starts consumers before their producers and, stopping in the
 * reverse order, stops sources first and the coordinator last: what is
 * in flight drains downstream instead of being redelivered.
 *
 * With --timer, a oneshot spsc-NAME-once.service (spsc run --once) and
 * its spsc-NAME-once.timer instead.
 *
 * With --host H, only the units of the stages that the DAG's host lines
 * place on H: the same file, written on each machine with its own name,
 * deploys the DAG over all of them.  Their queues must be on a backend
 * every machine reaches (a coord line or SPSC_COORD: NATS, or
 * spsc-coord on tcp://), never a private coordinator.
 *
 * DIR/.spsc-NAME.manifest names what was written, so that writing again
 * removes what is no longer written and --remove removes exactly that,
 * never a file written by hand.  Every file is written to a temporary
 * name and renamed; the manifest is a superset of the files present at
 * every moment.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "dag.h"
#include "fdio.h"
#include "log.h"
#include "mem.h"
#include "opt.h"
#include "rundir.h"
#include "spsc.h"
#include "unitname.h"

#define MANIFEST_MAX (1 << 20)

/* A growing string. */
struct sb {
	char *s;
	size_t n, cap;
};

static void sb_put(struct sb *b, const char *s, size_t len)
{
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->n + len + 1)
			cap *= 2;
		if ((b->s = realloc(b->s, cap)) == NULL)
			die(EXIT_FAIL, "out of memory");
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, len);
	b->n += len;
	b->s[b->n] = '\0';
}

static void sb_puts(struct sb *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		die(EXIT_FAIL, "out of memory");
	if ((size_t)n < sizeof small) {
		sb_put(b, small, (size_t)n);
		return;
	}
	{
		char *big = malloc((size_t)n + 1);

		if (big == NULL)
			die(EXIT_FAIL, "out of memory");
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		sb_put(b, big, (size_t)n);
		free(big);
	}
}

/* A list of strings. */
struct list {
	char **v;
	size_t n, cap;
};

static void list_add(struct list *l, const char *s)
{
	*(char **)xpush(&l->v, &l->n, &l->cap, sizeof *l->v) = xstrdup(s);
}

static int list_has(const struct list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* The units to write: file names and their text. */
struct units {
	struct list names;
	struct sb *text;	/* [names.n] */
	size_t tcap;
};

/* A new unit file NAME, begun with the note and the [Unit] section that
 * every unit spsc writes starts with. */
static struct sb *unit_new(struct units *u, const char *name)
{
	size_t n = u->names.n;
	struct sb *b;

	list_add(&u->names, name);
	b = memset(xpush(&u->text, &n, &u->tcap, sizeof *u->text), 0,
		   sizeof *u->text);
	sb_puts(b, "# Written by spsc systemd: edits are lost when it writes again.\n");
	sb_puts(b, "[Unit]\n");
	return b;
}

static void units_free(struct units *u)
{
	for (size_t i = 0; i < u->names.n; i++)
		free(u->text[i].s);
	free(u->text);
	list_free(&u->names);
}

/*
 * What systemd reads in a unit file, and how a value must be written for
 * systemd to read back exactly the string meant.
 */
enum quoting {
	Q_PLAIN,	/* taken as it stands: only % is special */
	Q_WORD,		/* Environment=: a "quoted" word, C escapes, % */
	Q_EXEC,		/* ExecStart= arguments: as Q_WORD, and $ */
};

/*
 * Appends S as systemd reads it back: a double-quoted word in which " and
 * \ are escaped and control characters are C escapes, % doubled (it starts
 * a specifier) and, for an ExecStart argument, $ doubled (it starts a
 * variable).  The markers of lex.h become REPLICA (%i in a template) and
 * STAGE.  Q_PLAIN values are not unquoted by systemd: the caller has
 * checked them with plain_ok.
 */
static void put_value(struct sb *b, const char *s, enum quoting q,
		      const char *replica, const char *stage)
{
	if (q != Q_PLAIN)
		sb_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];

		if (*p == (unsigned char)LEX_REPLICA)
			sb_puts(b, replica);
		else if (*p == (unsigned char)LEX_STAGE)
			sb_puts(b, stage);
		else if (*p == '%')
			sb_puts(b, "%%");
		else if (q == Q_PLAIN)
			sb_put(b, (const char *)p, 1);
		else if (*p == '$' && q == Q_EXEC)
			sb_puts(b, "$$");
		else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			sb_put(b, esc, 2);
		} else if (*p == '\n')
			sb_puts(b, "\\n");
		else if (*p == '\t')
			sb_puts(b, "\\t");
		else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", *p);
			sb_puts(b, esc);
		} else
			sb_put(b, (const char *)p, 1);
	}
	if (q != Q_PLAIN)
		sb_puts(b, "\"");
}

/*
 * A value systemd takes as it stands (a path, a calendar): one line, no
 * control characters, no blank at either end (systemd strips them) and
 * no backslash at the end (a continuation line).
 */
static int plain_ok(const char *s)
{
	size_t n = strlen(s);

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return n > 0 && s[0] != ' ' && s[n - 1] != ' ' && s[n - 1] != '\\';
}

/*
 * An executable path as systemd takes it: absolute, with none of the
 * characters its string_is_safe() refuses (control characters, quotes,
 * backslash), and no $ (the path itself is not expanded).
 */
static int exec_path_ok(const char *s)
{
	if (s[0] != '/')
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\'' ||
		    *p == '\\' || *p == '$')
			return 0;
	return 1;
}

static void put_key(struct sb *b, const char *key, const char *value,
		    enum quoting q)
{
	sb_printf(b, "%s=", key);
	put_value(b, value, q, "", "");
	sb_puts(b, "\n");
}

static void put_env(struct sb *b, const char *name, const char *value)
{
	struct sb kv = { 0 };

	sb_printf(&kv, "%s=%s", name, value);
	put_key(b, "Environment", kv.s, Q_WORD);
	free(kv.s);
}

/*
 * A duration for TimeoutStopSec= (and for spsc's own --stop-timeout):
 * whole seconds when it is, else milliseconds or microseconds, rounded
 * up.  Zero is 1us: TimeoutStopSec=0 would mean "never".
 */
static void fmt_duration(char *buf, size_t len, int64_t ns)
{
	if (ns > 0 && ns % 1000000000LL == 0)
		snprintf(buf, len, "%llds", (long long)(ns / 1000000000LL));
	else if (ns > 0 && ns % 1000000LL == 0)
		snprintf(buf, len, "%lldms", (long long)(ns / 1000000LL));
	else
		snprintf(buf, len, "%lldus",
			 ns > 0 ? (long long)((ns + 999) / 1000) : 1LL);
}

/* Everything a unit needs that is not in the DAG. */
struct ctx {
	const struct spsc_opts *o;
	const struct dag *d;
	struct rundir rd;
	char dir[PATH_MAX];		/* DIR, absolute */
	char dag_path[PATH_MAX];	/* the DAG file, absolute */
	char self[PATH_MAX];		/* spsc */
	char coord_prog[PATH_MAX];	/* spsc-coord */
	char home[PATH_MAX];		/* $SPSC_HOME, resolved */
	char coord_home[PATH_MAX];
	char coord_url[4400];
	char stop[32];			/* TimeoutStopSec= */
	char prefix[DAG_NAME_MAX + 8];	/* spsc-NAME */
};

/* Unit name of replica R of stage S (R < 0: the stage's file name). */
static void stage_unit(const struct ctx *c, int s, int r, char *buf,
		       size_t len)
{
	unit_stage(c->d, s, r, buf, len);
}

/* Every unit of stage S, as dependencies name them, space-separated. */
static void put_stage_units(const struct ctx *c, struct sb *b, int s)
{
	char name[256];

	for (int r = 0; r < c->d->stages[s].replicas; r++) {
		stage_unit(c, s, r, name, sizeof name);
		sb_printf(b, "%s%s", r ? " " : "", name);
	}
}

/* Is stage S's unit written here: every stage, or with --host, those
 * placed on that host. */
static int written_here(const struct ctx *c, size_t s)
{
	return c->o->host == NULL || strcmp(c->d->stages[s].host, c->o->host) == 0;
}

static void write_target(const struct ctx *c, struct units *u)
{
	char name[256];
	struct sb *b;

	snprintf(name, sizeof name, "%s.target", c->prefix);
	b = unit_new(u, name);
	sb_printf(b, "Description=spsc DAG %s (", c->d->name);
	put_value(b, c->dag_path, Q_PLAIN, "", "");
	sb_puts(b, ")\n");
	if (c->rd.private_coord)
		sb_printf(b, "Wants=%s-coord.service\n", c->prefix);
	for (size_t s = 0; s < c->d->nstages; s++)
		for (int r = 0; written_here(c, s) && r < c->d->stages[s].replicas; r++) {
			stage_unit(c, (int)s, r, name, sizeof name);
			sb_printf(b, "Wants=%s\n", name);
		}
	sb_puts(b, "\n[Install]\nWantedBy=multi-user.target\n");
}

/*
 * Once the coordinator is ready, each queue the DAG writes learns how many
 * producers its completion waits for, as spsc run tells it (spsc(1)): a
 * queue with several writing stages must not complete when the first is
 * done.
 */
static void put_producers(const struct ctx *c, struct sb *b)
{
	for (size_t i = 0; i < c->d->nqueues; i++) {
		const struct dagq *q = &c->d->queues[i];

		if (q->nwriters == 0 || q->dlq || q->producers < 2 ||
		    strchr(q->name, '@'))
			continue;
		sb_puts(b, "ExecStartPost=");
		put_value(b, c->coord_prog, Q_EXEC, "", "");
		sb_puts(b, " \"-c\" ");
		put_value(b, c->coord_url, Q_EXEC, "", "");
		sb_printf(b, " \"create\" \"--producers\" \"%u\" ", q->producers);
		put_value(b, q->name, Q_EXEC, "", "");
		sb_puts(b, "\n");
	}
}

static void write_coord(const struct ctx *c, struct units *u)
{
	char name[256];
	struct sb *b;

	snprintf(name, sizeof name, "%s-coord.service", c->prefix);
	b = unit_new(u, name);
	sb_printf(b, "Description=spsc DAG %s: coordinator\n", c->d->name);
	sb_printf(b, "PartOf=%s.target\n", c->prefix);
	sb_puts(b, "StartLimitIntervalSec=0\n");
	sb_puts(b, "\n[Service]\n");
	sb_puts(b, "Type=notify\n");
	sb_puts(b, "ExecStart=");
	put_value(b, c->coord_prog, Q_EXEC, "", "");
	sb_puts(b, " \"serve\" \"--home\" ");
	put_value(b, c->coord_home, Q_EXEC, "", "");
	sb_puts(b, "\n");
	put_producers(c, b);
	sb_puts(b, "Restart=on-failure\nRestartSec=1s\n");
	sb_printf(b, "TimeoutStopSec=%s\n", c->stop);
}

/* [Service] as spsc run starts its processes: in the DAG's directory,
 * with the SPSC_HOME and PATH spsc systemd was run with. */
static void put_service(const struct ctx *c, struct sb *b, const char *type)
{
	sb_printf(b, "\n[Service]\nType=%s\n", type);
	sb_puts(b, "WorkingDirectory=");
	put_value(b, c->d->dir, Q_PLAIN, "", "");
	sb_puts(b, "\n");
	put_env(b, "SPSC_HOME", c->home);
	if (getenv("PATH"))
		put_env(b, "PATH", getenv("PATH"));
}

static int write_stage(const struct ctx *c, struct units *u, int s)
{
	const struct dag *d = c->d;
	const struct stage *st = &d->stages[s];
	const char *replica = st->replicas > 1 ? "%i" : "0";
	char name[256], prog[PATH_MAX];
	struct sb *b;

	if (st->path[0] == '/')
		snprintf(prog, sizeof prog, "%s", st->path);
	else if (realpath(st->path, prog) == NULL) {
		log_error("%s: stage %s: %s: %s", d->path, st->name, st->path,
			  strerror(errno));
		return -1;
	}
	if (!exec_path_ok(prog)) {
		log_error("%s: stage %s: systemd cannot run '%s': quotes, backslashes, '$' and control characters are not allowed in a program's path",
			  d->path, st->name, prog);
		return -1;
	}
	stage_unit(c, s, -1, name, sizeof name);
	b = unit_new(u, name);
	sb_printf(b, "Description=spsc DAG %s: stage %s%s\n", d->name, st->name,
		  st->replicas > 1 ? ", replica %i" : "");
	sb_printf(b, "PartOf=%s.target\n", c->prefix);
	if (c->rd.private_coord) {
		sb_printf(b, "Requires=%s-coord.service\n", c->prefix);
		sb_printf(b, "After=%s-coord.service\n", c->prefix);
	}
	/* data order: consumers start first, and stop last */
	for (size_t o = 0; o < d->nstages; o++) {
		if ((int)o == s || !dag_stage_upstream(d, (int)o, s))
			continue;
		sb_puts(b, "After=");
		put_stage_units(c, b, (int)o);
		sb_puts(b, "\n");
	}
	sb_puts(b, "StartLimitIntervalSec=0\n");
	/* as spsc run: its own environment, the DAG's env lines, then the
	 * stage's variables, later ones winning */
	put_service(c, b, "exec");
	for (size_t i = 0; i < d->nenv; i++)
		put_key(b, "Environment", d->env[i], Q_WORD);
	put_env(b, "STAGE", st->name);
	sb_printf(b, "Environment=\"REPLICA=%s\"\n", replica);
	put_env(b, "SPSC_COORD", c->coord_url);
	sb_puts(b, "ExecStart=");
	put_value(b, prog, Q_EXEC, replica, st->name);
	for (size_t i = 1; i < st->ncmd; i++) {
		sb_puts(b, " ");
		put_value(b, st->cmd[i].text, Q_EXEC, replica, st->name);
	}
	sb_puts(b, "\n");
	sb_puts(b, "Restart=on-failure\nRestartSec=2s\n");
	sb_puts(b, "RestartPreventExitStatus=2\nSuccessExitStatus=3\n");
	sb_puts(b, "KillMode=control-group\n");
	sb_printf(b, "TimeoutStopSec=%s\n", c->stop);
	return 0;
}

static void write_once(const struct ctx *c, struct units *u)
{
	const struct dag *d = c->d;
	char name[256], spsc_stop[32], total[32];
	int64_t per = c->o->stop_timeout, secs;
	struct sb *b;

	snprintf(name, sizeof name, "%s-once.service", c->prefix);
	b = unit_new(u, name);
	sb_printf(b, "Description=spsc DAG %s, once: spsc run --once\n", d->name);
	put_service(c, b, "oneshot");
	if (!c->rd.private_coord && d->coord == NULL)
		put_env(b, "SPSC_COORD", c->coord_url);	/* from $SPSC_COORD */
	fmt_duration(spsc_stop, sizeof spsc_stop, per);
	sb_puts(b, "ExecStart=");
	put_value(b, c->self, Q_EXEC, "", "");
	sb_puts(b, " \"run\" \"--once\" \"--stop-timeout\" ");
	put_value(b, per > 0 ? spsc_stop : "0", Q_EXEC, "", "");
	sb_puts(b, " ");
	put_value(b, c->dag_path, Q_EXEC, "", "");
	sb_puts(b, "\n");
	sb_puts(b, "SuccessExitStatus=3\n");
	/* a run takes as long as the data does */
	sb_puts(b, "TimeoutStartSec=infinity\n");
	/* SIGTERM to spsc alone, which stops the stages in data order, one
	 * after the other (as spsc stop waits for it) */
	sb_puts(b, "KillMode=mixed\n");
	secs = per / 1000000000LL + 1;
	if (secs > INT64_MAX / 1000000000LL / (int64_t)(d->nstages + 1))
		snprintf(total, sizeof total, "infinity");
	else
		fmt_duration(total, sizeof total, secs * 1000000000LL *
			     (int64_t)(d->nstages + 1));
	sb_printf(b, "TimeoutStopSec=%s\n", total);

	snprintf(name, sizeof name, "%s-once.timer", c->prefix);
	b = unit_new(u, name);
	sb_printf(b, "Description=spsc DAG %s on a timer: ", d->name);
	put_value(b, c->o->timer, Q_PLAIN, "", "");
	sb_puts(b, "\n\n[Timer]\nOnCalendar=");
	put_value(b, c->o->timer, Q_PLAIN, "", "");
	sb_printf(b, "\nPersistent=true\nUnit=%s-once.service\n", c->prefix);
	sb_puts(b, "\n[Install]\nWantedBy=timers.target\n");
}

/* ---- files ---- */

/* mkdir -p, the directories made 0755. */
static int make_dir(const char *path)
{
	char buf[PATH_MAX];
	struct stat sb;

	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) == 0)
		return chmod(buf, 0755);
	if (errno != EEXIST)
		return -1;
	if (stat(buf, &sb) < 0)
		return -1;
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* DIR/NAME written atomically, mode 0644. */
static int write_file(const char *dir, const char *name, const char *text,
		      size_t len)
{
	char path[PATH_MAX + 256], tmp[PATH_MAX + 256];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, name);
	if ((fd = mkstemp(tmp)) < 0) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0644) < 0 || fd_write_all(fd, text, len) < 0 ||
	    fsync(fd) < 0) {
		log_error("%s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		log_error("%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* A name a manifest may hold: a file right in DIR, none of ours hidden. */
static int manifest_name_ok(const char *s)
{
	return s[0] != '\0' && s[0] != '.' && strchr(s, '/') == NULL;
}

/* The manifest's names into L; 0, 1 when there is none, -1 on errors. */
static int manifest_read(const char *path, struct list *l)
{
	char *text, *line, *save;
	size_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if ((text = malloc(MANIFEST_MAX + 1)) == NULL)
		die(EXIT_FAIL, "out of memory");
	rc = fd_read_full(fd, text, MANIFEST_MAX + 1, &n);
	close(fd);
	if (rc < 0 || n > MANIFEST_MAX) {
		log_error("%s: %s", path, rc < 0 ? strerror(errno) : "too large");
		free(text);
		return -1;
	}
	text[n] = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!manifest_name_ok(line)) {
			log_warn("%s: ignoring '%s': not a file name", path, line);
			continue;
		}
		if (!list_has(l, line))
			list_add(l, line);
	}
	free(text);
	return 0;
}

static int manifest_write(const struct ctx *c, const char *name,
			  const struct list *l)
{
	struct sb b = { 0 };
	int rc;

	sb_puts(&b, "");
	for (size_t i = 0; i < l->n; i++)
		sb_printf(&b, "%s\n", l->v[i]);
	rc = write_file(c->dir, name, b.s, b.n);
	free(b.s);
	return rc;
}

/* DIR/NAME gone: 1, or 0 when it was not there, -1 on errors. */
static int remove_file(const char *dir, const char *name, int print)
{
	char path[PATH_MAX + 256];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (print)
		printf("%s\n", path);
	return 1;
}

/* ---- the command ---- */

/* DIR as an absolute path, whether or not it exists yet. */
static int absolute_dir(const char *dir, char *buf, size_t len)
{
	char cwd[PATH_MAX];
	size_t n;

	if (realpath(dir, buf) != NULL)
		return 0;
	if (dir[0] == '/') {
		n = (size_t)snprintf(buf, len, "%s", dir);
	} else {
		if (getcwd(cwd, sizeof cwd) == NULL)
			return -1;
		n = (size_t)snprintf(buf, len, "%s/%s", strcmp(cwd, "/") ? cwd : "",
				     dir);
	}
	if (n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return 0;
}

/* --timer's CALENDAR as systemd-analyze calendar sees it, if it is here:
 * a usage error when it cannot parse it. */
static void check_calendar(const char *cal)
{
	char prog[PATH_MAX], err[600];
	pid_t pid;
	int st;

	if (!plain_ok(cal))
		opt_usage_error("--timer: '%s' is not a calendar specification",
				cal);
	if (child_find("systemd-analyze", prog, sizeof prog, err, sizeof err) < 0)
		return;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		die(EXIT_FAIL, "fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execl(prog, "systemd-analyze", "calendar", "--", cal,
		      (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die(EXIT_FAIL, "waitpid: %s", strerror(errno));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return;		/* could not run it: systemd will judge */
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		opt_usage_error("--timer: '%s' is not a calendar specification (systemd-analyze calendar)",
				cal);
}

/* NAME=VALUE with a NAME systemd's Environment= takes. */
static int env_name_ok(const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL || eq == kv || (*kv >= '0' && *kv <= '9'))
		return 0;
	for (const char *p = kv; p < eq; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

/* The rest of what units need, after the DAG is loaded. */
static int prepare(struct ctx *c)
{
	char err[600], tail[DAG_NAME_MAX + 8], home[PATH_MAX];
	const struct dag *d = c->d;
	size_t n, t;
	ssize_t len;

	unit_prefix(d, c->prefix, sizeof c->prefix);
	if (rundir_open(&c->rd, d, err, sizeof err) < 0) {
		log_error("%s", err);
		return -1;
	}
	/* $SPSC_HOME: rd.path is HOME/dags/NAME */
	snprintf(tail, sizeof tail, "/dags/%s", d->name);
	n = strlen(c->rd.path);
	t = strlen(tail);
	if (n <= t || strcmp(c->rd.path + n - t, tail) != 0) {
		log_error("%s: not a run directory of %s", c->rd.path, d->name);
		return -1;
	}
	snprintf(home, sizeof home, "%.*s", (int)(n - t), c->rd.path);
	if (realpath(home, c->home) == NULL ||
	    realpath(c->rd.coord_home, c->coord_home) == NULL) {
		log_error("%s: %s", home, strerror(errno));
		return -1;
	}
	if (c->rd.private_coord)
		snprintf(c->coord_url, sizeof c->coord_url, "unix://%s/coord.unix",
			 c->coord_home);
	else
		snprintf(c->coord_url, sizeof c->coord_url, "%s", c->rd.coord_url);
	if ((len = readlink("/proc/self/exe", c->self, sizeof c->self - 1)) < 0) {
		log_error("/proc/self/exe: %s", strerror(errno));
		return -1;
	}
	c->self[len] = '\0';
	if (c->rd.private_coord && !c->o->timer) {
		char found[PATH_MAX];

		if (child_find("spsc-coord", found, sizeof found, err,
			       sizeof err) < 0) {
			log_error("%s", err);
			return -1;
		}
		if (found[0] == '/')
			snprintf(c->coord_prog, sizeof c->coord_prog, "%s", found);
		else if (realpath(found, c->coord_prog) == NULL) {
			log_error("%s: %s", found, strerror(errno));
			return -1;
		}
	}
	fmt_duration(c->stop, sizeof c->stop, c->o->stop_timeout);

	/* what systemd cannot be told */
	if (!plain_ok(d->dir) || !plain_ok(c->dag_path)) {
		log_error("%s: systemd cannot take this path (control characters, a blank or backslash at an end)",
			  !plain_ok(d->dir) ? d->dir : c->dag_path);
		return -1;
	}
	if (!exec_path_ok(c->self) ||
	    (c->coord_prog[0] && !exec_path_ok(c->coord_prog))) {
		log_error("%s: systemd cannot run a program by this path (quotes, backslashes, '$', control characters)",
			  !exec_path_ok(c->self) ? c->self : c->coord_prog);
		return -1;
	}
	for (size_t i = 0; i < d->nenv; i++)
		if (!env_name_ok(d->env[i])) {
			log_error("%s: env %s: systemd takes only names of letters, digits and '_', not starting with a digit",
				  d->path, d->env[i]);
			return -1;
		}
	if (c->rd.private_coord && !c->o->timer &&
	    dag_stage_named(d, "coord") >= 0) {
		log_error("%s: a stage named 'coord' would be %s-coord.service, the coordinator's unit: rename the stage",
			  d->path, c->prefix);
		return -1;
	}
	return 0;
}

static int in_unit_path(const char *dir)
{
	static const char *const paths[] = {
		"/etc/systemd/system", "/run/systemd/system",
		"/usr/local/lib/systemd/system", "/usr/lib/systemd/system",
		"/lib/systemd/system", NULL,
	};

	for (size_t i = 0; paths[i]; i++)
		if (strcmp(dir, paths[i]) == 0)
			return 1;
	return 0;
}

static void hint(const struct ctx *c, const struct units *u)
{
	fprintf(stderr, "spsc: %zu units for %s in %s; to start them:\n",
		u->names.n, c->d->name, c->dir);
	if (!in_unit_path(c->dir)) {
		fprintf(stderr, "  systemctl link");
		for (size_t i = 0; i < u->names.n; i++)
			fprintf(stderr, " %s/%s", c->dir, u->names.v[i]);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "  systemctl daemon-reload\n");
	if (c->o->timer)
		fprintf(stderr,
			"  systemctl start %s-once.timer    (enable it to start at boot)\n",
			c->prefix);
	else
		fprintf(stderr,
			"  systemctl start %s.target    (enable it to start at boot)\n",
			c->prefix);
}

/*
 * Writes U into DIR: the manifest first as the old one and the new names
 * together, then the old files no longer written removed, the units
 * written, and the manifest as the new names alone.
 */
static int install(struct ctx *c, const struct units *u)
{
	char manifest[DAG_NAME_MAX + 32], path[PATH_MAX + 256], dir[PATH_MAX];
	struct list old = { 0 }, all = { 0 };
	int r, rc = -1;

	snprintf(manifest, sizeof manifest, ".%s.manifest", c->prefix);
	if (make_dir(c->dir) < 0 || realpath(c->dir, dir) == NULL) {
		log_error("%s: %s", c->dir, strerror(errno));
		return -1;
	}
	snprintf(c->dir, sizeof c->dir, "%s", dir);	/* no .. left */
	snprintf(path, sizeof path, "%s/%s", c->dir, manifest);
	if (manifest_read(path, &old) < 0)
		goto out;
	/* never over a file spsc did not write */
	for (size_t i = 0; i < u->names.n; i++) {
		char f[PATH_MAX + 256];
		struct stat st;

		snprintf(f, sizeof f, "%s/%s", c->dir, u->names.v[i]);
		if (!list_has(&old, u->names.v[i]) && lstat(f, &st) == 0) {
			log_error("%s exists and is not in %s: not overwriting a file spsc systemd did not write",
				  f, path);
			goto out;
		}
	}
	for (size_t i = 0; i < old.n; i++)
		list_add(&all, old.v[i]);
	for (size_t i = 0; i < u->names.n; i++)
		if (!list_has(&all, u->names.v[i]))
			list_add(&all, u->names.v[i]);
	if (manifest_write(c, manifest, &all) < 0)
		goto out;
	for (size_t i = 0; i < old.n; i++) {
		if (list_has(&u->names, old.v[i]))
			continue;
		if ((r = remove_file(c->dir, old.v[i], 0)) < 0)
			goto out;
		if (r > 0)
			log_info("removed %s/%s: no longer written", c->dir,
				 old.v[i]);
	}
	for (size_t i = 0; i < u->names.n; i++) {
		if (write_file(c->dir, u->names.v[i], u->text[i].s,
			       u->text[i].n) < 0)
			goto out;
		printf("%s/%s\n", c->dir, u->names.v[i]);
	}
	if (manifest_write(c, manifest, &u->names) < 0)
		goto out;
	rc = 0;
out:
	list_free(&old);
	list_free(&all);
	return rc;
}

/* --remove: exactly the files the manifest names, then the manifest. */
static int uninstall(const struct ctx *c)
{
	char manifest[DAG_NAME_MAX + 32], path[PATH_MAX + 256];
	struct list old = { 0 }, left = { 0 };
	int r, rc = EXIT_FAIL;

	snprintf(manifest, sizeof manifest, ".%s.manifest", c->prefix);
	snprintf(path, sizeof path, "%s/%s", c->dir, manifest);
	r = manifest_read(path, &old);
	if (r > 0)
		log_error("%s: no manifest: spsc systemd wrote nothing for %s here",
			  path, c->d->name);
	if (r != 0)
		goto out;
	for (size_t i = 0; i < old.n; i++)
		if (remove_file(c->dir, old.v[i], 1) < 0)
			list_add(&left, old.v[i]);
	if (left.n > 0) {
		manifest_write(c, manifest, &left);
		goto out;
	}
	if (remove_file(c->dir, manifest, 0) < 0)
		goto out;
	fprintf(stderr,
		"spsc: removed %zu units of %s; stop and disable them first if they ran, then: systemctl daemon-reload\n",
		old.n, c->d->name);
	rc = EXIT_OK;
out:
	list_free(&old);
	list_free(&left);
	return rc;
}

/* --host: some stage is placed there, and its queues are shared. */
static int check_host(const struct ctx *c)
{
	size_t n = 0;

	for (size_t s = 0; s < c->d->nstages; s++)
		n += written_here(c, s);
	if (n == 0) {
		log_error("%s: no stage is placed on host %s (see the DAG's host lines)",
			  c->d->path, c->o->host);
		return -1;
	}
	if (c->rd.private_coord) {
		log_error("%s: --host needs queues every host reaches: a coord line or SPSC_COORD (nats://... or spsc-coord on tcp://), not a private coordinator",
			  c->d->path);
		return -1;
	}
	return 0;
}

int systemd_main(const struct spsc_opts *o, const char *path, const char *dir)
{
	struct ctx c = { .o = o };
	struct units u = { 0 };
	struct dag d;
	struct diag dg;
	int rc = EXIT_FAIL;

	if (o->timer && o->remove)
		opt_usage_error("--timer and --remove do not go together");
	if (o->host && o->timer)
		opt_usage_error("--host and --timer do not go together: a timer runs the whole DAG");
	if (o->timer)
		check_calendar(o->timer);
	/* before spsc_load, which enters the DAG's directory */
	if (absolute_dir(dir, c.dir, sizeof c.dir) < 0)
		die(EXIT_FAIL, "%s: %s", dir, strerror(errno));
	if (realpath(path, c.dag_path) == NULL)
		snprintf(c.dag_path, sizeof c.dag_path, "%s", path);
	c.d = &d;
	if (spsc_load(&d, &dg, path, 0) < 0)
		goto out;
	if (o->remove) {
		snprintf(c.prefix, sizeof c.prefix, "spsc-%s", d.name);
		rc = uninstall(&c);
		goto out;
	}
	if (prepare(&c) < 0 || (o->host && check_host(&c) < 0))
		goto out;
	if (o->timer) {
		write_once(&c, &u);
	} else {
		write_target(&c, &u);
		if (c.rd.private_coord)
			write_coord(&c, &u);
		for (size_t s = 0; s < d.nstages; s++)
			if (written_here(&c, s) && write_stage(&c, &u, (int)s) < 0)
				goto out;
	}
	if (install(&c, &u) < 0)
		goto out;
	if (fflush(stdout) != 0) {
		log_error("stdout: %s", strerror(errno));
		goto out;
	}
	hint(&c, &u);
	rc = EXIT_OK;
out:
	units_free(&u);
	dag_free(&d);
	return rc;
}
