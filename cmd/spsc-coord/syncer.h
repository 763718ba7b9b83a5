/*
 * syncer: fdatasync(2) off the event loop, for --fsync interval.
 *
 * Making a second of writes durable can take tens of milliseconds, and in
 * the event loop every request would wait for it: a latency spike once a
 * second, and a pause of the whole pipeline behind it.  So a thread of its
 * own syncs, on a dup of the segment's descriptor, since the loop may close
 * the segment meanwhile.  The loop goes on writing: what an interval sync
 * promises is that data is durable within about one interval, and that
 * holds.  A sync that fails is reported at the loop's next turn, and stops
 * the coordinator as a failed write does.  (--fsync always still syncs in
 * the loop, before any reply: there the wait is the point.)
 */
#ifndef SPSC_SYNCER_H
#define SPSC_SYNCER_H

#include <pthread.h>
#include <stddef.h>

struct syncer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, idle;
	int running;		/* the thread was started */
	int fd;			/* to sync; -1: nothing asked */
	int busy;		/* a sync is under way */
	int stop;
	int err;		/* errno of a sync that failed, until taken */
	char path[4200];	/* the file being synced, for messages */
};

int syncer_start(struct syncer *y);
int syncer_submit(struct syncer *y, int fd, const char *path);
int syncer_failed(struct syncer *y, char *path, size_t len);
void syncer_wait(struct syncer *y);
void syncer_stop(struct syncer *y);

#endif
