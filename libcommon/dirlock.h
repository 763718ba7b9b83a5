/*
 * dirlock: one process at a time owns a state directory (a coordinator's
 * home, a reducer's checkpoints).  The lock is an flock on a file in the
 * directory, held by the returned fd until it is closed or the process
 * exits, so a crash never leaves a stale lock behind.
 */
#ifndef SPSC_DIRLOCK_H
#define SPSC_DIRLOCK_H

#include <stddef.h>

int dir_lock(const char *dir, const char *file, const char *busy,
	     char *err, size_t errlen);

#endif
