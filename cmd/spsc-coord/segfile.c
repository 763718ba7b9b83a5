#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "segfile.h"
#include "segment.h"

void segfiles_init(struct segfiles *f, const char *dir, uint64_t segment_max,
		   enum fsync_policy fsync)
{
	memset(f, 0, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "%s", dir);
	f->segment_max = segment_max;
	f->fsync = fsync;
	f->prealloc = 1;
}

void segfile_path(const struct segfiles *f, uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%020" PRIu64 ".seg", f->dir, seq);
}

/* A reclaimed file kept to be a segment again. */
void segfile_reuse_path(const struct segfiles *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s/reuse", f->dir);
}

/* The kept file while the spare thread makes a segment of it: the name
 * "reuse" is free meanwhile for the next segment reclaimed. */
void segfile_lent_path(const struct segfiles *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s/reuse.lent", f->dir);
}

static int fail(struct segfiles *f, const char *what, const char *path)
{
	snprintf(f->err, sizeof f->err, "%s: %s: %s", path, what, strerror(errno));
	return -1;
}

int segfile_sync_dir(struct segfiles *f)
{
	return fd_sync_dir(f->dir) < 0 ? fail(f, "fsync", f->dir) : 0;
}

/*
 * Allocates a segment's blocks ahead of the writes (KEEP_SIZE: the file's
 * length stays that of its records).  ENOSPC is the answer that matters;
 * a filesystem that cannot allocate ahead is remembered, and writes on it
 * can still fail for want of space (see spsc-coord(1), DISK SPACE).
 */
int segfile_reserve(struct segfiles *f, struct segment *seg, uint64_t bytes)
{
	if (!f->prealloc || bytes <= seg->reserved)
		return 0;
	if (fallocate(seg->fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)bytes) == 0) {
		seg->reserved = bytes;
		return 0;
	}
	if (errno == EOPNOTSUPP || errno == ENOSYS) {
		log_warn("%s: the filesystem cannot allocate ahead; a full disk will stop the coordinator",
			 f->dir);
		f->prealloc = 0;
		return 0;
	}
	return -1;
}

/* A new segment's name is made durable with the directory; if that
 * fails the segment is given up, so that no file is left to stand in the
 * way of the next try. */
static int settle(struct segfiles *f, struct segment *seg, const char *path)
{
	if (!f->prealloc)
		seg->reserved = UINT64_MAX;
	if (f->fsync == FSYNC_NEVER || segfile_sync_dir(f) == 0)
		return 0;
	close(seg->fd);
	(void)unlink(path);
	seg->fd = -1;
	return -1;
}

/* Makes segment seq with room for bytes; ENOSPC leaves no file behind. */
int segfile_make(struct segfiles *f, uint64_t seq, uint64_t bytes,
		 struct segment *out)
{
	uint8_t head[SEGMENT_HEAD];
	char path[4200];
	int fd;

	segfile_path(f, seq, path, sizeof path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(f, "create", path);
	*out = (struct segment){ .seq = seq, .fd = fd, .size = SEGMENT_HEAD };
	segment_header(head, seq);
	if (segfile_reserve(f, out, bytes) < 0 || fd_write_all(fd, head, sizeof head) < 0) {
		int saved = errno;
		close(fd);
		(void)unlink(path);
		errno = saved;
		out->fd = -1;
		return fail(f, "create", path);
	}
	return settle(f, out, path);
}

/* The kept file at path cannot be a segment: it is given up, and the
 * caller makes a new file. */
static int give_up_reuse(int fd, const char *path)
{
	log_warn("%s: cannot use again (%s); making a new segment", path,
		 strerror(errno));
	close(fd);
	return -1;
}

/*
 * Renames the kept reclaimed file (fd; -1: none) to its lent name, so
 * that a segment reclaimed while the spare is made of it can be kept in
 * its place.  fd, or -1 if it cannot be (it is closed then, and its file
 * left to the next start).
 */
int segfile_lend(struct segfiles *f, int fd)
{
	char from[4200], to[4200];

	if (fd < 0)
		return -1;
	segfile_reuse_path(f, from, sizeof from);
	segfile_lent_path(f, to, sizeof to);
	if (rename(from, to) < 0)
		return give_up_reuse(fd, from);
	return fd;
}

/*
 * Makes segment seq from fd, the reclaimed file kept for it, now named
 * as lent (closed here on failure): the new header is written (and
 * synced) before the rename, so that a segment file never bears a number
 * its header does not.  Its old records stay, told apart by the number
 * each carries.  -1: make a new file instead.
 */
int segfile_reuse(struct segfiles *f, int fd, uint64_t seq, struct segment *out)
{
	uint8_t head[SEGMENT_HEAD];
	char from[4200], to[4200];

	segfile_lent_path(f, from, sizeof from);
	segfile_path(f, seq, to, sizeof to);
	*out = (struct segment){ .seq = seq, .fd = fd, .size = SEGMENT_HEAD };
	segment_header(head, seq);
	if (pwrite(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
	    (f->fsync != FSYNC_NEVER && fdatasync(fd) < 0) ||
	    segfile_reserve(f, out, f->segment_max) < 0 || rename(from, to) < 0) {
		out->fd = -1;
		give_up_reuse(fd, from);
		(void)unlink(from);
		return -1;
	}
	return settle(f, out, to);
}
