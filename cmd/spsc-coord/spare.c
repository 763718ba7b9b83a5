#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spare.h"

/* Makes the spare asked for: from the reclaimed file if there is one,
 * else a new file.  seg.fd < 0 and files.err say why it failed. */
static void make(struct spare *sp, uint64_t seq, int reuse_fd, struct segment *seg)
{
	if (reuse_fd >= 0 && segfile_reuse(&sp->files, reuse_fd, seq, seg) == 0)
		return;
	if (segfile_make(&sp->files, seq, sp->files.segment_max, seg) < 0)
		seg->fd = -1;
}

static void *spare_main(void *arg)
{
	struct spare *sp = arg;

	pthread_mutex_lock(&sp->lock);
	for (;;) {
		struct segment seg;
		uint64_t seq;
		int reuse_fd;

		while (!(sp->asked && !sp->finished) && !sp->stop)
			pthread_cond_wait(&sp->wake, &sp->lock);
		if (sp->stop)
			break;
		seq = sp->seq;
		reuse_fd = sp->reuse_fd;
		sp->reuse_fd = -1;
		pthread_mutex_unlock(&sp->lock);
		make(sp, seq, reuse_fd, &seg);
		pthread_mutex_lock(&sp->lock);
		sp->seg = seg;
		sp->finished = 1;
		pthread_cond_broadcast(&sp->done);
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

/* Starts the thread with every signal blocked: signals are the loop's. */
void spare_start(struct spare *sp, const struct segfiles *files)
{
	sigset_t all, saved;
	int rc;

	memset(sp, 0, sizeof *sp);
	sp->reuse_fd = -1;
	sp->seg.fd = -1;
	sp->files = *files;
	if (pthread_mutex_init(&sp->lock, NULL) != 0 ||
	    pthread_cond_init(&sp->wake, NULL) != 0 || pthread_cond_init(&sp->done, NULL) != 0) {
		log_warn("%s: no spare-segment thread: segments are made in the loop",
			 files->dir);
		return;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	rc = pthread_create(&sp->thread, NULL, spare_main, sp);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (rc != 0)
		log_warn("%s: no spare-segment thread (%s): segments are made in the loop",
			 files->dir, strerror(rc));
	sp->running = rc == 0;
}

/* Asks for segment seq, from reuse_fd (which becomes the thread's) if
 * that is not -1.  Only one at a time: the last must have been taken. */
void spare_ask(struct spare *sp, uint64_t seq, int reuse_fd)
{
	if (!sp->running) {
		make(sp, seq, reuse_fd, &sp->seg);
		sp->asked = sp->finished = 1;
		return;
	}
	pthread_mutex_lock(&sp->lock);
	sp->seq = seq;
	sp->reuse_fd = reuse_fd;
	sp->asked = 1;
	sp->finished = 0;
	pthread_cond_signal(&sp->wake);
	pthread_mutex_unlock(&sp->lock);
}

/* Is a spare asked for and not yet taken? */
int spare_asked(struct spare *sp)
{
	return sp->asked;	/* only the loop changes it */
}

/*
 * Takes the spare asked for, waiting for it if wait is set: 1, and it is
 * in *out; 0: none was asked, or it is not made yet; -1: it could not be
 * made, and err says why.
 */
int spare_take(struct spare *sp, int wait, struct segment *out, char *err,
	       size_t errlen)
{
	int rc = 0;

	if (!sp->asked)
		return 0;
	if (sp->running)
		pthread_mutex_lock(&sp->lock);
	while (wait && sp->running && !sp->finished)
		pthread_cond_wait(&sp->done, &sp->lock);
	if (sp->finished) {
		*out = sp->seg;
		sp->seg.fd = -1;
		sp->asked = sp->finished = 0;
		rc = out->fd >= 0 ? 1 : -1;
		if (rc < 0)
			snprintf(err, errlen, "%s", sp->files.err);
	}
	if (sp->running)
		pthread_mutex_unlock(&sp->lock);
	return rc;
}

/* Ends the thread once it is done with what it is making; a spare made
 * and not taken is left in *left (fd -1 if none), for the caller to
 * remove.  A reclaimed file it was not started on is closed (the next
 * start removes it). */
void spare_stop(struct spare *sp, struct segment *left)
{
	left->fd = -1;
	if (sp->running) {
		pthread_mutex_lock(&sp->lock);
		sp->stop = 1;
		pthread_cond_signal(&sp->wake);
		pthread_mutex_unlock(&sp->lock);
		pthread_join(sp->thread, NULL);
		pthread_cond_destroy(&sp->wake);
		pthread_cond_destroy(&sp->done);
		pthread_mutex_destroy(&sp->lock);
		sp->running = 0;
	}
	if (sp->asked && sp->finished)
		*left = sp->seg;
	else if (sp->asked && sp->reuse_fd >= 0)
		close(sp->reuse_fd);
	sp->reuse_fd = -1;
	sp->asked = sp->finished = 0;
}
