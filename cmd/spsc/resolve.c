/*
 * resolve: what each stage reads and writes, and the queues between.
 *
 * The launcher never parses a program's options itself.  An spsc program
 * is asked: run with --print-endpoints, it checks its options as for a
 * real run and prints one line per endpoint, "ROLE<TAB>SPEC[<TAB>PRODUCER]"
 * (spsc-dag(5)), or fails with the usage error a real run would give.
 * Any other program declares its queues with in= and out=.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "capture.h"
#include "child.h"
#include "dag.h"
#include "endpoint.h"
#include "grow.h"
#include "log.h"
#include "mem.h"
#include "opt.h"
#include "units.h"

/* Where in the command a printed endpoint came from, for messages: the
 * word that is the spec, ends in it (--output=SPEC, -oSPEC), or that the
 * spec extends (bykey for bykey.3); else the program's. */
static struct pos word_for(const struct stage *st, const char *const *argv,
			   const char *spec)
{
	size_t sl = strlen(spec);

	for (size_t i = 1; i < st->ncmd; i++) {
		const char *w = argv[i];
		size_t wl = strlen(w);

		if (wl == 0)
			continue;
		if (strcmp(w, spec) == 0 ||
		    (wl > sl && strcmp(w + wl - sl, spec) == 0 && w[0] == '-'))
			return st->cmd[i].pos;
	}
	for (size_t i = 1; i < st->ncmd; i++) {
		size_t wl = strlen(argv[i]);

		if (wl > 0 && wl < sl && strncmp(spec, argv[i], wl) == 0 &&
		    spec[wl] == '.')
			return st->cmd[i].pos;
	}
	return st->cmd[0].pos;
}

static int parse_role(const char *s, enum role *r)
{
	for (enum role i = ROLE_IN; i <= ROLE_FILE; i++)
		if (strcmp(s, role_name(i)) == 0) {
			*r = i;
			return 0;
		}
	return -1;
}

static void add_port(struct replica *rp, size_t *cap, enum role role,
		     const char *spec, uint64_t producer, struct pos pos)
{
	struct port *pt = xpush(&rp->ports, &rp->nports, cap, sizeof *pt);

	pt->role = role;
	pt->spec = xstrdup(spec);
	pt->producer = producer;
	pt->queue = -1;
	pt->pos = pos;
}

/* "ROLE\tSPEC[\tPRODUCER]" lines into ports. */
static int parse_ports(struct dag *d, struct stage *st, struct replica *rp,
		       char *text)
{
	size_t cap = 0;

	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *spec = strchr(line, '\t'), *prod;
		uint64_t producer = 0;
		enum role role;

		if (spec)
			*spec++ = '\0';
		prod = spec ? strchr(spec, '\t') : NULL;
		if (prod) {
			*prod++ = '\0';
			producer = strtoull(prod, NULL, 16);
		}
		if (spec == NULL || *spec == '\0' || parse_role(line, &role) < 0) {
			diag_error(d->diag, st->cmd[0].pos,
				   "%s --print-endpoints printed a line spsc cannot read: '%s'",
				   rp->argv[0], line);
			return -1;
		}
		add_port(rp, &cap, role, spec, producer,
			 word_for(st, (const char *const *)rp->argv, spec));
	}
	return 0;
}

/*
 * The program's own complaint, for the user: its lines less the
 * "prog: " or "prog[pid]: error: " prefixes and the "Try --help" hint.
 */
static void complaint(const char *prog, char *text, char *msg, size_t len)
{
	const char *base = strrchr(prog, '/');
	size_t used = 0;

	base = base ? base + 1 : prog;
	msg[0] = '\0';
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *p = line;

		if (strncmp(p, "Try '", 5) == 0)
			continue;
		if (strncmp(p, prog, strlen(prog)) == 0)
			p += strlen(prog);
		else if (strncmp(p, base, strlen(base)) == 0)
			p += strlen(base);
		if (*p == '[')
			p += strcspn(p, "]") + (p[strcspn(p, "]")] ? 1 : 0);
		if (p != line && *p == ':')
			p += *(p + 1) == ' ' ? 2 : 1;
		if (strncmp(p, "error: ", 7) == 0)
			p += 7;
		if (used < len)
			used += (size_t)snprintf(msg + used, len - used, "%s%s",
						 used ? "; " : "", p);
	}
}

/* The word a complaint is about: one it quotes, or that starts it. */
static struct pos complaint_pos(const struct stage *st, char *const *argv,
				const char *msg)
{
	for (size_t i = 1; i < st->ncmd; i++) {
		char quoted[4200];

		snprintf(quoted, sizeof quoted, "'%s'", argv[i]);
		if (argv[i][0] && strstr(msg, quoted))
			return st->cmd[i].pos;
	}
	for (size_t i = 1; i < st->ncmd; i++) {
		size_t n = strlen(argv[i]);

		if (n && strncmp(msg, argv[i], n) == 0 && msg[n] == ':')
			return st->cmd[i].pos;
	}
	return st->cmd[0].pos;
}

static const char **stage_env(const struct dag *d, const struct stage *st,
			      int replica, char bufs[2][128])
{
	const char **env = xcalloc(d->nenv + 3, sizeof *env);

	snprintf(bufs[0], 128, "REPLICA=%d", replica);
	snprintf(bufs[1], 128, "STAGE=%s", st->name);
	for (size_t i = 0; i < d->nenv; i++)
		env[i] = d->env[i];
	env[d->nenv] = bufs[0];
	env[d->nenv + 1] = bufs[1];
	return env;
}

static struct text out_text, err_text;


static int ask(struct dag *d, struct stage *st, int r)
{
	struct replica *rp = &st->rep[r];
	char bufs[2][128], err[600], msg[2048];
	char **argv;
	const char **env = stage_env(d, st, r, bufs);
	int status;

	argv = xcalloc(st->ncmd + 2, sizeof *argv);
	argv[0] = st->path;
	argv[1] = "--print-endpoints";
	for (size_t i = 1; i < st->ncmd; i++)
		argv[i + 1] = rp->argv[i];
	status = capture(argv, env, &out_text, &err_text, err, sizeof err);
	free(argv);
	free(env);
	if (status == -1) {
		diag_error(d->diag, st->cmd[0].pos, "%s", err);
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return parse_ports(d, st, rp, out_text.buf);
	complaint(st->path, err_text.buf, msg, sizeof msg);
	if (msg[0] == '\0')
		snprintf(msg, sizeof msg, "%s --print-endpoints failed",
			 rp->argv[0]);
	diag_error(d->diag, complaint_pos(st, rp->argv, msg),
		   "%s%s", msg,
		   WIFEXITED(status) && WEXITSTATUS(status) == 2 ? ""
		   : " (it did not take --print-endpoints: is it an spsc program?)");
	return -1;
}

/* in=a,b and out=c: a program that is no spsc program says its queues. */
static void declared(struct dag *d, struct stage *st, struct replica *rp)
{
	size_t cap = 0;

	for (size_t i = 0; i < st->ndecl; i++) {
		const struct word *w = &st->decl[i];
		enum role role = w->text[0] == 'i' ? ROLE_IN : ROLE_OUT;
		const char *list = strchr(w->text, '=') + 1;
		char *copy = xstrdup(list), *save;

		for (char *q = strtok_r(copy, ",", &save); q;
		     q = strtok_r(NULL, ",", &save)) {
			char *spec = lex_expand(q, st->name, (int)(rp - st->rep));
			struct pos at = { w->pos.line,
					  w->pos.col + (int)(q - copy) +
						  (int)(list - w->text) };

			if (endpoint_kind_of(spec) != ENDPOINT_QUEUE)
				diag_error(d->diag, at, "'%s' is not a queue name", spec);
			else
				add_port(rp, &cap, role, spec, 0, at);
			free(spec);
		}
		free(copy);
	}
}

static int find_program(struct dag *d, struct stage *st)
{
	char err[600], *prog = lex_expand(st->cmd[0].text, st->name, 0);
	const char *base = strrchr(prog, '/');
	int rc;

	base = base ? base + 1 : prog;
	st->spsc = strncmp(base, "spsc-", 5) == 0;
	rc = child_find(prog, st->path, sizeof st->path, err, sizeof err);
	if (rc < 0)
		diag_error(d->diag, st->cmd[0].pos, "%s%s", err,
			   strchr(prog, '/') ? "" : " (not on PATH)");
	free(prog);
	return rc;
}

static void expand_argv(struct stage *st, int r)
{
	struct replica *rp = &st->rep[r];

	rp->argv = xcalloc(st->ncmd + 1, sizeof *rp->argv);
	for (size_t i = 0; i < st->ncmd; i++)
		rp->argv[i] = lex_expand(st->cmd[i].text, st->name, r);
}

static int resolve_stage(struct dag *d, struct stage *st)
{
	/* a program named by ${REPLICA} was reported when read */
	int ok = !lex_has_marker(st->cmd[0].text) && find_program(d, st) == 0;

	st->rep = xcalloc((size_t)st->replicas, sizeof *st->rep);
	if (st->spsc && st->ndecl > 0) {
		diag_error(d->diag, st->decl[0].pos,
			   "in= and out= are for programs that are not spsc programs: %s says its own endpoints",
			   st->cmd[0].text);
		ok = 0;
	}
	for (int r = 0; r < st->replicas; r++)
		expand_argv(st, r);
	for (int r = 0; r < st->replicas && ok; r++) {
		if (!st->spsc)
			declared(d, st, &st->rep[r]);
		else if (ask(d, st, r) < 0)
			ok = 0;	/* the same complaint from every replica */
	}
	st->unresolved = !ok;
	d->unresolved |= !ok;
	return ok ? 0 : -1;
}

static int queue_add(struct dag *d, const char *name, size_t *cap)
{
	int q = dag_queue_named(d, name);
	struct dagq *dq;

	if (q >= 0)
		return q;
	dq = xpush(&d->queues, &d->nqueues, cap, sizeof *dq);
	dq->name = xstrdup(name);
	return (int)d->nqueues - 1;
}

static void use_add(struct queue_use **list, size_t *n, int s, int r, size_t p)
{
	struct queue_use *u;

	if ((u = realloc(*list, (*n + 1) * sizeof *u)) == NULL)
		die(EXIT_FAIL, "out of memory");
	*list = u;
	u[*n] = (struct queue_use){ s, r, p };
	(*n)++;
}

static const struct port *use_port(const struct dag *d,
				   const struct queue_use *u)
{
	return &d->stages[u->stage].rep[u->replica].ports[u->port];
}

/* Distinct producer ids among the writers of q: the producers its
 * completion waits for (spsc(7)). */
static void count_producers(struct dag *d, struct dagq *q)
{
	q->producers = 0;
	q->dlq = q->nwriters > 0;
	for (size_t i = 0; i < q->nwriters; i++) {
		const struct port *p = use_port(d, &q->writers[i]);
		int seen = 0;

		if (p->role == ROLE_OUT)
			q->dlq = 0;
		if (p->role != ROLE_OUT || p->producer == 0)
			continue;
		for (size_t j = 0; j < i && !seen; j++) {
			const struct port *o = use_port(d, &q->writers[j]);

			seen = o->role == ROLE_OUT && o->producer == p->producer;
		}
		q->producers += !seen;
	}
}

static void join_queues(struct dag *d)
{
	size_t cap = 0;

	for (size_t s = 0; s < d->nstages; s++) {
		struct stage *st = &d->stages[s];

		for (int r = 0; st->rep && r < st->replicas; r++) {
			struct replica *rp = &st->rep[r];

			for (size_t i = 0; i < rp->nports; i++) {
				struct port *p = &rp->ports[i];
				struct dagq *q;

				if (p->role == ROLE_FILE ||
				    endpoint_kind_of(p->spec) != ENDPOINT_QUEUE)
					continue;
				p->queue = queue_add(d, p->spec, &cap);
				q = &d->queues[p->queue];
				if (p->role == ROLE_IN)
					use_add(&q->readers, &q->nreaders, (int)s, r, i);
				else
					use_add(&q->writers, &q->nwriters, (int)s, r, i);
			}
		}
	}
	for (size_t i = 0; i < d->nexternal; i++) {
		struct dagq *q = &d->queues[queue_add(d, d->external[i].text, &cap)];

		q->external = 1;
		q->external_pos = d->external[i].pos;
	}
	for (size_t i = 0; i < d->nqueues; i++)
		count_producers(d, &d->queues[i]);
}

int dag_resolve(struct dag *d)
{
	for (size_t s = 0; s < d->nstages; s++)
		resolve_stage(d, &d->stages[s]);
	join_queues(d);
	return d->diag->errors ? -1 : 0;
}

/* Does OTHER write (data, not dead letters) a queue STAGE reads? */
int dag_stage_upstream(const struct dag *d, int stage, int other)
{
	for (size_t i = 0; i < d->nqueues; i++) {
		const struct dagq *q = &d->queues[i];
		int reads = 0, writes = 0;

		for (size_t k = 0; k < q->nreaders; k++)
			reads |= q->readers[k].stage == stage;
		for (size_t k = 0; k < q->nwriters; k++)
			writes |= q->writers[k].stage == other &&
				  use_port(d, &q->writers[k])->role == ROLE_OUT;
		if (reads && writes)
			return 1;
	}
	return 0;
}
