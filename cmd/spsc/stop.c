/*
 * stop: spsc stop.  A DAG run by `spsc run` is sent SIGTERM, which makes
 * it stop in data order, and waited for: its lock is free once it has
 * exited.  A DAG run by systemd is stopped through its target, whose
 * units are ordered for the same data order (spsc-systemd, spsc(7)).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "dag.h"
#include "log.h"
#include "opt.h"
#include "rundir.h"
#include "spsc.h"
#include "unitname.h"

static void on_alarm(int sig)
{
	(void)sig;	/* only to interrupt flock */
}

/* Waits for the launcher to let go of the lock, at most SECONDS. */
static int wait_unlocked(const struct rundir *rd, unsigned seconds)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	char path[4200];
	int fd, rc;

	if (rundir_file(rd, "lock", path, sizeof path) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: flock returns */
	alarm(seconds);
	rc = flock(fd, LOCK_SH);
	alarm(0);
	close(fd);
	return rc;
}

/* systemctl ARGS...: its exit status, -1 if it could not run.  Its
 * output is caught, so "not booted with systemd" and the like stay out
 * of ours. */
static int systemctl(char *const argv[])
{
	static struct text out, errt;
	char err[600];
	int st = capture(argv, NULL, &out, &errt, err, sizeof err);

	return st < 0 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* 1: not under systemd; 0: its target stopped; -1: it would not stop. */
static int systemd_stop(const struct dag *d)
{
	char unit[DAG_NAME_MAX + 32];

	unit_target(d, unit, sizeof unit);
	if (systemctl((char *[]){ "systemctl", "--quiet", "is-active", unit,
				  NULL }) != 0)
		return 1;
	log_info("stopping %s", unit);
	if (systemctl((char *[]){ "systemctl", "stop", unit, NULL }) != 0) {
		log_error("systemctl stop %s failed", unit);
		return -1;
	}
	return 0;
}

int stop_main(const struct spsc_opts *o, const char *path)
{
	struct dag d;
	struct diag dg;
	struct rundir rd;
	char err[600];
	pid_t owner;
	unsigned wait_s;
	int rc;

	if (spsc_load(&d, &dg, path, 0) < 0 ||
	    rundir_open(&rd, &d, err, sizeof err) < 0) {
		if (dg.errors == 0)
			log_error("%s", err);
		dag_free(&d);
		return EXIT_FAIL;
	}
	/* each stage may take its stop timeout, one after the other */
	wait_s = (unsigned)((o->stop_timeout / 1000000000LL + 1) *
			    (int64_t)(d.nstages + 1));
	if ((owner = rundir_owner(&rd)) > 0) {
		if (kill(owner, SIGTERM) < 0) {
			log_error("cannot signal spsc run (pid %ld): %s",
				  (long)owner, strerror(errno));
			rc = EXIT_FAIL;
		} else if (wait_unlocked(&rd, wait_s) < 0) {
			log_error("spsc run (pid %ld) did not stop within %u s",
				  (long)owner, wait_s);
			rc = EXIT_FAIL;
		} else {
			log_info("%s stopped", d.name);
			rc = EXIT_OK;
		}
	} else {
		rc = systemd_stop(&d);
		if (rc > 0)
			log_info("%s is not running", d.name);
		rc = rc < 0 ? EXIT_FAIL : EXIT_OK;
	}
	dag_free(&d);
	return rc;
}
