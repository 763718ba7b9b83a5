/*
 * capture: run a command to its end, catching its stdout and stderr (each
 * up to CAPTURE_MAX bytes; the rest is read and dropped), within
 * CAPTURE_TIMEOUT_NS.  How spsc asks programs for their endpoints and
 * spsc-coord for its queues.
 */
#ifndef SPSC_CAPTURE_H
#define SPSC_CAPTURE_H

#include <stddef.h>

#define CAPTURE_TIMEOUT_NS (30 * 1000000000LL)
#define CAPTURE_MAX (256 * 1024)

struct text {
	char buf[CAPTURE_MAX];
	size_t len;
};

/* The command's wait status, or -1 (err says why). */
int capture(char *const argv[], const char *const *env, struct text *out,
	    struct text *errt, char *err, size_t errlen);

#endif
