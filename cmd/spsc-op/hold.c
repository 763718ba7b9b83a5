#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fdio.h"
#include "hold.h"

void hold_init(struct hold *h, const struct hold_limits *lim)
{
	memset(h, 0, sizeof *h);
	h->lim = lim;
	h->fd = -1;
}

void hold_free(struct hold *h)
{
	hold_unview(h);
	free(h->buf);
	if (h->fd >= 0)
		(void)close(h->fd);
	hold_init(h, h->lim);
}

/* Forgets the bytes, keeps the buffer and the file for the next attempt. */
void hold_reset(struct hold *h)
{
	hold_unview(h);
	h->len = 0;
	h->line = 0;
	if (h->spilled > 0) {
		h->spilled = 0;
		if (ftruncate(h->fd, 0) < 0 || lseek(h->fd, 0, SEEK_SET) < 0) {
			/* A file we cannot reuse is dropped; the next spill
			 * makes a new one. */
			(void)close(h->fd);
			h->fd = -1;
		}
	}
}

/* Gives back a buffer that one big output grew, so that a run of big
 * outputs does not keep every task at its high-water mark. */
void hold_trim(struct hold *h, size_t keep)
{
	hold_reset(h);
	if (h->cap > keep) {
		free(h->buf);
		h->buf = NULL;
		h->cap = 0;
	}
}

/* Room for at least want more bytes at the end; NULL when out of memory. */
char *hold_space(struct hold *h, size_t want, size_t *room)
{
	if (h->buf == NULL || h->cap - h->len < want) {
		size_t cap = h->cap ? h->cap : 65536;
		char *p;
		while (cap - h->len < want)
			cap *= 2;
		if ((p = realloc(h->buf, cap)) == NULL) {
			snprintf(h->err, sizeof h->err,
				 "out of memory holding %zu bytes of output",
				 cap);
			return NULL;
		}
		h->buf = p;
		h->cap = cap;
	}
	*room = h->cap - h->len;
	return h->buf + h->len;
}

/*
 * Takes n bytes placed at hold_space.  Fails when the unfinished line grows
 * past the longest event an atom can carry: no cut could ever frame it, so
 * there is no point in holding (or spilling) any more of it.
 */
int hold_commit(struct hold *h, size_t n)
{
	const char *p = h->buf + h->len;
	const char *nl = memrchr(p, '\n', n);

	h->len += n;
	h->line = nl ? (uint64_t)(p + n - nl - 1) : h->line + n;
	if (h->line + 1 > h->lim->max_line) {
		snprintf(h->err, sizeof h->err,
			 "output line of over %llu bytes does not fit in an atom (see --max-atom)",
			 (unsigned long long)h->line);
		return -1;
	}
	return 0;
}

int hold_append(struct hold *h, const void *p, size_t n)
{
	size_t room;
	char *dst;

	if (n == 0)
		return 0;
	if ((dst = hold_space(h, n, &room)) == NULL)
		return -1;
	memcpy(dst, p, n);
	return hold_commit(h, n);
}

static int open_spill(struct hold *h)
{
	const char *dir = h->lim->tmpdir;
	char tmpl[4096];

	h->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (h->fd >= 0)
		return 0;
	/* Not every file system has O_TMPFILE: a named file, unlinked at
	 * once, is the same thing a moment later. */
	snprintf(tmpl, sizeof tmpl, "%s/spsc-op.XXXXXX", dir);
	h->fd = mkostemp(tmpl, O_CLOEXEC);
	if (h->fd < 0) {
		snprintf(h->err, sizeof h->err,
			 "cannot create a spill file in %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	(void)unlink(tmpl);
	return 0;
}

static int spill_out(struct hold *h, size_t n)
{
	if (h->fd < 0 && open_spill(h) < 0)
		return -1;
	if (fd_write_all(h->fd, h->buf, n) < 0) {
		snprintf(h->err, sizeof h->err, "cannot spill output to %s: %s",
			 h->lim->tmpdir, strerror(errno));
		return -1;
	}
	memmove(h->buf, h->buf + n, h->len - n);
	h->len -= n;
	h->spilled += n;
	return 0;
}

/* Moves all but the last lim->keep bytes to the file once memory holds
 * more than its share. */
int hold_spill(struct hold *h)
{
	if (h->len <= h->lim->memory || h->len <= h->lim->keep)
		return 0;
	return spill_out(h, h->len - h->lim->keep);
}

/*
 * Where a line equal to pat (given as "\nLINE\n") starts in buf, looking at
 * lines that end at or after from; -1 if there is none.  The first line of
 * the output has no '\n' before it, so it is checked on its own.
 *
 * The search runs on memchr for LINE's first byte, which ordinary output
 * rarely holds (the marker's is '#'): memchr scans many times faster than
 * memmem's general search, and this scan covers every byte of output.
 */
long hold_find_line(const struct hold *h, const char *pat, size_t patlen,
		    size_t from)
{
	const char *p, *end = h->buf + h->len;

	if (from == 0 && h->spilled == 0 && h->len >= patlen - 1 &&
	    memcmp(h->buf, pat + 1, patlen - 1) == 0)
		return 0;
	if (from >= h->len)
		return -1;
	for (p = h->buf + from + 1; p < end; p++) {
		if ((p = memchr(p, pat[1], (size_t)(end - p))) == NULL)
			break;
		if (p[-1] == '\n' && (size_t)(end - p) >= patlen - 1 &&
		    memcmp(p, pat + 1, patlen - 1) == 0)
			return (long)(p - h->buf);
	}
	return -1;
}

/*
 * The whole output as one run of bytes, its last line completed with a
 * '\n'.  In memory it is the buffer itself; spilled, the file is mapped, so
 * even a huge output is cut into atoms without being copied onto the heap.
 */
int hold_view(struct hold *h, const char **data, size_t *len)
{
	void *m;

	if (h->line > 0) {
		if (hold_append(h, "\n", 1) < 0)
			return -1;
	}
	if (h->spilled == 0) {
		*data = h->buf;
		*len = h->len;
		return 0;
	}
	if (h->len > 0 && spill_out(h, h->len) < 0)
		return -1;
	if (h->spilled > SIZE_MAX) {
		snprintf(h->err, sizeof h->err, "output too large to map");
		return -1;
	}
	m = mmap(NULL, (size_t)h->spilled, PROT_READ, MAP_SHARED, h->fd, 0);
	if (m == MAP_FAILED) {
		snprintf(h->err, sizeof h->err, "cannot map spilled output: %s",
			 strerror(errno));
		return -1;
	}
	h->map = m;
	h->maplen = (size_t)h->spilled;
	*data = m;
	*len = h->maplen;
	return 0;
}

void hold_unview(struct hold *h)
{
	if (h->map)
		(void)munmap(h->map, h->maplen);
	h->map = NULL;
	h->maplen = 0;
}
