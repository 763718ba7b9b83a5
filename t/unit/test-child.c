/* Child processes: pipes, environment, exit statuses, deadlines (TERM, then
 * KILL, to the whole group), no fd leaks, no zombies, and no child left
 * running when its parent dies. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "fdio.h"
#include "tap.h"
#include "units.h"

#define MS NS_PER_MS

/* What a run produced: its stdout (up to a bound) and how it ended. */
struct run {
	char out[1 << 16];
	size_t len;
	size_t total;
	char desc[300];
	int spawned;
};

static int pump_in(struct child *c, const char *in, size_t inlen, size_t *off)
{
	ssize_t n = write(c->in, in + *off, inlen - *off);

	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	*off += (size_t)n;
	if (*off == inlen)
		child_close_in(c);
	return 0;
}

static void pump_out(struct child *c, struct run *r)
{
	char buf[65536];
	ssize_t n = read(c->out, buf, sizeof buf);

	if (n == 0) {
		(void)close(c->out);
		c->out = -1;
		return;
	}
	if (n < 0)
		return;
	r->total += (size_t)n;
	if ((size_t)n > sizeof r->out - 1 - r->len)
		n = (ssize_t)(sizeof r->out - 1 - r->len);
	memcpy(r->out + r->len, buf, (size_t)n);
	r->len += (size_t)n;
	r->out[r->len] = '\0';
}

/*
 * The loop an operator runs, in miniature: feed stdin and drain stdout
 * concurrently, tick the deadline, reap through the pidfd.  Bounded: it
 * gives up after 20 s whatever happens.
 */
static void drive(struct child *c, const char *in, size_t inlen,
		  int64_t timeout, int64_t grace, struct run *r)
{
	int64_t start = mono_ns(), now = start, next;
	size_t off = 0;

	child_set_deadline(c, now, timeout, grace);
	if (inlen == 0)
		child_close_in(c);
	while ((!c->reaped || c->out >= 0) && now - start < 20 * NS_PER_SEC) {
		struct pollfd p[3];
		int n = 0, wait_ms;

		next = child_tick(c, now);
		wait_ms = next == CHILD_NEVER ? 1000 :
			  (int)((next - now) / MS) + 1;
		if (c->in >= 0)
			p[n++] = (struct pollfd){ c->in, POLLOUT, 0 };
		if (c->out >= 0)
			p[n++] = (struct pollfd){ c->out, POLLIN, 0 };
		if (c->pidfd >= 0 && !c->reaped)
			p[n++] = (struct pollfd){ c->pidfd, POLLIN, 0 };
		(void)poll(p, (nfds_t)n, wait_ms);
		if (c->in >= 0 && pump_in(c, in, inlen, &off) < 0)
			child_close_in(c);
		if (c->out >= 0)
			pump_out(c, r);
		if (!c->reaped)
			(void)child_reap(c, 0);
		now = mono_ns();
	}
	child_describe(c, r->desc, sizeof r->desc);
	child_close(c);
}

static int run_argv(char *const argv[], const char *const *env,
		    const char *in, int64_t timeout, int64_t grace,
		    struct run *r)
{
	struct child_opts o = { .argv = argv, .env = env };
	struct child c;
	char err[256];

	memset(r, 0, sizeof *r);
	if (child_spawn(&c, &o, err, sizeof err) < 0) {
		snprintf(r->desc, sizeof r->desc, "%s", err);
		return -1;
	}
	r->spawned = 1;
	drive(&c, in, in ? strlen(in) : 0, timeout, grace, r);
	return 0;
}

static int run_sh(const char *script, const char *in, int64_t timeout,
		  int64_t grace, struct run *r)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };

	return run_argv(argv, NULL, in, timeout, grace, r);
}

static void test_pipes(void)
{
	char *cat[] = { "cat", NULL };
	struct run r;

	run_argv(cat, NULL, "one\ntwo\n", 0, 0, &r);
	ok(strcmp(r.out, "one\ntwo\n") == 0, "cat echoes its stdin");
	ok(strcmp(r.desc, "exit status 0") == 0, "clean exit described: %s",
	   r.desc);
}

/* Far more than any pipe holds, both ways at once: only a loop that
 * writes and reads concurrently gets through without deadlock. */
static void test_huge(void)
{
	size_t n = 8 << 20;
	char *big = malloc(n + 1);
	char *cat[] = { "cat", NULL };
	struct run *r = malloc(sizeof *r);

	for (size_t i = 0; i < n; i++)
		big[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
	big[n] = '\0';
	run_argv(cat, NULL, big, 10 * NS_PER_SEC, 0, r);
	ok(r->total == n, "8 MiB through cat both ways: %zu bytes back",
	   r->total);
	free(big);
	free(r);
}

static void test_status(void)
{
	struct run r;

	run_sh("exit 3", NULL, 0, 0, &r);
	ok(strcmp(r.desc, "exit status 3") == 0, "exit status: %s", r.desc);
	run_sh("kill -9 $$", NULL, 0, 0, &r);
	ok(strcmp(r.desc, "killed by signal 9 (Killed)") == 0, "signal: %s",
	   r.desc);
	run_sh("head -c 1 >/dev/null; echo done", "abcdef\n", 0, 0, &r);
	ok(strcmp(r.out, "done\n") == 0 &&
	   strcmp(r.desc, "exit status 0") == 0,
	   "a child that stops reading early: %s", r.desc);
}

static void test_env(void)
{
	const char *env[] = { "SPSC_TEST_A=alpha", "HOME=/elsewhere", NULL };
	char *argv[] = { "sh", "-c", "echo \"$SPSC_TEST_A $HOME $PATH\"", NULL };
	char want[4096];
	struct run r;

	run_argv(argv, env, NULL, 0, 0, &r);
	snprintf(want, sizeof want, "alpha /elsewhere %s\n", getenv("PATH"));
	ok(strcmp(r.out, want) == 0, "extra variables added and replaced");
	ok(getenv("SPSC_TEST_A") == NULL, "our own environment is untouched");
}

static void test_timeout(void)
{
	int64_t t0 = mono_ns(), took;
	struct run r;

	run_sh("sleep 10", NULL, 200 * MS, 200 * MS, &r);
	took = mono_ns() - t0;
	ok(strcmp(r.desc, "timed out after 200ms") == 0, "timeout: %s",
	   r.desc);
	ok(took < 2 * NS_PER_SEC, "SIGTERM ended it promptly (%lld ms)",
	   (long long)(took / MS));

	/* A child that ignores SIGTERM needs the SIGKILL after the grace. */
	t0 = mono_ns();
	run_sh("trap '' TERM; echo ready; while :; do sleep 1; done", NULL,
	       200 * MS, 300 * MS, &r);
	took = mono_ns() - t0;
	ok(strcmp(r.out, "ready\n") == 0 &&
	   strcmp(r.desc, "timed out after 200ms") == 0,
	   "TERM ignored: %s", r.desc);
	ok(took >= 450 * MS && took < 5 * NS_PER_SEC,
	   "SIGKILL came after the grace period (%lld ms)",
	   (long long)(took / MS));
}

/* The deadline reaches the whole tree: a background grandchild dies too.
 * We are a subreaper here, so the orphan comes back to us to be reaped and
 * we can tell for certain that it died, and of what. */
static void test_group(void)
{
	struct run r;
	pid_t g;
	int st = 0, rc;

	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	run_sh("sleep 30 & echo $!; sleep 30", NULL, 200 * MS, 200 * MS, &r);
	g = (pid_t)atoi(r.out);
	ok(g > 0, "grandchild pid %d reported", (int)g);
	do
		rc = waitpid(g, &st, 0);
	while (rc < 0 && errno == EINTR);
	/* It must be gone, killed by our signal (it would sleep 30 s).  TERM
	 * normally does it; on a loaded machine the group's KILL after the
	 * grace may land first, or sh may reap it before it dies itself, and
	 * then only its absence can be seen (ECHILD, and kill finds nothing). */
	if (rc < 0 && errno == ECHILD)
		ok(kill(g, 0) < 0 && errno == ESRCH,
		   "the grandchild was killed with its group (reaped by sh)");
	else
		ok(rc == g && WIFSIGNALED(st) &&
			   (WTERMSIG(st) == SIGTERM || WTERMSIG(st) == SIGKILL),
		   "the grandchild was killed with its group (%s)",
		   rc != g ? strerror(errno) : WIFSIGNALED(st) ? strsignal(WTERMSIG(st))
				: "it exited");
	/* The foreground sleep was orphaned to us as well. */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	(void)prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* The child's own view of itself, from /proc. */
static void test_child_state(void)
{
	char *stat[] = { "cat", "/proc/self/stat", NULL };
	char *status[] = { "cat", "/proc/self/status", NULL };
	char *fds[] = { "ls", "/proc/self/fd", NULL };
	unsigned long long ign = ~0ULL, blk = ~0ULL;
	int leak = open("/dev/null", O_RDONLY); /* not close-on-exec */
	struct run r;
	char *p;
	int pid = 0, pgrp = -1;

	run_argv(stat, NULL, NULL, 0, 0, &r);
	p = strrchr(r.out, ')');
	pid = atoi(r.out);
	ok(p && sscanf(p, ") %*c %*d %d", &pgrp) == 1 && pgrp == pid,
	   "the child leads its own process group (pid %d, pgrp %d)", pid,
	   pgrp);

	run_argv(status, NULL, NULL, 0, 0, &r);
	if ((p = strstr(r.out, "SigIgn:")))
		ign = strtoull(p + 7, NULL, 16);
	if ((p = strstr(r.out, "SigBlk:")))
		blk = strtoull(p + 7, NULL, 16);
	ok(!(ign & (1ULL << (SIGPIPE - 1))),
	   "SIGPIPE is back to default in the child");
	ok(blk == 0, "the child's signal mask is empty");

	run_argv(fds, NULL, NULL, 0, 0, &r);
	ok(strcmp(r.out, "0\n1\n2\n3\n") == 0,
	   "only 0, 1, 2 (and ls's own 3) are open in the child");
	(void)close(leak);
}

static void test_not_found(void)
{
	char *nope[] = { "spsc-no-such-command", NULL };
	char err[256], path[4096] = "";
	struct run r;

	ok(run_argv(nope, NULL, NULL, 0, 0, &r) < 0 &&
	   strcmp(r.desc, "spsc-no-such-command: command not found") == 0,
	   "spawning a missing command fails at once: %s", r.desc);
	ok(child_find("sh", path, sizeof path, err, sizeof err) == 0 &&
	   strcmp(path + strlen(path) - 3, "/sh") == 0 && access(path, X_OK) == 0,
	   "sh is found in PATH: %s", path);
	ok(child_find("spsc-no-such-command", NULL, 0, err, sizeof err) < 0 &&
	   strcmp(err, "spsc-no-such-command: command not found") == 0,
	   "a missing command is named: %s", err);
	ok(child_find("/etc/passwd", NULL, 0, err, sizeof err) < 0 &&
	   strcmp(err, "/etc/passwd: Permission denied") == 0,
	   "a file without x permission: %s", err);
	ok(child_find("/", NULL, 0, err, sizeof err) < 0 &&
	   strcmp(err, "/: Is a directory") == 0, "a directory: %s", err);
	ok(child_find("/bin/sh", NULL, 0, err, sizeof err) == 0, "a path that works");
}

static void test_stop(void)
{
	char *argv[] = { "sleep", "30", NULL };
	struct child_opts o = { .argv = argv };
	struct child c;
	char err[256], desc[128];

	ok(child_spawn(&c, &o, err, sizeof err) == 0, "spawn sleep");
	ok(child_stop(&c, 100 * MS) == 0 && c.reaped, "child_stop reaps");
	child_describe(&c, desc, sizeof desc);
	ok(strcmp(desc, "killed by signal 15 (Terminated)") == 0,
	   "stopped: %s", desc);
	ok(c.in < 0 && c.out < 0 && c.pidfd < 0, "and closes every fd");
}

static void test_stderr(void)
{
	char *argv[] = { "sh", "-c", "echo oops >&2", NULL };
	struct child_opts o = { .argv = argv, .capture_stderr = 1 };
	struct child c;
	char err[256], buf[64] = "";
	struct pollfd p;
	ssize_t n = -1;

	ok(child_spawn(&c, &o, err, sizeof err) == 0 && c.err >= 0,
	   "stderr captured in a pipe");
	p = (struct pollfd){ c.err, POLLIN, 0 };
	if (poll(&p, 1, 5000) == 1)
		n = read(c.err, buf, sizeof buf - 1);
	ok(n == 5 && memcmp(buf, "oops\n", 5) == 0, "stderr read back");
	(void)child_reap(&c, 1);
	child_close(&c);
}

/* $PATH is searched as execvp does: a file found without execute
 * permission is named as such, not as missing. */
static void test_search(void)
{
	char dir[] = "/tmp/test-child.XXXXXX", file[64], path[8192];
	char *argv[] = { "spsc-noexec", NULL };
	const char *old = getenv("PATH");
	char *saved = strdup(old ? old : "");
	struct run r;
	int fd;

	if (mkdtemp(dir) == NULL)
		exit(99);
	snprintf(file, sizeof file, "%s/spsc-noexec", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, "#!/bin/sh\n", 10) != 10)
		exit(99);
	close(fd);
	snprintf(path, sizeof path, "%s:%s", dir, saved);
	setenv("PATH", path, 1);
	ok(run_argv(argv, NULL, NULL, 0, 0, &r) < 0 &&
	   strcmp(r.desc, "spsc-noexec: Permission denied") == 0,
	   "found in PATH but not executable: %s", r.desc);
	(void)chmod(file, 0755);
	ok(run_argv(argv, NULL, NULL, 0, 0, &r) == 0 &&
	   strcmp(r.desc, "exit status 0") == 0,
	   "and once executable it runs: %s", r.desc);
	setenv("PATH", saved, 1);
	free(saved);
	unlink(file);
	rmdir(dir);
}

/*
 * A command does not outlive the program that started it: when that dies,
 * even by SIGKILL, the command gets SIGKILL (PR_SET_PDEATHSIG).  A process
 * of ours spawns `sleep 30` and is killed; as a subreaper we inherit the
 * orphan and see what it died of.  Bounded: after 5 s it is killed here
 * and the test fails.
 */
static void test_parent_death(void)
{
	int p[2], st = 0;
	pid_t mid, s = 0, r = 0;
	int64_t end;

	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (pipe(p) < 0)
		exit(99);
	fflush(stdout);
	mid = fork();
	if (mid == 0) {
		char *argv[] = { "sleep", "30", NULL };
		struct child_opts o = { .argv = argv };
		struct child c;
		char err[256];

		close(p[0]);
		if (child_spawn(&c, &o, err, sizeof err) < 0 ||
		    write(p[1], &c.pid, sizeof c.pid) != sizeof c.pid)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	ok(mid > 0 && read(p[0], &s, sizeof s) == sizeof s && s > 0,
	   "a spawner started sleep 30 (pid %d)", (int)s);
	close(p[0]);
	kill(mid, SIGKILL);
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	end = mono_ns() + 5 * NS_PER_SEC;
	while (s > 0 && (r = waitpid(s, &st, WNOHANG)) == 0 && mono_ns() < end)
		(void)poll(NULL, 0, 10);
	if (s > 0 && r == 0) {
		kill(s, SIGKILL);
		(void)waitpid(s, NULL, 0);
	}
	ok(r == s && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	   "kill -9 of the spawner killed its child: %s",
	   r == 0 ? "it still ran after 5 s" : r < 0 ? strerror(errno) :
	   WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "it exited");
	(void)prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void test_no_zombies(void)
{
	pid_t r = waitpid(-1, NULL, WNOHANG);

	ok(r < 0 && errno == ECHILD, "no child is left unreaped");
}

int main(void)
{
	fd_ignore_sigpipe();
	test_pipes();
	test_huge();
	test_status();
	test_env();
	test_timeout();
	test_group();
	test_child_state();
	test_not_found();
	test_stop();
	test_stderr();
	test_search();
	test_parent_death();
	test_no_zombies();
	return tap_done();
}
