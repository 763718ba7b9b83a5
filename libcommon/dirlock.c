#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "dirlock.h"

/* Returns the locked fd, or -1 with err saying why: the lock file cannot
 * be opened, or another process holds it ("DIR: busy"). */
int dir_lock(const char *dir, const char *file, const char *busy,
	     char *err, size_t errlen)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;

		if (saved == EWOULDBLOCK)
			snprintf(err, errlen, "%s: %s", dir, busy);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(saved));
		close(fd);
		errno = saved;	/* EWOULDBLOCK: busy, as callers may need */
		return -1;
	}
	return fd;
}
