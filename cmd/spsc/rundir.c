/*
 * rundir: a DAG's state directory, its lock and its coordinator's address.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "dag.h"
#include "dirlock.h"
#include "fdio.h"
#include "home.h"
#include "rundir.h"

int rundir_file(const struct rundir *rd, const char *name, char *buf,
		size_t len)
{
	return (size_t)snprintf(buf, len, "%s/%s", rd->path, name) < len ? 0 : -1;
}

/*
 * The coordinator: the DAG's coord line, else $SPSC_COORD, else a private
 * one in the run directory.
 */
int rundir_open(struct rundir *rd, const struct dag *d, char *err,
		size_t errlen)
{
	char home[4096];
	const char *env = getenv("SPSC_COORD");

	memset(rd, 0, sizeof *rd);
	rd->lock_fd = -1;
	if (spsc_home(home, sizeof home, 1) < 0) {
		snprintf(err, errlen, "cannot find a state directory: set SPSC_HOME");
		return -1;
	}
	if ((size_t)snprintf(rd->path, sizeof rd->path, "%s/dags/%s", home,
			     d->name) >= sizeof rd->path) {
		snprintf(err, errlen, "%s: the path is too long", home);
		return -1;
	}
	snprintf(rd->coord_home, sizeof rd->coord_home, "%s/coord", rd->path);
	if (spsc_mkdirs(rd->coord_home) < 0) {
		snprintf(err, errlen, "%s: %s", rd->coord_home, strerror(errno));
		return -1;
	}
	if (d->coord) {
		snprintf(rd->coord_url, sizeof rd->coord_url, "%s", d->coord);
	} else if (env && *env) {
		snprintf(rd->coord_url, sizeof rd->coord_url, "%s", env);
	} else {
		rd->private_coord = 1;
		snprintf(rd->coord_url, sizeof rd->coord_url, "unix://%s/coord.unix",
			 rd->coord_home);
	}
	return 0;
}

/* 0 and the lock held, with our pid in it; -1 with errno EWOULDBLOCK if
 * another run holds it. */
int rundir_lock(struct rundir *rd, char *err, size_t errlen)
{
	char pid[32];
	int n;

	rd->lock_fd = dir_lock(rd->path, "lock", "the DAG is already running",
			       err, errlen);
	if (rd->lock_fd < 0)
		return -1;
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(rd->lock_fd, 0) < 0 ||
	    pwrite(rd->lock_fd, pid, (size_t)n, 0) != n) {
		snprintf(err, errlen, "%s/lock: %s", rd->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The pid of the run holding the lock, or 0 when none does. */
pid_t rundir_owner(const struct rundir *rd)
{
	char path[4200], buf[32];
	int fd;
	ssize_t n;
	pid_t pid = 0;

	if (rundir_file(rd, "lock", path, sizeof path) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);	/* nobody holds it */
		return 0;
	}
	n = pread(fd, buf, sizeof buf - 1, 0);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		pid = (pid_t)strtol(buf, NULL, 10);
	}
	return pid;
}
