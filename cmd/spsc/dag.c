/*
 * dag: reading a DAG file into stages (spsc-dag(5)).
 *
 *	# comment
 *	env NAME=VALUE...
 *	coord URL
 *	external QUEUE...
 *	name NAME
 *	STAGE[*N]: [in=QUEUE[,QUEUE...]] [out=QUEUE[,QUEUE...]] COMMAND [ARG...]
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dag.h"
#include "fdio.h"
#include "grow.h"
#include "log.h"
#include "mem.h"
#include "opt.h"

#define DAG_FILE_MAX (1 << 20)

/* Takes the word out of the line, so lexline_free leaves it be. */
static struct word steal(struct word *w)
{
	struct word out = *w;

	w->text = NULL;
	return out;
}

static int valid_name(const char *s, size_t len)
{
	if (len == 0 || len >= DAG_NAME_MAX || s[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* What spsc run gives every stage itself (spsc(1), ENVIRONMENT). */
static int reserved_env(const char *name, size_t len)
{
	static const char *const names[] = { "REPLICA", "STAGE", "SPSC_COORD",
					     "SPSC_ONCE", "NOTIFY_SOCKET" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return 1;
	return 0;
}

static void directive_env(struct dag *d, struct lexline *ln, size_t *cap)
{
	for (size_t i = 1; i < ln->n; i++) {
		const char *eq = strchr(ln->w[i].text, '=');

		if (eq == NULL || eq == ln->w[i].text ||
		    lex_has_marker(ln->w[i].text)) {
			diag_error(d->diag, ln->w[i].pos,
				   "env takes NAME=VALUE, not '%s'", ln->w[i].text);
			continue;
		}
		if (reserved_env(ln->w[i].text, (size_t)(eq - ln->w[i].text))) {
			diag_error(d->diag, ln->w[i].pos,
				   "%.*s is set by spsc for each stage: the DAG cannot set it",
				   (int)(eq - ln->w[i].text), ln->w[i].text);
			continue;
		}
		*(char **)xpush(&d->env, &d->nenv, cap, sizeof *d->env) =
			xstrdup(ln->w[i].text);
	}
}

static void directive_one(struct dag *d, struct lexline *ln, char **slot,
			  const char *what)
{
	if (ln->n != 2) {
		diag_error(d->diag, ln->w[0].pos, "%s takes one %s", ln->w[0].text,
			   what);
		return;
	}
	if (*slot) {
		diag_error(d->diag, ln->w[0].pos, "a second %s line", ln->w[0].text);
		return;
	}
	*slot = xstrdup(ln->w[1].text);
}

static void directive_name(struct dag *d, struct lexline *ln)
{
	char *name = NULL;

	directive_one(d, ln, &name, "NAME");
	if (name == NULL)
		return;
	if (!valid_name(name, strlen(name)))
		diag_error(d->diag, ln->w[1].pos,
			   "'%s' is not a name: letters, digits, '_' and '-'",
			   name);
	else
		snprintf(d->name, sizeof d->name, "%s", name);
	free(name);
}

static void directive_external(struct dag *d, struct lexline *ln, size_t *cap)
{
	if (ln->n < 2)
		diag_error(d->diag, ln->w[0].pos, "external takes QUEUE...");
	for (size_t i = 1; i < ln->n; i++)
		*(struct word *)xpush(&d->external, &d->nexternal, cap,
				       sizeof *d->external) = steal(&ln->w[i]);
}

/* host NAME STAGE...: kept as words, placed once every stage is read. */
static void directive_host(struct dag *d, struct lexline *ln, size_t *cap)
{
	if (ln->n < 3) {
		diag_error(d->diag, ln->w[0].pos, "host takes NAME STAGE...");
		return;
	}
	if (!valid_name(ln->w[1].text, strlen(ln->w[1].text)))
		diag_error(d->diag, ln->w[1].pos,
			   "'%s' is not a host name: letters, digits, '_' and '-'",
			   ln->w[1].text);
	for (size_t i = 1; i < ln->n; i++)
		*(struct word *)xpush(&d->hosts, &d->nhosts, cap,
				       sizeof *d->hosts) = steal(&ln->w[i]);
	*(struct word *)xpush(&d->hosts, &d->nhosts, cap, sizeof *d->hosts) =
		(struct word){ .text = xstrdup(""), .pos = ln->w[0].pos };
}

/* Each stage a host line names is placed there, once; with any host line,
 * every stage must be placed, or some machine would never run it. */
static void place_stages(struct dag *d)
{
	const struct word *host = NULL;

	for (size_t i = 0; i < d->nhosts; i++) {
		const struct word *w = &d->hosts[i];
		int s;
		if (w->text[0] == '\0') {
			host = NULL;
			continue;
		}
		if (host == NULL) {
			host = w;
			continue;
		}
		if ((s = dag_stage_named(d, w->text)) < 0) {
			diag_error(d->diag, w->pos, "host %s: no stage '%s'",
				   host->text, w->text);
		} else if (d->stages[s].host[0]) {
			diag_error(d->diag, w->pos, "stage '%s' is placed twice (on %s and %s)",
				   w->text, d->stages[s].host, host->text);
		} else {
			snprintf(d->stages[s].host, sizeof d->stages[s].host, "%s",
				 host->text);
		}
	}
	for (size_t s = 0; d->nhosts && s < d->nstages; s++)
		if (d->stages[s].host[0] == '\0')
			diag_error(d->diag, d->stages[s].pos,
				   "stage '%s' is on no host: with host lines, every stage needs one",
				   d->stages[s].name);
}

/*
 * "NAME:" or "NAME*N:" at the head of the first word; what follows the
 * colon in the same word, if anything, is the command's first word.
 * Returns the head's length, 0 if the word is no stage head.
 */
static size_t stage_head(const struct word *w)
{
	const char *colon = strchr(w->text, ':');

	if (w->quoted || colon == NULL)
		return 0;
	return (size_t)(colon - w->text) + 1;
}

static int parse_head(struct dag *d, struct stage *st, const struct word *w,
		      size_t head)
{
	const char *star = memchr(w->text, '*', head);
	size_t namelen = star ? (size_t)(star - w->text) : head - 1;
	char *end;
	long n = 1;

	if (!valid_name(w->text, namelen)) {
		diag_error(d->diag, w->pos,
			   "'%.*s' is not a stage name: letters, digits, '_' and '-', at most %d",
			   (int)namelen, w->text, DAG_NAME_MAX - 1);
		return -1;
	}
	memcpy(st->name, w->text, namelen);
	st->name[namelen] = '\0';
	st->pos = w->pos;
	if (star) {
		errno = 0;
		n = strtol(star + 1, &end, 10);
		if (end != w->text + head - 1 || end == star + 1 || errno ||
		    n < 1 || n > DAG_REPLICAS_MAX) {
			diag_error(d->diag, (struct pos){ w->pos.line,
				   w->pos.col + (int)(star - w->text) + 1 },
				   "replicas must be a number from 1 to %d",
				   DAG_REPLICAS_MAX);
			return -1;
		}
	}
	st->replicas = (int)n;
	return 0;
}

static int is_decl(const struct word *w)
{
	return !w->quoted && (strncmp(w->text, "in=", 3) == 0 ||
			      strncmp(w->text, "out=", 4) == 0);
}

static void parse_stage(struct dag *d, struct lexline *ln, size_t head,
			size_t *cap)
{
	struct stage st;
	size_t i = 1, ccap = 0, dcap = 0;

	memset(&st, 0, sizeof st);
	if (parse_head(d, &st, &ln->w[0], head) < 0)
		return;
	if (dag_stage_named(d, st.name) >= 0) {
		diag_error(d->diag, st.pos, "stage '%s' is defined twice (first on line %d)",
			   st.name, d->stages[dag_stage_named(d, st.name)].pos.line);
		return;
	}
	if (ln->w[0].text[head] != '\0') {
		/* "name:cmd": the rest of the word is the command's start */
		struct word *w = xpush(&st.cmd, &st.ncmd, &ccap, sizeof *st.cmd);

		w->text = xstrdup(ln->w[0].text + head);
		w->pos = (struct pos){ ln->w[0].pos.line,
				       ln->w[0].pos.col + (int)head };
	}
	for (; st.ncmd == 0 && i < ln->n && is_decl(&ln->w[i]); i++)
		*(struct word *)xpush(&st.decl, &st.ndecl, &dcap,
				       sizeof *st.decl) = steal(&ln->w[i]);
	for (; i < ln->n; i++)
		*(struct word *)xpush(&st.cmd, &st.ncmd, &ccap,
				       sizeof *st.cmd) = steal(&ln->w[i]);
	if (st.ncmd == 0) {
		diag_error(d->diag, st.pos, "stage '%s' has no command", st.name);
		free(st.decl);
		return;
	}
	if (lex_has_marker(st.cmd[0].text))
		diag_error(d->diag, st.cmd[0].pos,
			   "the program must be the same for every replica: ${REPLICA} and ${STAGE} go in its arguments");
	*(struct stage *)xpush(&d->stages, &d->nstages, cap,
				sizeof *d->stages) = st;
}

static void parse_line(struct dag *d, struct lexline *ln, size_t caps[4])
{
	const char *w0 = ln->w[0].text;
	size_t head = stage_head(&ln->w[0]);

	if (head > 0)
		parse_stage(d, ln, head, &caps[0]);
	else if (strcmp(w0, "env") == 0)
		directive_env(d, ln, &caps[1]);
	else if (strcmp(w0, "coord") == 0)
		directive_one(d, ln, &d->coord, "URL");
	else if (strcmp(w0, "external") == 0)
		directive_external(d, ln, &caps[2]);
	else if (strcmp(w0, "name") == 0)
		directive_name(d, ln);
	else if (strcmp(w0, "host") == 0)
		directive_host(d, ln, &caps[3]);
	else
		diag_error(d->diag, ln->w[0].pos,
			   "'%s' is neither a stage (NAME: COMMAND) nor a directive (env, coord, external, name, host)",
			   w0);
}

static char *read_file(struct dag *d, size_t *len)
{
	char *text;
	int fd = open(d->path, O_RDONLY | O_CLOEXEC), rc;
	size_t n;

	if (fd < 0) {
		diag_error(d->diag, (struct pos){ 0, 0 }, "%s", strerror(errno));
		return NULL;
	}
	if ((text = malloc(DAG_FILE_MAX + 1)) == NULL)
		die(EXIT_FAIL, "out of memory");
	rc = fd_read_full(fd, text, DAG_FILE_MAX + 1, &n);
	close(fd);
	if (rc < 0 || n > DAG_FILE_MAX) {
		diag_error(d->diag, (struct pos){ 0, 0 }, "%s",
			   rc < 0 ? strerror(errno) : "larger than 1 MiB");
		free(text);
		return NULL;
	}
	text[n] = '\0';
	if (strlen(text) != n) {
		diag_error(d->diag, (struct pos){ 0, 0 }, "a NUL byte: not a text file");
		free(text);
		return NULL;
	}
	*len = n;
	return text;
}

/* The DAG's name, from the file's unless a name line gave one, and the
 * directory its stages run in. */
static void name_and_dir(struct dag *d)
{
	const char *base = strrchr(d->path, '/');
	char real[PATH_MAX];
	size_t n;

	base = base ? base + 1 : d->path;
	n = strcspn(base, ".");
	if (d->name[0] == '\0') {
		if (!valid_name(base, n))
			diag_error(d->diag, (struct pos){ 0, 0 },
				   "the file's name makes no DAG name: add a line 'name NAME'");
		else
			snprintf(d->name, sizeof d->name, "%.*s", (int)n, base);
	}
	if (realpath(d->path, real) == NULL)
		snprintf(real, sizeof real, "%s", d->path);
	snprintf(d->dir, sizeof d->dir, "%s", real);
	*strrchr(d->dir, '/') = '\0';
	if (d->dir[0] == '\0')
		snprintf(d->dir, sizeof d->dir, "/");
}

/* Reads and parses PATH.  Errors go to DIAG; -1 only when there is
 * nothing to go on with (no file, no stage), so that the stages that
 * did parse can still be checked. */
int dag_load(struct dag *d, const char *path, struct diag *diag)
{
	struct lexer lx;
	struct lexline ln;
	size_t len, caps[4] = { 0 };
	char *text;
	int r;

	memset(d, 0, sizeof *d);
	d->path = xstrdup(path);
	d->diag = diag;
	diag->file = d->path;
	if ((text = read_file(d, &len)) == NULL)
		return -1;
	lex_init(&lx, text, len);
	while ((r = lex_next(&lx, &ln)) != 0) {
		if (r < 0) {
			diag_error(diag, lx.errpos, "%s", lx.err);
			continue;
		}
		parse_line(d, &ln, caps);
		lexline_free(&ln);
	}
	free(text);
	place_stages(d);
	name_and_dir(d);
	if (d->nstages == 0 && diag->errors == 0)
		diag_error(diag, (struct pos){ 0, 0 }, "no stages");
	return d->nstages ? 0 : -1;
}

int dag_stage_named(const struct dag *d, const char *name)
{
	for (size_t i = 0; i < d->nstages; i++)
		if (strcmp(d->stages[i].name, name) == 0)
			return (int)i;
	return -1;
}

int dag_queue_named(const struct dag *d, const char *name)
{
	for (size_t i = 0; i < d->nqueues; i++)
		if (strcmp(d->queues[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *role_name(enum role r)
{
	static const char *names[] = { "in", "out", "dlq", "late", "file" };

	return names[r];
}

static void free_words(struct word *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].text);
	free(w);
}

static void free_replica(struct replica *r)
{
	for (char **a = r->argv; a && *a; a++)
		free(*a);
	free(r->argv);
	for (size_t i = 0; i < r->nports; i++)
		free(r->ports[i].spec);
	free(r->ports);
}

void dag_free(struct dag *d)
{
	for (size_t i = 0; i < d->nstages; i++) {
		struct stage *st = &d->stages[i];

		free_words(st->cmd, st->ncmd);
		free_words(st->decl, st->ndecl);
		for (int r = 0; st->rep && r < st->replicas; r++)
			free_replica(&st->rep[r]);
		free(st->rep);
	}
	free(d->stages);
	for (size_t i = 0; i < d->nqueues; i++) {
		free(d->queues[i].name);
		free(d->queues[i].readers);
		free(d->queues[i].writers);
	}
	free(d->queues);
	for (size_t i = 0; i < d->nenv; i++)
		free(d->env[i]);
	free(d->env);
	free_words(d->external, d->nexternal);
	free_words(d->hosts, d->nhosts);
	free(d->coord);
	free(d->path);
	memset(d, 0, sizeof *d);
}
