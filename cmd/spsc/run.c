/*
 * run: spsc run.  The coordinator first (a private one unless the DAG
 * names one), then, once it has said READY=1, every replica of every
 * stage; then supervision until the DAG ends or is stopped.
 *
 * Stopping goes in data order: a stage is sent SIGTERM only once every
 * stage that writes its input is down, so what is in flight drains
 * downstream instead of being redelivered; the coordinator goes last.  A
 * second SIGINT or SIGTERM kills what is left.
 *
 * Every stage runs in a process group of its own (so a terminal's Ctrl-C
 * reaches spsc alone, which then stops the stages in order), and spsc is a
 * subreaper: whatever a stage leaves behind when it dies comes back to
 * spsc and is killed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordq.h"
#include "dag.h"
#include "log.h"
#include "mem.h"
#include "opt.h"
#include "orphans.h"
#include "proc.h"
#include "rundir.h"
#include "runstate.h"
#include "spsc.h"
#include "units.h"

#define READY_TIMEOUT_NS (60 * 1000000000LL)
#define ONCE_MAX_STREAK 8	/* run --once: failures in a row, then fail */

struct run {
	const struct spsc_opts *o;
	struct dag *d;
	struct rundir rd;
	struct proc *procs;	/* the coordinator first, if private */
	size_t nprocs;
	struct proc *coord;	/* NULL: the DAG's coordinator is not ours */
	int sigfd, notify_fd;
	int coord_ready;
	int64_t ready_by;
	int stopping;		/* 1: in data order; 2: at once */
	int ended;		/* every stage is down by itself */
	int failed;
	int colour;
	cJSON *dlq_before;
	long long dead;		/* dead letters this run */
	char dead_where[1024];
	char state_path[4200];
};

static char *env_entry(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *e = malloc(n);

	if (e == NULL)
		die(EXIT_FAIL, "out of memory");
	snprintf(e, n, "%s=%s", name, value);
	return e;
}

/* The DAG's env lines and then EXTRA (taken over), all owned by the
 * array: run_free frees them. */
static const char **make_env(const struct dag *d, char **extra, size_t nextra)
{
	const char **env = xcalloc(d->nenv + nextra + 1, sizeof *env);
	size_t n = 0;

	for (size_t i = 0; i < d->nenv; i++)
		env[n++] = xstrdup(d->env[i]);
	for (size_t i = 0; i < nextra; i++)
		env[n++] = extra[i];
	return env;
}

static void add_coord(struct run *r, size_t *cap)
{
	static char path[4096];
	static char *argv[5];
	char err[600], *extra[1], notify[4200];

	if (child_find("spsc-coord", path, sizeof path, err, sizeof err) < 0)
		die(EXIT_FAIL, "%s", err);
	argv[0] = path;
	argv[1] = "serve";
	argv[2] = "--home";
	argv[3] = r->rd.coord_home;
	snprintf(notify, sizeof notify, "%s/notify", r->rd.path);
	extra[0] = env_entry("NOTIFY_SOCKET", notify);
	r->coord = xpush(&r->procs, &r->nprocs, cap, sizeof *r->procs);
	proc_init(r->coord, "coord", -1, 0, argv,
		  make_env(r->d, extra, 1));
}

static void add_stages(struct run *r, size_t *cap)
{
	for (size_t s = 0; s < r->d->nstages; s++) {
		struct stage *st = &r->d->stages[s];

		for (int k = 0; k < st->replicas; k++) {
			char label[96], num[16], *extra[4];
			struct proc *p;
			size_t n = 0;

			snprintf(num, sizeof num, "%d", k);
			snprintf(label, sizeof label, "%s.%d", st->name, k);
			extra[n++] = env_entry("REPLICA", num);
			extra[n++] = env_entry("STAGE", st->name);
			extra[n++] = env_entry("SPSC_COORD", r->rd.coord_url);
			if (r->o->once)
				extra[n++] = env_entry("SPSC_ONCE", "1");
			/* the program as found on PATH, run as execv would */
			free(st->rep[k].argv[0]);
			st->rep[k].argv[0] = xstrdup(st->path);
			p = xpush(&r->procs, &r->nprocs, cap, sizeof *r->procs);
			proc_init(p, label, (int)s, k, st->rep[k].argv,
				  make_env(r->d, extra, n));
		}
	}
	if (r->coord)
		r->coord = &r->procs[0];	/* the array moved */
}

static int open_notify(struct run *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/notify",
			     r->rd.path) >= sizeof sa.sun_path) {
		log_error("%s/notify: the path is too long for a socket: set a shorter SPSC_HOME",
			  r->rd.path);
		return -1;
	}
	(void)unlink(sa.sun_path);
	r->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (r->notify_fd < 0 ||
	    bind(r->notify_fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		log_error("%s: %s", sa.sun_path, strerror(errno));
		return -1;
	}
	return 0;
}

static int open_signals(struct run *r)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (r->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		log_error("signalfd: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a subreaper: %s", strerror(errno));
	return 0;
}

static void save_state(struct run *r)
{
	runstate_write(r->state_path, r->d, r->procs, r->nprocs, r->o->once,
		       r->rd.coord_url, r->stopping);
}

/* Everything before the stages: the queues know their producers, the
 * dead letters already there are counted out, then the stages start. */
static void coord_ready(struct run *r, int64_t now)
{
	char err[600];

	r->coord_ready = 1;
	if (coordq_prepare(r->d, r->rd.coord_url) < 0) {
		r->failed = 1;
		r->stopping = 1;
		return;
	}
	r->dlq_before = coordq_status(r->rd.coord_url, NULL, err, sizeof err);
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].stage >= 0)
			proc_start(&r->procs[i], now, r->colour);
	save_state(r);
}

static void read_notify(struct run *r, int64_t now)
{
	char msg[4096];
	ssize_t n;

	while ((n = recv(r->notify_fd, msg, sizeof msg - 1, 0)) > 0) {
		msg[n] = '\0';
		if (!r->coord_ready && (strncmp(msg, "READY=1", 7) == 0 ||
					strstr(msg, "\nREADY=1")))
			coord_ready(r, now);
	}
}

/* Every replica of stage S is down (or never to start). */
static int stage_down(const struct run *r, int s)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].stage == s && !proc_down(&r->procs[i]))
			return 0;
	return 1;
}

/* Every replica of stage S has finished (exit 0 or 3). */
static int stage_finished(const struct run *r, int s)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].stage == s && r->procs[i].state != PROC_FINISHED)
			return 0;
	return 1;
}

static int stages_down(const struct run *r)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].stage >= 0 && !proc_down(&r->procs[i]))
			return 0;
	return 1;
}

/*
 * A program that is no spsc program cannot say it is done with a queue it
 * declared (out=).  When every replica of every stage that writes it has
 * finished, and no spsc program writes it, spsc seals it for them, so that
 * its readers see the end of their input.
 */
static void seal_declared(struct run *r, int stage)
{
	const struct dag *d = r->d;
	const struct stage *st = &d->stages[stage];

	if (st->spsc || !stage_down(r, stage))
		return;
	for (size_t i = 0; i < d->nqueues; i++) {
		const struct dagq *q = &d->queues[i];
		int ours = 0, all_done = 1;

		for (size_t k = 0; k < q->nwriters; k++) {
			int w = q->writers[k].stage;

			ours |= w == stage;
			all_done &= !d->stages[w].spsc && stage_finished(r, w);
		}
		if (ours && all_done && q->producers == 0 &&
		    coordq_seal(r->rd.coord_url, q->name) == 0)
			log_info("%s: sealed, its writers have finished", q->name);
	}
}

static struct proc *proc_of(struct run *r, pid_t pid)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].child.pid == pid)
			return &r->procs[i];
	return NULL;
}

static void reap(struct run *r, int64_t now)
{
	struct proc *p;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if ((p = proc_of(r, pid)) == NULL)
			continue;	/* an orphan we inherited, now gone */
		logpipe_drain(&p->log);
		proc_exited(p, st, now);
		orphans_kill(r->procs, r->nprocs);
		if (p->state == PROC_FINISHED && p->stage >= 0 && !r->stopping)
			seal_declared(r, p->stage);
		if (p == r->coord && !r->coord_ready) {
			log_error("the coordinator stopped before it was ready (%s)",
				  p->last_exit);
			p->state = PROC_FAILED;
		}
		if (p->state == PROC_FAILED && (r->o->once || p == r->coord)) {
			r->failed = 1;
			r->stopping = r->stopping ? r->stopping : 1;
		}
		save_state(r);
	}
}

static void read_signals(struct run *r, int64_t now)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			reap(r, now);
			continue;
		}
		if (r->stopping < 2) {
			r->stopping++;
			if (r->stopping == 1)
				log_info("SIG%s: stopping in data order (send it again to stop at once)",
					 sigabbrev_np((int)si.ssi_signo));
			else
				log_info("SIG%s: stopping at once",
					 sigabbrev_np((int)si.ssi_signo));
			save_state(r);
		}
	}
	reap(r, now);	/* SIGCHLDs merge: look anyway */
}

/* May stage S be stopped: is every stage that feeds it down? */
static int may_stop(const struct run *r, int s)
{
	for (size_t o = 0; o < r->d->nstages; o++)
		if ((int)o != s && dag_stage_upstream(r->d, s, (int)o) &&
		    !stage_down(r, (int)o))
			return 0;
	return 1;
}

static void terminate(struct run *r, struct proc *p, int64_t now)
{
	if (p->state == PROC_WAITING || p->state == PROC_BACKOFF) {
		p->state = PROC_STOPPED;
		return;
	}
	if (p->state != PROC_RUNNING || p->stopping)
		return;
	p->stopping = 1;
	p->due = now + r->o->stop_timeout;
	log_info("%s: stopping (SIGTERM)", p->label);
	if (child_signal(&p->child, SIGTERM) < 0)
		log_warn("%s: cannot send SIGTERM: %s", p->label, strerror(errno));
}

static void kill_now(struct proc *p)
{
	if (p->state != PROC_RUNNING || p->killed)
		return;
	p->stopping = 1;
	p->killed = 1;
	(void)child_signal(&p->child, SIGKILL);
}

/* The stop, one step: stages whose feeders are down get SIGTERM, the
 * coordinator once all stages are down, and whoever outlives its stop
 * timeout SIGKILL. */
static void stop_step(struct run *r, int64_t now)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		struct proc *p = &r->procs[i];

		if (p->stage < 0)
			continue;
		if (r->stopping == 2)
			kill_now(p);
		if (may_stop(r, p->stage))
			terminate(r, p, now);
	}
	if (r->coord && stages_down(r))
		terminate(r, r->coord, now);
	for (size_t i = 0; i < r->nprocs; i++) {
		struct proc *p = &r->procs[i];

		if (p->state == PROC_RUNNING && p->stopping && !p->killed &&
		    now >= p->due) {
			log_warn("%s: still running %.1fs after SIGTERM: killed",
				 p->label, (double)r->o->stop_timeout / 1e9);
			kill_now(p);
		}
	}
}

static void restart_due(struct run *r, int64_t now)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		struct proc *p = &r->procs[i];

		if (p->state != PROC_BACKOFF || now < p->due)
			continue;
		if (r->o->once && p->streak >= ONCE_MAX_STREAK) {
			log_error("%s: failed %d times in a row: giving up",
				  p->label, p->streak);
			p->state = PROC_FAILED;
			r->failed = 1;
			r->stopping = 1;
			continue;
		}
		proc_start(p, now, r->colour);
		save_state(r);
	}
}

/* Every stage ended by itself: count the dead letters while the
 * coordinator can still say, then stop it. */
static void ended(struct run *r)
{
	char err[600];
	cJSON *now;

	r->ended = 1;
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].state == PROC_FAILED)
			r->failed = 1;
	if ((now = coordq_status(r->rd.coord_url, NULL, err, sizeof err)) != NULL) {
		r->dead = coordq_dead_letters(r->d, r->dlq_before, now,
					      r->dead_where, sizeof r->dead_where);
		cJSON_Delete(now);
	} else {
		log_warn("cannot count the dead letters: %s", err);
	}
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].dead_letters && r->dead == 0) {
			r->dead = -1;	/* somewhere that is not a queue */
			break;
		}
	r->stopping = r->stopping ? r->stopping : 1;
}

static int64_t next_wake(const struct run *r, int64_t now)
{
	int64_t next = now + 1000000000LL;

	if (!r->coord_ready && r->ready_by < next)
		next = r->ready_by;
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct proc *p = &r->procs[i];

		if ((p->state == PROC_BACKOFF ||
		     (p->state == PROC_RUNNING && p->stopping && !p->killed)) &&
		    p->due < next)
			next = p->due;
	}
	return next > now ? next : now;
}

static int all_down(const struct run *r)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (!proc_down(&r->procs[i]) &&
		    !(r->procs[i].state == PROC_WAITING && r->stopping))
			return 0;
	return 1;
}

static void tick(struct run *r, int64_t now)
{
	if (!r->coord_ready && now >= r->ready_by && !r->stopping) {
		log_error("the coordinator did not say it was ready within %d s",
			  (int)(READY_TIMEOUT_NS / 1000000000LL));
		r->failed = 1;
		r->stopping = 1;
	}
	if (!r->stopping)
		restart_due(r, now);
	if (r->coord_ready && !r->stopping && stages_down(r))
		ended(r);
	if (r->stopping)
		stop_step(r, now);
}

static void loop(struct run *r)
{
	struct pollfd *pf = xcalloc(r->nprocs + 2, sizeof *pf);

	for (;;) {
		int64_t now = mono_ns();
		size_t n = 0;

		tick(r, now);
		if (all_down(r))
			break;
		pf[n++] = (struct pollfd){ r->sigfd, POLLIN, 0 };
		pf[n++] = (struct pollfd){ r->notify_fd, POLLIN, 0 };
		for (size_t i = 0; i < r->nprocs; i++)
			if (r->procs[i].log.fd >= 0)
				pf[n++] = (struct pollfd){ r->procs[i].log.fd,
							   POLLIN, 0 };
		if (poll(pf, n, (int)((next_wake(r, now) - now) / 1000000) + 1) < 0 &&
		    errno != EINTR)
			die(EXIT_FAIL, "poll: %s", strerror(errno));
		now = mono_ns();
		for (size_t i = 0; i < r->nprocs; i++)
			if (r->procs[i].log.fd >= 0)
				(void)logpipe_read(&r->procs[i].log);
		if (r->notify_fd >= 0)
			read_notify(r, now);
		read_signals(r, now);
	}
	free(pf);
}

static int verdict(struct run *r)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].killed)
			r->failed = 1;
	if (r->failed)
		return EXIT_FAIL;
	if (r->ended && r->dead > 0) {
		log_warn("%lld atoms were dead-lettered in this run: %s (see spsc-coord peek and redrive)",
			 r->dead, r->dead_where);
		return EXIT_DEAD;
	}
	if (r->ended && r->dead < 0) {
		log_warn("events were dead-lettered in this run (a stage exited 3): see the stages' dead-letter outputs");
		return EXIT_DEAD;
	}
	return EXIT_OK;
}

static int start(struct run *r)
{
	size_t cap = 0;
	char err[600];

	if (rundir_open(&r->rd, r->d, err, sizeof err) < 0) {
		log_error("%s", err);
		return EXIT_FAIL;
	}
	if (rundir_lock(&r->rd, err, sizeof err) < 0) {
		pid_t owner = rundir_owner(&r->rd);

		if (errno != EWOULDBLOCK) {
			log_error("%s", err);
			return EXIT_FAIL;
		}
		log_error("%s: the DAG %s is already running (pid %ld): nothing done",
			  r->d->path, r->d->name, (long)owner);
		return EXIT_RUNNING;
	}
	(void)rundir_file(&r->rd, "state.json", r->state_path,
			  sizeof r->state_path);
	if (open_signals(r) < 0)
		return EXIT_FAIL;
	r->notify_fd = -1;
	if (r->rd.private_coord) {
		if (open_notify(r) < 0)
			return EXIT_FAIL;
		add_coord(r, &cap);
	}
	add_stages(r, &cap);
	return EXIT_OK;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		for (const char **e = r->procs[i].env; e && *e; e++)
			free((char *)*e);
		free(r->procs[i].env);
	}
	free(r->procs);
	cJSON_Delete(r->dlq_before);
	if (r->sigfd >= 0)
		close(r->sigfd);
	if (r->notify_fd >= 0)
		close(r->notify_fd);
	if (r->rd.lock_fd >= 0)
		close(r->rd.lock_fd);	/* the last thing: the DAG is free */
}

int run_main(const struct spsc_opts *o, const char *path)
{
	struct run r = { .o = o, .sigfd = -1, .notify_fd = -1 };
	struct dag d;
	struct diag dg;
	int rc;

	if (spsc_load(&d, &dg, path, 0) < 0) {
		dag_free(&d);
		return EXIT_FAIL;
	}
	r.d = &d;
	r.colour = isatty(STDERR_FILENO) && !(getenv("NO_COLOR") &&
					      *getenv("NO_COLOR"));
	r.rd.lock_fd = -1;
	if ((rc = start(&r)) == EXIT_OK) {
		r.ready_by = mono_ns() + READY_TIMEOUT_NS;
		if (r.coord)
			proc_start(r.coord, mono_ns(), r.colour);
		else
			coord_ready(&r, mono_ns());
		loop(&r);
		rc = verdict(&r);
		save_state(&r);
	}
	run_free(&r);
	dag_free(&d);
	return rc;
}
