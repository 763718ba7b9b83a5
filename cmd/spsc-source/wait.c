/*
 * wait: the one place spsc-source waits, and how signals reach it.
 *
 * SIGTERM and SIGINT are blocked and read from a signalfd, so a signal
 * never lands in the middle of writing an atom: every wait polls the
 * signalfd beside the input, and long reads of regular files check it once
 * per block.  Whoever sees it sets src->stopping and the run winds down.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "source.h"
#include "units.h"

int signals_init(struct source *src)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		log_error("cannot block signals: %s", strerror(errno));
		return -1;
	}
	src->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (src->sigfd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* 1 if a signal asked us to stop (now or earlier), else 0. */
int source_check_signal(struct source *src)
{
	struct signalfd_siginfo si;
	ssize_t n;

	if (src->stopping)
		return 1;
	do
		n = read(src->sigfd, &si, sizeof si);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof si)
		return 0;
	src->stopping = 1;
	src->signo = (int)si.ssi_signo;
	log_info("%s: finishing: the events read so far go out, then exit",
		 src->signo == SIGINT ? "SIGINT" : "SIGTERM");
	return 1;
}

int64_t deadline_min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * Waits until fd is readable (fd < 0: no fd), the mono_ns deadline passes
 * (INT64_MAX: no deadline) or a signal arrives.  Returns 1 if fd is ready
 * (or hung up), 0 otherwise (deadline or signal: see src->stopping), -1 on
 * error.
 */
int source_wait(struct source *src, int fd, int64_t deadline)
{
	struct pollfd pfd[2];
	struct timespec ts, *tsp = NULL;
	int n = 0, rc;

	if (source_check_signal(src))
		return 0;
	pfd[n++] = (struct pollfd){ .fd = src->sigfd, .events = POLLIN };
	if (fd >= 0)
		pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (deadline != INT64_MAX) {
		int64_t left = deadline - mono_ns();
		if (left < 0)
			left = 0;
		ts.tv_sec = (time_t)(left / NS_PER_SEC);
		ts.tv_nsec = (long)(left % NS_PER_SEC);
		tsp = &ts;
	}
	/* about to block: what the output holds back goes first */
	if ((tsp == NULL || tsp->tv_sec || tsp->tv_nsec) &&
	    ppoll(pfd, (nfds_t)n, &(struct timespec){ 0, 0 }, NULL) == 0 &&
	    endpoint_sync(&src->out) < 0) {
		/* the output failed: the run cannot be whole, so it must
		 * not say done */
		log_error("%s", src->out.err);
		src->fatal = 1;
		return -1;
	}
	do
		rc = ppoll(pfd, (nfds_t)n, tsp, NULL);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		log_error("poll: %s", strerror(errno));
		src->fatal = 1;
		return -1;
	}
	if (pfd[0].revents & POLLIN)
		source_check_signal(src);
	progress_tick(src);
	return n > 1 && pfd[1].revents != 0 ? 1 : 0;
}
