#include "dirlock.h"
#include "lock.h"
#include "log.h"

/* Returns the locked fd (held until exit), or -1 with the reason logged. */
int coord_lock(const char *home)
{
	char err[4400];
	int fd = dir_lock(home, "coord.lock",
			  "another spsc-coord is serving this state directory",
			  err, sizeof err);

	if (fd < 0)
		log_error("%s", err);
	return fd;
}
