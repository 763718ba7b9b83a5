/*
 * logpipe: the stages' stderr, merged into ours one whole line at a time.
 *
 * Each stage writes into a pipe of its own; the launcher reads it, cuts
 * it into lines and writes each line, prefixed with "stage.replica | ",
 * to its stderr in a single write, so lines of two stages never mix.  A
 * line longer than LOGPIPE_LINE_MAX is written in pieces, each prefixed,
 * the first ones ending in "...".
 */
#ifndef SPSC_LOGPIPE_H
#define SPSC_LOGPIPE_H

#include <stddef.h>

#define LOGPIPE_LINE_MAX 16384

struct logpipe {
	int fd;			/* the pipe's read end; -1 once it closed */
	char prefix[96];	/* "map.1 | ", coloured or not */
	char buf[LOGPIPE_LINE_MAX];
	size_t len;
};

void logpipe_init(struct logpipe *lp, int fd, const char *label, int colour);
int logpipe_read(struct logpipe *lp);
void logpipe_close(struct logpipe *lp);
void logpipe_drain(struct logpipe *lp);
void logpipe_line(const char *prefix, const char *line, size_t len);

#endif
