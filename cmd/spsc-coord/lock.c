#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lock.h"
#include "log.h"

/* Returns the locked fd (held until exit), or -1 with the reason logged. */
int coord_lock(const char *home)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof path, "%s/coord.lock", home);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_error("%s: another spsc-coord is serving this state directory",
			  home);
		close(fd);
		return -1;
	}
	return fd;
}
