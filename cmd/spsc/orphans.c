/*
 * orphans: finding our children that are not our stages, in /proc.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "orphans.h"
#include "proc.h"

/* The parent and group of PID from /proc/PID/stat; -1 if it is gone.
 * The command name may hold spaces and parentheses: the fields that
 * follow start after its last ')'. */
static int parent_of(const char *pid, long *ppid, long *pgrp)
{
	char path[64], buf[512], *close_paren;
	size_t got;
	int fd;

	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fd_read_full(fd, buf, sizeof buf - 1, &got) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	buf[got] = '\0';
	if ((close_paren = strrchr(buf, ')')) == NULL ||
	    sscanf(close_paren + 1, " %*c %ld %ld", ppid, pgrp) != 2)
		return -1;
	return 0;
}

static int is_proc(const struct proc *procs, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (procs[i].child.pid == pid)
			return 1;
	return 0;
}

/* Kills every child of ours that is no stage (and its group, when it
 * leads one).  Returns how many. */
int orphans_kill(const struct proc *procs, size_t n)
{
	long self = (long)getpid(), ppid, pgrp;
	struct dirent *e;
	DIR *dir = opendir("/proc");
	int killed = 0;

	if (dir == NULL)
		return 0;
	while ((e = readdir(dir)) != NULL) {
		long pid = strtol(e->d_name, NULL, 10);

		if (pid <= 0 || parent_of(e->d_name, &ppid, &pgrp) < 0 ||
		    ppid != self || is_proc(procs, n, pid))
			continue;
		if (pgrp == pid)
			(void)kill((pid_t)-pid, SIGKILL);
		(void)kill((pid_t)pid, SIGKILL);
		killed++;
	}
	closedir(dir);
	return killed;
}
