/*
 * follow: --follow, files that grow, like tail -F.
 *
 * Each file is followed by name.  It is read from its start, then every
 * time it grows.  When the name comes to mean another file (a log rotated
 * by rename and re-created), the old file is read to its end and the new
 * one from its start; when the file shrinks (copytruncate), reading starts
 * over at its beginning.  A file that does not exist yet is waited for.
 *
 * inotify watches each file's directory (names coming and going, and writes
 * to any file in it) and the file itself (writes through a symbolic link
 * that points elsewhere).  Any event just means "look again": every file is
 * then checked with fstat/stat and read to its end, which is cheap for the
 * handful of files one follows, and cannot miss a change that inotify
 * merged or dropped.  Followed files are read as plain text: a compressed
 * file cannot grow by appending.
 *
 * Atoms are cut by -n and -b as always, and by --linger while waiting, so
 * a quiet log still delivers its last lines within the linger time.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "source.h"
#include "units.h"

#define DIR_EVENTS (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | \
		    IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB)
#define FILE_EVENTS (IN_MODIFY | IN_ATTRIB)
/* Blocks read from one file before the others get a turn. */
#define DRAIN_MAX 64

struct followed {
	char *path;		/* as given: the label of its atoms too */
	int fd;			/* -1 while the name has no file */
	dev_t dev;		/* identity of the open file */
	ino_t ino;
	uint64_t pos;		/* bytes read from the open file */
	int file_wd;
	int last_errno;		/* the open error last reported */
	int gone;		/* failed for good: no longer followed */
	struct batcher b;
};

struct follow {
	struct source *src;
	int ifd;
	struct followed *f;
	int n;
	int busy;		/* a file has more to read right now */
};

static void follow_fail(struct follow *fw, struct followed *f)
{
	f->gone = 1;
	fw->src->failed = 1;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Reads what the open file holds past pos (up to DRAIN_MAX blocks). */
static void drain(struct follow *fw, struct followed *f)
{
	struct source *src = fw->src;
	ssize_t n;

	for (int i = 0; i < DRAIN_MAX; i++) {
		n = fd_read(f->fd, src->block, SOURCE_READ_BLOCK);
		if (n < 0) {
			log_error("%s: byte %" PRIu64 ": read error: %s",
				  f->path, f->pos, strerror(errno));
			follow_fail(fw, f);
			return;
		}
		if (n == 0)
			return;
		f->pos += (uint64_t)n;
		if (batcher_feed(&f->b, src->block, (size_t)n) < 0) {
			if (f->b.failed)
				follow_fail(fw, f);
			return;
		}
		if (source_check_signal(src))
			return;
	}
	fw->busy = 1;
}

/* The file behind the name is finished with: its last line is whole. */
static void let_go(struct follow *fw, struct followed *f)
{
	(void)batcher_finish(&f->b);
	if (f->file_wd >= 0)
		(void)inotify_rm_watch(fw->ifd, f->file_wd);
	f->file_wd = -1;
	close(f->fd);
	f->fd = -1;
}

static void try_open(struct follow *fw, struct followed *f)
{
	struct stat st;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		if (errno != f->last_errno) {
			if (errno == ENOENT)
				log_warn("%s: does not exist yet: waiting for it",
					 f->path);
			else
				log_error("%s: cannot open: %s", f->path,
					  strerror(errno));
			if (errno != ENOENT)
				fw->src->failed = 1;
		}
		f->last_errno = errno;
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("%s: cannot follow: not a regular file", f->path);
		close(fd);
		follow_fail(fw, f);
		return;
	}
	if (f->last_errno != 0)
		log_info("%s: appeared: following it", f->path);
	f->last_errno = 0;
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->pos = 0;
	f->file_wd = inotify_add_watch(fw->ifd, f->path, FILE_EVENTS);
}

/* Looks at one file again: new bytes, truncation, rotation. */
static void check(struct follow *fw, struct followed *f)
{
	struct stat st, named;

	if (f->gone)
		return;
	if (f->fd >= 0) {
		drain(fw, f);
		if (f->fd < 0 || fw->src->stopping)
			return;
		if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < f->pos) {
			log_info("%s: truncated: reading it from the start",
				 f->path);
			(void)batcher_finish(&f->b);
			if (lseek(f->fd, 0, SEEK_SET) < 0) {
				log_error("%s: seek: %s", f->path, strerror(errno));
				follow_fail(fw, f);
				return;
			}
			f->pos = 0;
			drain(fw, f);
			if (f->fd < 0)
				return;
		}
		/* Renamed away with no successor yet: the writer may still be
		 * appending to the old file, so keep reading it. */
		if (stat(f->path, &named) < 0 ||
		    (named.st_dev == f->dev && named.st_ino == f->ino))
			return;
		if (fw->busy)
			return;	/* finish the old file first */
		log_info("%s: replaced: following the new file", f->path);
		let_go(fw, f);
	}
	try_open(fw, f);
	if (f->fd >= 0)
		drain(fw, f);
}

/* Empties the inotify queue; what it says does not matter (see above). */
static void read_events(struct follow *fw)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	do
		n = read(fw->ifd, buf, sizeof buf);
	while (n > 0 || (n < 0 && errno == EINTR));
}

static int64_t next_deadline(struct follow *fw)
{
	int64_t due = INT64_MAX;

	for (int i = 0; i < fw->n; i++)
		if (!fw->f[i].gone)
			due = deadline_min(due, batcher_deadline(&fw->f[i].b));
	return due;
}

static int watch_dir_of(struct follow *fw, struct followed *f)
{
	char *copy = strdup(f->path);
	int wd;

	if (copy == NULL)
		return -1;
	wd = inotify_add_watch(fw->ifd, dirname(copy), DIR_EVENTS);
	if (wd < 0)
		log_error("%s: cannot watch its directory: %s", f->path,
			  strerror(errno));
	free(copy);
	return wd;
}

static int setup(struct follow *fw, char **paths, int npaths)
{
	fw->f = calloc((size_t)npaths, sizeof *fw->f);
	if (fw->f == NULL)
		return -1;
	fw->n = npaths;
	for (int i = 0; i < npaths; i++) {
		struct followed *f = &fw->f[i];
		f->fd = -1;
		f->file_wd = -1;
		f->path = paths[i];
		batcher_init(&f->b, fw->src);
		if (batcher_start(&f->b, paths[i]) < 0)
			return -1;
		if (watch_dir_of(fw, f) < 0)
			follow_fail(fw, f);
	}
	return 0;
}

static int any_followed(const struct follow *fw)
{
	for (int i = 0; i < fw->n; i++)
		if (!fw->f[i].gone)
			return 1;
	return 0;
}

/* Runs until a signal (or until no file can be followed any more). */
int follow_run(struct source *src, char **paths, int npaths)
{
	struct follow fw = { .src = src };
	int64_t due;

	fw.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fw.ifd < 0) {
		log_error("inotify: %s", strerror(errno));
		src->failed = 1;
		return -1;
	}
	if (setup(&fw, paths, npaths) < 0) {
		log_error("out of memory");
		src->fatal = 1;
	}
	while (!src->stopping && !src->fatal && any_followed(&fw)) {
		fw.busy = 0;
		for (int i = 0; i < fw.n && !src->stopping && !src->fatal; i++)
			check(&fw, &fw.f[i]);
		for (int i = 0; i < fw.n && !src->fatal; i++)
			if (!fw.f[i].gone && batcher_linger(&fw.f[i].b) < 0)
				break;
		if (src->stopping || src->fatal)
			break;
		due = fw.busy ? mono_ns() : next_deadline(&fw);
		if (source_wait(src, fw.ifd, due) == 1)
			read_events(&fw);
	}
	/* SIGTERM: what was read goes out, the last line whole. */
	for (int i = 0; fw.f && i < fw.n; i++) {
		if (!src->fatal && !fw.f[i].gone)
			(void)batcher_finish(&fw.f[i].b);
		if (fw.f[i].fd >= 0)
			close(fw.f[i].fd);
		batcher_free(&fw.f[i].b);
	}
	free(fw.f);
	close(fw.ifd);
	return src->failed ? -1 : 0;
}
