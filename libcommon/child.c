#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "fdio.h"
#include "units.h"

extern char **environ;

void child_init(struct child *c)
{
	memset(c, 0, sizeof *c);
	c->pid = -1;
	c->in = c->out = c->err = c->pidfd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

/*
 * A pipe whose ends are both above stderr.  If one of our own standard fds
 * was closed, pipe2 could hand it out, and the dup2 actions that set up the
 * child's 0, 1 and 2 would then overwrite one pipe end with another.
 */
static int make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (p[i] <= STDERR_FILENO) {
			int fd = fcntl(p[i], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
			if (fd < 0) {
				close_fd(&p[0]);
				close_fd(&p[1]);
				return -1;
			}
			(void)close(p[i]);
			p[i] = fd;
		}
	}
	return 0;
}

static size_t env_name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');

	return eq ? (size_t)(eq - entry) : strlen(entry);
}

static int env_overridden(const char *entry, const char *const *extra)
{
	size_t n = env_name_len(entry);

	for (; extra && *extra; extra++)
		if (env_name_len(*extra) == n && strncmp(entry, *extra, n) == 0)
			return 1;
	return 0;
}

/* Our environment with the extra entries replacing any of the same name.
 * Only the pointer array is new; the strings stay where they are. */
static char **env_merge(const char *const *extra)
{
	size_t n = 0, k = 0;
	char **env;

	for (char **e = environ; e && *e; e++)
		n++;
	for (const char *const *x = extra; x && *x; x++)
		n++;
	env = malloc((n + 1) * sizeof *env);
	if (env == NULL)
		return NULL;
	for (char **e = environ; e && *e; e++)
		if (!env_overridden(*e, extra))
			env[k++] = *e;
	for (const char *const *x = extra; x && *x; x++)
		env[k++] = (char *)*x;
	env[k] = NULL;
	return env;
}

/*
 * What the child needs, made ready by the parent: after vfork the child may
 * only make system calls (async-signal-safe ones), no malloc, no locks.
 * The child shares our memory until it execs or exits, so it reports why it
 * could not get there in err, which we read once vfork returns.
 */
struct spawn_args {
	const char *path;	/* the file to run, or NULL: search */
	const char *search;	/* $PATH, for path NULL */
	char *const *argv;
	char *const *envp;
	int in, out, err_fd;	/* onto 0, 1 and 2 (err_fd -1: keep ours) */
	pid_t parent;		/* our pid, to see whether we died already */
	volatile int err;	/* the child's errno; 0: it reached exec */
};

/* execve for each directory of a->search, as posix_spawnp (and execvp,
 * but for its /bin/sh fallback on ENOEXEC) does: EACCES anywhere wins
 * over ENOENT; another error ends the search.  Returns with errno set. */
static void exec_search(const struct spawn_args *a)
{
	const char *file = a->argv[0], *p = a->search, *colon;
	size_t flen = strlen(file);
	int eacces = 0;
	char buf[4096];

	if (strchr(file, '/')) {
		execve(file, a->argv, a->envp);
		return;
	}
	for (; p; p = colon ? colon + 1 : NULL) {
		size_t dl;
		colon = strchr(p, ':');
		dl = colon ? (size_t)(colon - p) : strlen(p);
		if (dl + flen + 3 > sizeof buf)
			continue;
		if (dl == 0)	/* an empty entry is the current directory */
			buf[dl++] = '.';
		else
			memcpy(buf, p, dl);
		buf[dl] = '/';
		memcpy(buf + dl + 1, file, flen + 1);
		execve(buf, a->argv, a->envp);
		switch (errno) {
		case EACCES:
			eacces = 1;
			break;
		case ENOENT: case ENOTDIR: case ESTALE: case ENODEV:
		case ETIMEDOUT:
			break;
		default:
			return;
		}
	}
	errno = eacces ? EACCES : ENOENT;
}

/*
 * The child, between vfork and exec.  It dies with us: PR_SET_PDEATHSIG
 * sends it SIGKILL when we die (even by kill -9), and getppid() afterwards
 * catches a death before the prctl.  Then what the command gets: a process
 * group of its own, its three standard fds and nothing else open, SIGPIPE
 * (which our programs ignore) back to its default, and an empty signal
 * mask.  Every signal is blocked when it starts (see spawn_vfork); our
 * handlers are reset before the mask is cleared, so that a signal arriving
 * now cannot run one of them in this copy, which shares our memory.
 *
 * The death signal is tied to the thread that forked, not the process: it
 * fires when that thread ends.  Our programs spawn from their main thread,
 * which lives as long as they do; spawning from a short-lived thread would
 * kill the children when it exits.
 */
static _Noreturn void spawn_child(struct spawn_args *a)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		goto fail;
	if (getppid() != a->parent)
		_exit(127);	/* orphaned already: nobody wants the output */
	if (setpgid(0, 0) < 0)
		goto fail;
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;
		if (sig == SIGPIPE ||
		    (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_IGN &&
		     old.sa_handler != SIG_DFL))
			(void)sigaction(sig, &dfl, NULL);
	}
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		goto fail;
	if (dup2(a->in, STDIN_FILENO) < 0 ||
	    (a->out >= 0 && dup2(a->out, STDOUT_FILENO) < 0) ||
	    (a->err_fd >= 0 && dup2(a->err_fd, STDERR_FILENO) < 0))
		goto fail;
	/* Where the kernel has no close_range (before 5.9), every fd our
	 * programs open is close-on-exec anyway. */
#ifdef SYS_close_range
	(void)syscall(SYS_close_range, STDERR_FILENO + 1, ~0U, 0);
#endif
	if (a->path)
		execve(a->path, a->argv, a->envp);
	else
		exec_search(a);
fail:
	a->err = errno ? errno : EINVAL;
	_exit(127);
}

/* Kept apart, and small, so that the frame vfork returns into twice holds
 * nothing the child could clobber for us. */
static __attribute__((noinline)) pid_t do_vfork(struct spawn_args *a)
{
	pid_t pid = vfork();

	if (pid == 0)
		spawn_child(a);
	return pid;
}

/*
 * Starts a->argv: vfork, so a child costs no copy of our memory whatever
 * our size (spsc-op may start one per atom); we are suspended until it
 * execs or exits.  Every signal is blocked around it, so none reaches the
 * child before it has reset our handlers.  Returns the pid, or -1 with
 * errno set, the child (if any) reaped.
 */
static pid_t spawn_vfork(struct spawn_args *a)
{
	sigset_t all, old;
	pid_t pid;
	int saved;

	sigfillset(&all);
	if ((errno = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
		return -1;
	a->err = 0;
	pid = do_vfork(a);
	saved = pid < 0 ? errno : a->err;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid > 0 && saved != 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		pid = -1;
	}
	errno = saved;
	return pid;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* stdin from /dev/null: in[0] for the child, no end for us. */
static int null_input(int in[2])
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	in[1] = -1;
	in[0] = fd;
	if (fd >= 0 && fd <= STDERR_FILENO) {	/* as in make_pipe */
		in[0] = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		(void)close(fd);
	}
	return in[0] < 0 ? -1 : 0;
}

/* The parent's ends: non-blocking for the poll loop, and big, so that a
 * whole atom usually goes through in one write. */
static int prepare_parent_end(int fd)
{
	fd_grow_pipe(fd);
	return fd_set_nonblock(fd, 1);
}

/*
 * Starts o->argv.  Returns 0, or -1 with errno set and a message in err; an
 * exec failure (ENOENT, EACCES) is reported here, not as an exit status,
 * because the child tells us before vfork returns.
 */
int child_spawn(struct child *c, const struct child_opts *o, char *err,
		size_t errlen)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, ep[2] = { -1, -1 };
	struct spawn_args a;
	char **envp = NULL;
	int rc, saved;

	child_init(c);
	if ((o->stdin_null ? null_input(in) : make_pipe(in)) < 0 ||
	    (!o->stdout_inherit && make_pipe(out) < 0) ||
	    (o->capture_stderr && make_pipe(ep) < 0)) {
		rc = errno;
		goto fail;
	}
	if ((envp = env_merge(o->env)) == NULL) {
		rc = ENOMEM;
		goto fail;
	}
	a = (struct spawn_args){
		.path = o->path,
		.search = getenv("PATH") ? getenv("PATH") : "/bin:/usr/bin",
		.argv = o->argv,
		.envp = envp,
		.in = in[0], .out = out[1], .err_fd = ep[1],
		.parent = getpid(),
	};
	if ((c->pid = spawn_vfork(&a)) < 0) {
		rc = errno;
		c->pid = -1;
		goto fail;
	}
	free(envp);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&ep[1]);
	c->in = in[1];
	c->out = out[0];
	c->err = ep[0];
	c->pidfd = open_pidfd(c->pid);
	if ((c->in >= 0 && prepare_parent_end(c->in) < 0) ||
	    (c->out >= 0 && prepare_parent_end(c->out) < 0) ||
	    (c->err >= 0 && prepare_parent_end(c->err) < 0)) {
		saved = errno;
		snprintf(err, errlen, "%s: cannot set up pipes: %s",
			 o->argv[0], strerror(saved));
		(void)child_stop(c, 0);
		errno = saved;
		return -1;
	}
	return 0;
fail:
	free(envp);
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&ep[i]);
	}
	snprintf(err, errlen, "%s: %s", o->argv[0],
		 rc == ENOENT ? "command not found" : strerror(rc));
	errno = rc;
	return -1;
}

static int check_file(const char *path, int *why)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		*why = errno;
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		*why = EISDIR;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
		*why = EACCES;
		return -1;
	}
	return 0;
}

/*
 * Whether cmd can be run, found the way execvp finds it; its path goes to
 * path (when not NULL) so that a program starting it many times searches
 * $PATH once.  This also lets a program refuse a misspelt command before it
 * consumes any input, rather than failing every atom.  0, or -1 with a
 * message in err.
 */
int child_find(const char *cmd, char *path, size_t pathlen, char *err,
	       size_t errlen)
{
	const char *dirs = getenv("PATH"), *p, *colon;
	char full[4096];
	int why = ENOENT, w;

	if (*cmd == '\0') {
		snprintf(err, errlen, "empty command name");
		return -1;
	}
	if (strchr(cmd, '/')) {
		if (check_file(cmd, &why) < 0) {
			snprintf(err, errlen, "%s: %s", cmd, strerror(why));
			return -1;
		}
		if (path && (size_t)snprintf(path, pathlen, "%s", cmd) >= pathlen)
			goto too_long;
		return 0;
	}
	for (p = dirs ? dirs : "/bin:/usr/bin"; p; p = colon ? colon + 1 : NULL) {
		size_t dl;
		colon = strchr(p, ':');
		dl = colon ? (size_t)(colon - p) : strlen(p);
		if ((size_t)snprintf(full, sizeof full, "%.*s/%s", (int)dl,
				     dl ? p : ".", cmd) >= sizeof full)
			continue;
		if (check_file(full, &w) == 0) {
			if (path && (size_t)snprintf(path, pathlen, "%s", full) >= pathlen)
				goto too_long;
			return 0;
		}
		if (w == EACCES)
			why = EACCES;
	}
	if (why == EACCES)
		snprintf(err, errlen, "%s: %s", cmd, strerror(EACCES));
	else
		snprintf(err, errlen, "%s: command not found", cmd);
	return -1;
too_long:
	snprintf(err, errlen, "%s: %s", cmd, strerror(ENAMETOOLONG));
	return -1;
}

/* timeout 0 means none: the child may run for as long as it likes. */
void child_set_deadline(struct child *c, int64_t now, int64_t timeout,
			int64_t grace)
{
	c->timeout = timeout;
	c->grace = grace;
	c->stage = CHILD_RUNNING;
	c->timed_out = 0;
	c->deadline = timeout > 0 ? now + timeout : 0;
}

/* Ends the child early, for a reason of the caller's: SIGTERM to its group
 * now, SIGKILL after the grace period (through child_tick). */
void child_terminate(struct child *c, int64_t now)
{
	if (c->stage != CHILD_RUNNING)
		return;
	(void)child_signal(c, SIGTERM);
	c->stage = CHILD_TERMED;
	c->deadline = now + c->grace;
}

/*
 * The child, or what is left of its group once it is reaped (a background
 * job, a pipeline stage), gets at most ns more; then child_tick ends it:
 * SIGTERM then SIGKILL while the child runs, SIGKILL for leftovers.
 */
void child_linger(struct child *c, int64_t now, int64_t ns)
{
	if (c->stage == CHILD_KILLED)
		return;
	if (c->deadline == 0 || now + ns < c->deadline)
		c->deadline = now + ns;
}

/*
 * Carries out what is due at now and returns when it next needs to be
 * called (CHILD_NEVER: no more steps).  Past the deadline a running child's
 * group gets SIGTERM and, grace later, SIGKILL.  Once the child is reaped
 * only SIGKILL remains, for whatever it left behind.
 */
int64_t child_tick(struct child *c, int64_t now)
{
	if (c->deadline == 0 || c->pid < 0)
		return CHILD_NEVER;
	if (now < c->deadline)
		return c->deadline;
	if (c->stage == CHILD_RUNNING && !c->reaped) {
		c->timed_out = 1;
		c->stage = CHILD_TERMED;
		(void)child_signal(c, SIGTERM);
		c->deadline = now + c->grace;
		return c->deadline;
	}
	c->stage = CHILD_KILLED;
	(void)child_signal(c, SIGKILL);
	c->deadline = 0;
	return CHILD_NEVER;
}

/*
 * Signals the child's whole process group.  The group id stays reserved
 * while any member lives, even after the leader is reaped, so this can never
 * reach an unrelated process.  A group that is gone is not an error.
 */
int child_signal(struct child *c, int sig)
{
	if (c->pid <= 0)
		return 0;
	if (kill(-c->pid, sig) == 0 || errno == ESRCH)
		return 0;
	return -1;
}

/* 1 once reaped (c->status is valid), 0 if it still runs (only when !block),
 * -1 on error. */
int child_reap(struct child *c, int block)
{
	pid_t r;
	int st;

	if (c->reaped)
		return 1;
	if (c->pid <= 0) {
		errno = ECHILD;
		return -1;
	}
	do
		r = waitpid(c->pid, &st, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	c->reaped = 1;
	c->status = st;
	close_fd(&c->pidfd);
	return 1;
}

/* Waits up to ns for the child to exit; 1 if it did. */
static int wait_exit(struct child *c, int64_t ns)
{
	int64_t end = mono_ns() + ns;

	for (;;) {
		int64_t left = end - mono_ns();
		int rc = child_reap(c, 0);
		if (rc != 0)
			return rc > 0;
		if (left <= 0)
			return 0;
		if (c->pidfd >= 0) {
			struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
			(void)poll(&p, 1, (int)(left / NS_PER_MS) + 1);
		} else {
			/* No pidfd (old kernel): a short, bounded nap. */
			struct timespec ts = { 0, 10 * NS_PER_MS };
			(void)nanosleep(&ts, NULL);
		}
	}
}

/*
 * Ends a child now, blocking: its group gets SIGTERM, then SIGKILL after
 * grace; it is reaped and its pipes are closed.  For abandoning a child
 * (shutdown, errors); the poll loop uses child_tick instead.
 */
int child_stop(struct child *c, int64_t grace)
{
	int rc = 0;

	if (c->pid > 0 && !c->reaped) {
		(void)child_signal(c, SIGTERM);
		if (!wait_exit(c, grace)) {
			(void)child_signal(c, SIGKILL);
			rc = child_reap(c, 1) < 0 ? -1 : 0;
		}
	}
	if (c->pid > 0)
		(void)child_signal(c, SIGKILL);
	child_close(c);
	return rc;
}

void child_close_in(struct child *c)
{
	close_fd(&c->in);
}

/* Closes our ends; the child itself is left alone (see child_stop). */
void child_close(struct child *c)
{
	close_fd(&c->in);
	close_fd(&c->out);
	close_fd(&c->err);
	close_fd(&c->pidfd);
}

int child_succeeded(const struct child *c)
{
	return c->reaped && !c->timed_out && WIFEXITED(c->status) &&
	       WEXITSTATUS(c->status) == 0;
}

/* "2s", "500ms", "1.5s": the way a user would have typed it. */
static void say_duration(int64_t ns, char *buf, size_t len)
{
	if (ns % NS_PER_SEC == 0)
		snprintf(buf, len, "%llds", (long long)(ns / NS_PER_SEC));
	else if (ns % NS_PER_MS == 0 && ns < NS_PER_SEC)
		snprintf(buf, len, "%lldms", (long long)(ns / NS_PER_MS));
	else
		snprintf(buf, len, "%.3gs", (double)ns / 1e9);
}

/* "exit status 3", "killed by signal 9 (Killed)", "timed out after 2s". */
void child_describe(const struct child *c, char *buf, size_t len)
{
	char d[32];

	if (c->timed_out) {
		say_duration(c->timeout, d, sizeof d);
		snprintf(buf, len, "timed out after %s", d);
	} else if (!c->reaped) {
		snprintf(buf, len, "still running");
	} else if (WIFEXITED(c->status)) {
		snprintf(buf, len, "exit status %d", WEXITSTATUS(c->status));
	} else if (WIFSIGNALED(c->status)) {
		snprintf(buf, len, "killed by signal %d (%s)",
			 WTERMSIG(c->status), strsignal(WTERMSIG(c->status)));
	} else {
		snprintf(buf, len, "wait status %#x", c->status);
	}
}
