/*
 * segfile: a segment file made ready to be written, new or reclaimed.
 *
 * Making one waits for the disk: a new file's blocks are allocated and
 * its name synced with the directory; a reclaimed file's new header is
 * synced before it is renamed, behind whatever of its old life is still
 * being written back.  At full speed that was most of the coordinator's
 * time, with every client waiting on its loop, so the loop makes one only
 * at start and when no spare fits; the spare thread (spare.h) makes every
 * other.  Each side has its own struct segfiles: nothing in it is shared.
 */
#ifndef SPSC_SEGFILE_H
#define SPSC_SEGFILE_H

#include <stddef.h>
#include <stdint.h>

enum fsync_policy { FSYNC_NEVER, FSYNC_INTERVAL, FSYNC_ALWAYS };

struct segview;

struct segment {
	uint64_t seq;
	int fd;
	uint64_t size;		/* bytes written (and flushed) */
	uint64_t reserved;	/* bytes allocated on disk for it */
	uint64_t live;		/* PUTs in it whose atoms are still queued */
	uint64_t live_bytes;	/* their frames' bytes */
	struct segview *view;	/* mapped on the first delivery from it */
};

struct segfiles {
	char dir[4096];
	uint64_t segment_max;
	enum fsync_policy fsync;
	int prealloc;		/* the filesystem can allocate ahead */
	char err[4600];		/* why the last call failed */
};

void segfiles_init(struct segfiles *f, const char *dir, uint64_t segment_max,
		   enum fsync_policy fsync);
void segfile_path(const struct segfiles *f, uint64_t seq, char *buf, size_t len);
void segfile_reuse_path(const struct segfiles *f, char *buf, size_t len);
void segfile_lent_path(const struct segfiles *f, char *buf, size_t len);
int segfile_sync_dir(struct segfiles *f);
int segfile_reserve(struct segfiles *f, struct segment *seg, uint64_t bytes);
int segfile_make(struct segfiles *f, uint64_t seq, uint64_t bytes,
		 struct segment *out);
int segfile_lend(struct segfiles *f, int fd);
int segfile_reuse(struct segfiles *f, int fd, uint64_t seq, struct segment *out);

#endif
