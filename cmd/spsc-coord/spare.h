/*
 * spare: the next segment, made by a thread of its own.
 *
 * The store keeps one empty segment ready so that a switch needs no new
 * space (store.h).  Making it waits for the disk (segfile.h), so the loop
 * only asks for it, and takes it when the switch comes; it waits then
 * only if the thread is not done yet.  The loop asks for one spare at a
 * time, with the number it will bear and the reclaimed file to make it
 * from, if any; both stay the thread's until the spare is taken.  A
 * thread that cannot be started leaves the work to spare_ask itself, in
 * the loop, as it was done before.
 */
#ifndef SPSC_SPARE_H
#define SPSC_SPARE_H

#include <pthread.h>

#include "segfile.h"

struct spare {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, done;
	int running;		/* the thread was started */
	int stop;
	int asked;		/* a spare is wanted and not yet taken */
	int finished;		/* ... and made, or failed: seg.fd < 0 */
	uint64_t seq;		/* the number it will bear */
	int reuse_fd;		/* the reclaimed file to make it from, or -1 */
	struct segment seg;
	struct segfiles files;	/* the thread's own */
};

void spare_start(struct spare *sp, const struct segfiles *files);
void spare_ask(struct spare *sp, uint64_t seq, int reuse_fd);
int spare_asked(struct spare *sp);
int spare_take(struct spare *sp, int wait, struct segment *out, char *err,
	       size_t errlen);
void spare_stop(struct spare *sp, struct segment *left);

#endif
