#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "syncer.h"

static void *syncer_main(void *arg)
{
	struct syncer *y = arg;

	pthread_mutex_lock(&y->lock);
	for (;;) {
		int fd, rc;
		while (y->fd < 0 && !y->stop)
			pthread_cond_wait(&y->wake, &y->lock);
		if (y->fd < 0)
			break;	/* stopping, nothing left to sync */
		fd = y->fd;
		y->fd = -1;
		y->busy = 1;
		pthread_mutex_unlock(&y->lock);
		rc = fdatasync(fd);
		if (rc < 0)
			rc = errno;
		close(fd);
		pthread_mutex_lock(&y->lock);
		if (rc && !y->err)
			y->err = rc;
		y->busy = 0;
		pthread_cond_broadcast(&y->idle);
	}
	pthread_mutex_unlock(&y->lock);
	return NULL;
}

/* Starts the thread with every signal blocked: signals are the loop's. */
int syncer_start(struct syncer *y)
{
	sigset_t all, saved;
	int rc;

	memset(y, 0, sizeof *y);
	y->fd = -1;
	if (pthread_mutex_init(&y->lock, NULL) != 0 ||
	    pthread_cond_init(&y->wake, NULL) != 0 || pthread_cond_init(&y->idle, NULL) != 0)
		return -1;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	rc = pthread_create(&y->thread, NULL, syncer_main, y);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	y->running = 1;
	return 0;
}

/* Asks for fd's data to be synced.  1: taken; 0: a sync is under way
 * (ask again later); -1: the descriptor could not be duplicated. */
int syncer_submit(struct syncer *y, int fd, const char *path)
{
	int copy, taken = 0;

	pthread_mutex_lock(&y->lock);
	if (!y->busy && y->fd < 0) {
		if ((copy = dup(fd)) < 0) {
			pthread_mutex_unlock(&y->lock);
			return -1;
		}
		y->fd = copy;
		snprintf(y->path, sizeof y->path, "%s", path);
		pthread_cond_signal(&y->wake);
		taken = 1;
	}
	pthread_mutex_unlock(&y->lock);
	return taken;
}

/* The errno of a sync that failed since the last call (and its file), or
 * 0. */
int syncer_failed(struct syncer *y, char *path, size_t len)
{
	int err;

	if (!y->running)
		return 0;
	pthread_mutex_lock(&y->lock);
	err = y->err;
	y->err = 0;
	if (err)
		snprintf(path, len, "%s", y->path);
	pthread_mutex_unlock(&y->lock);
	return err;
}

/* Until nothing asked for is left unsynced. */
void syncer_wait(struct syncer *y)
{
	if (!y->running)
		return;
	pthread_mutex_lock(&y->lock);
	while (y->busy || y->fd >= 0)
		pthread_cond_wait(&y->idle, &y->lock);
	pthread_mutex_unlock(&y->lock);
}

/* Finishes what was asked for, then ends the thread. */
void syncer_stop(struct syncer *y)
{
	if (!y->running)
		return;
	pthread_mutex_lock(&y->lock);
	y->stop = 1;
	pthread_cond_signal(&y->wake);
	pthread_mutex_unlock(&y->lock);
	pthread_join(y->thread, NULL);
	pthread_cond_destroy(&y->wake);
	pthread_cond_destroy(&y->idle);
	pthread_mutex_destroy(&y->lock);
	y->running = 0;
}
