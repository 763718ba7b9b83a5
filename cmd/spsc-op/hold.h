/*
 * hold: an invocation's output, kept back until the invocation succeeds.
 *
 * A failed attempt's output must never reach downstream, so nothing is
 * emitted before the command has exited well (or, warm, echoed its end
 * marker).  The bytes stay in memory up to a bound and go to an unlinked
 * temporary file beyond it, so a command may print gigabytes with only the
 * bound in memory.
 */
#ifndef SPSC_OP_HOLD_H
#define SPSC_OP_HOLD_H

#include <stddef.h>
#include <stdint.h>

struct hold_limits {
	size_t memory;		/* bytes kept in memory before spilling */
	size_t keep;		/* bytes a spill leaves in memory, so that a
				   marker line is never split by it */
	size_t max_line;	/* longest event, its '\n' included */
	const char *tmpdir;
};

struct hold {
	const struct hold_limits *lim;
	char *buf;		/* the newest bytes */
	size_t len, cap;
	int fd;			/* spill file, -1 until needed */
	uint64_t spilled;	/* bytes before buf, in the file */
	uint64_t line;		/* bytes of the last, unfinished line */
	void *map;		/* hold_view's mapping of the file */
	size_t maplen;
	char err[256];
};

void hold_init(struct hold *h, const struct hold_limits *lim);
void hold_free(struct hold *h);
void hold_reset(struct hold *h);
void hold_trim(struct hold *h, size_t keep);
char *hold_space(struct hold *h, size_t want, size_t *room);
int hold_commit(struct hold *h, size_t n);
int hold_append(struct hold *h, const void *p, size_t n);
int hold_spill(struct hold *h);
long hold_find_line(const struct hold *h, const char *pat, size_t patlen,
		    size_t from);
int hold_view(struct hold *h, const char **data, size_t *len);
void hold_unview(struct hold *h);

static inline uint64_t hold_size(const struct hold *h)
{
	return h->spilled + h->len;
}

#endif
