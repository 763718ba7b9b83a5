/* spare and segfile: the coordinator's next segment, made by a thread of
 * its own, new or from a reclaimed file; and what the loop is left with
 * when it stops. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "segment.h"
#include "spare.h"
#include "tap.h"

#define SEGMENT_BYTES (64 * 1024)

static char dir[64];

static int has_header(int fd, uint64_t seq)
{
	uint8_t want[SEGMENT_HEAD], got[SEGMENT_HEAD];

	segment_header(want, seq);
	return pread(fd, got, sizeof got, 0) == (ssize_t)sizeof got &&
	       memcmp(want, got, sizeof got) == 0;
}

static int exists(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static void start(struct spare *sp, const char *in, enum fsync_policy fsync)
{
	struct segfiles f;

	segfiles_init(&f, in, SEGMENT_BYTES, fsync);
	spare_start(sp, &f);
}

static void test_new(void)
{
	struct spare sp;
	struct segment seg, left;
	char err[256];

	start(&sp, dir, FSYNC_INTERVAL);
	ok(sp.running, "the thread starts");
	ok(spare_take(&sp, 1, &seg, err, sizeof err) == 0, "nothing asked: nothing to take");
	spare_ask(&sp, 5, -1);
	ok(spare_asked(&sp), "asked");
	ok(spare_take(&sp, 1, &seg, err, sizeof err) == 1, "taken, once made");
	ok(seg.seq == 5 && seg.size == SEGMENT_HEAD, "it is segment 5, empty");
	ok(has_header(seg.fd, 5), "its header bears its number");
	ok(seg.reserved >= SEGMENT_BYTES, "its room is allocated");
	ok(exists("00000000000000000005.seg"), "it has its name");
	ok(!spare_asked(&sp), "taken: none is asked any more");
	close(seg.fd);
	/* A stop does not start on what was asked, but finishes it if it is
	 * under way: either way nothing is half made or lost track of. */
	spare_ask(&sp, 6, -1);
	spare_stop(&sp, &left);
	ok(left.fd >= 0 ? left.seq == 6 && exists("00000000000000000006.seg")
			: !exists("00000000000000000006.seg"),
	   "a spare made and not taken is left to the caller; one not begun is not made");
	if (left.fd >= 0)
		close(left.fd);
}

static void test_reuse(void)
{
	struct spare sp;
	struct segment seg;
	struct stat before, after;
	char path[128], err[256], junk[4096];
	int fd;

	memset(junk, 'x', sizeof junk);
	snprintf(path, sizeof path, "%s/reuse.lent", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && write(fd, junk, sizeof junk) == (ssize_t)sizeof junk &&
	   fstat(fd, &before) == 0, "a reclaimed file, lent");
	start(&sp, dir, FSYNC_INTERVAL);
	spare_ask(&sp, 7, fd);
	ok(spare_take(&sp, 1, &seg, err, sizeof err) == 1, "made of it");
	ok(fstat(seg.fd, &after) == 0 && after.st_ino == before.st_ino,
	   "the same file");
	ok(has_header(seg.fd, 7), "with the new number in its header");
	ok(exists("00000000000000000007.seg") && !exists("reuse.lent"),
	   "under the segment's name, and no other");
	close(seg.fd);
	spare_stop(&sp, &seg);
	ok(seg.fd < 0, "nothing left at stop");
}

static void test_failure(void)
{
	struct spare sp;
	struct segment seg;
	char err[256], missing[96];

	snprintf(missing, sizeof missing, "%s/missing", dir);
	start(&sp, missing, FSYNC_NEVER);
	spare_ask(&sp, 9, -1);
	ok(spare_take(&sp, 1, &seg, err, sizeof err) == -1, "a spare that cannot be made says so");
	ok(strstr(err, "missing/00000000000000000009.seg: create: No such file") != NULL,
	   "naming the file and what failed: %s", err);
	ok(!spare_asked(&sp), "and can be asked for again");
	spare_stop(&sp, &seg);
}

int main(void)
{
	char cmd[96];

	snprintf(dir, sizeof dir, "/tmp/test-spare.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_new();
	test_reuse();
	test_failure();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return tap_done();
}
