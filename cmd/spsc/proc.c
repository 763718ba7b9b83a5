/*
 * proc: starting a supervised process and judging how it ended.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>

#include "log.h"
#include "proc.h"
#include "units.h"

void proc_init(struct proc *p, const char *label, int stage, int replica,
	       char *const *argv, const char **env)
{
	memset(p, 0, sizeof *p);
	snprintf(p->label, sizeof p->label, "%s", label);
	p->stage = stage;
	p->replica = replica;
	p->argv = argv;
	p->env = env;
	p->state = PROC_WAITING;
	p->backoff = PROC_BACKOFF_MIN_NS;
	p->log.fd = -1;
	child_init(&p->child);
}

static void restart_later(struct proc *p, int64_t now);

int proc_start(struct proc *p, int64_t now, int colour)
{
	struct child_opts o = {
		.path = p->argv[0], .argv = p->argv, .env = p->env,
		.capture_stderr = 1, .stdin_null = 1, .stdout_inherit = 1,
	};
	char err[600];

	p->stopping = 0;
	p->started = now;
	p->started_wall = wall_ns();
	if (child_spawn(&p->child, &o, err, sizeof err) < 0) {
		snprintf(p->last_exit, sizeof p->last_exit, "%s", err);
		restart_later(p, now);
		return -1;
	}
	logpipe_init(&p->log, p->child.err, p->label, colour);
	p->child.err = -1;	/* the logpipe owns it now */
	p->state = PROC_RUNNING;
	log_info("%s: started (pid %ld)", p->label, (long)p->child.pid);
	return 0;
}

/* The next delay: the current one less up to a quarter, at random. */
static int64_t jittered(int64_t base)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint32_t)mono_ns();
	return base - (int64_t)((double)base / 4 * (r / 4294967296.0));
}

/* Failed: start again after the backoff, which then doubles. */
static void restart_later(struct proc *p, int64_t now)
{
	if (now - p->started >= PROC_STABLE_NS) {
		p->backoff = PROC_BACKOFF_MIN_NS;
		p->streak = 0;
	}
	p->streak++;
	p->due = now + jittered(p->backoff);
	p->restarts++;
	log_warn("%s: %s; restart %d in %.1fs", p->label, p->last_exit,
		 p->restarts, (double)(p->due - now) / 1e9);
	p->state = PROC_BACKOFF;
	p->backoff = p->backoff * 2 > PROC_BACKOFF_MAX_NS ? PROC_BACKOFF_MAX_NS
							 : p->backoff * 2;
}

static void describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "wait status %#x", status);
}

/*
 * The process is gone with wait status STATUS: finished, failed for good,
 * stopped (when we asked it to), or to be started again after a backoff.
 */
void proc_exited(struct proc *p, int status, int64_t now)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	p->child.reaped = 1;
	p->child.status = status;
	child_close(&p->child);
	p->child.pid = -1;
	describe(status, p->last_exit, sizeof p->last_exit);
	if (code == 0 || code == 3) {
		p->state = PROC_FINISHED;
		p->dead_letters = code == 3;
		log_info("%s: %s%s", p->label, p->stopping ? "stopped" : "finished",
			 code == 3 ? " (exit status 3: with dead letters)" : "");
		return;
	}
	if (p->stopping) {
		p->state = PROC_STOPPED;
		log_info("%s: stopped (%s)", p->label, p->last_exit);
		return;
	}
	if (code == 2) {
		p->state = PROC_FAILED;
		log_error("%s: %s (a usage error): not restarted", p->label,
			  p->last_exit);
		return;
	}
	restart_later(p, now);
}

/* Not running, and not coming back by itself. */
int proc_down(const struct proc *p)
{
	return p->state == PROC_FINISHED || p->state == PROC_FAILED ||
	       p->state == PROC_STOPPED;
}

const char *proc_state_name(enum proc_state s)
{
	static const char *names[] = { "waiting", "running", "backoff",
				       "finished", "failed", "stopped" };

	return names[s];
}
