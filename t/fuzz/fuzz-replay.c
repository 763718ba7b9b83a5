/*
 * fuzz-replay: the coordinator's log, as it finds it on start, through
 * store_open's replay and store_close.
 *
 * The input is one or more segment files laid end to end: it is cut
 * before every "SPSCLOG" after the first byte (at most MAX_SEGS pieces),
 * and each piece is written as a segment named by the number in its header
 * (or the next free number when the header is short or the number taken).
 * The seeds are real segments, so mutations start from a real log.  Each
 * input is replayed as it is and, if that changes it, again with the
 * record CRCs recomputed, and those of the atom frames that PUT records
 * carry (see fuzz.h), so that mutations get past the checksums.
 *
 * Everything happens in a private directory made once under $TMPDIR (or
 * /tmp), which is also the working directory while the store runs, so a
 * stray relative path would land there too.  After each input:
 *   - the directory holds nothing but the log directory: the store wrote
 *     nowhere else in it;
 *   - the lowest free descriptor is what it was: no descriptor leaked,
 *     whether the replay succeeded or refused the log;
 *   - every record handed to the callback lies inside the segment it
 *     names, after its header.
 * The log directory is then emptied for the next input.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "fuzz.h"
#include "log.h"
#include "store.h"

#define MAX_SEGS 8
#define SEGMENT_MAX ((uint64_t)64 << 10)	/* small: it is preallocated */

static char root[4096], logdir[4200];
static int home_fd;	/* the working directory libFuzzer was started in */

struct piece_file {
	uint64_t seq;
	size_t size;
};

struct run {
	struct piece_file segs[MAX_SEGS];
	int nsegs;
	uint64_t records, sum;
};

static void remove_root(void)
{
	if (root[0]) {
		rmdir(logdir);
		rmdir(root);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	/* Nearly every mutated log is truncated, with a warning: printed,
	 * they would bury libFuzzer's own output.  Errors still show. */
	log_threshold = LOG_ERROR;
	snprintf(root, sizeof root, "%s/spsc-fuzz-replay.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	home_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (home_fd < 0 || mkdtemp(root) == NULL) {
		perror(root);
		exit(1);
	}
	snprintf(logdir, sizeof logdir, "%s/log", root);
	atexit(remove_root);
	return 0;
}

/* Recomputes the CRC of each record of one segment, and those of the atom
 * frame inside each PUT, walking from the segment header as far as the
 * record lengths make sense. */
static void fix_records(uint8_t *p, size_t len)
{
	size_t off = SEGMENT_HEAD;
	size_t head = len >= 8 && memcmp(p, SEGMENT_MAGIC, 8) == 0 ? RECORD_HEAD
								    : RECORD_HEAD_V2;

	while (off < len && len - off >= head) {
		uint32_t rlen = le_get32(p + off);
		size_t body;

		if (rlen < head || rlen > len - off)
			return;
		body = head + (size_t)p[off + 9];
		if (p[off + 8] == REC_PUT && body < rlen)
			fix_frames(p + off + body, rlen - body);
		le_put32(p + off + 4, crc32c(0, p + off + 8, rlen - 8));
		off += rlen;
	}
}

static void touch(void *ctx, int type, const char *queue, const uint8_t *body,
		  size_t len, const struct record_pos *pos)
{
	struct run *run = ctx;
	const struct piece_file *seg = NULL;
	uint8_t *copy;
	struct atom a;
	struct atom_frame f;
	char why[256];

	for (int i = 0; i < run->nsegs; i++)
		if (run->segs[i].seq == pos->seq)
			seg = &run->segs[i];
	fuzz_assert(seg != NULL);
	fuzz_assert(pos->off >= SEGMENT_HEAD + RECORD_HEAD_V2);
	fuzz_assert(pos->off <= seg->size && len <= seg->size - pos->off);
	fuzz_assert(strlen(queue) < 256);
	/* A copy of the exact size: the consumer's reads are then checked. */
	copy = fuzz_copy(body, len);
	for (size_t i = 0; i < len; i++)
		run->sum += copy[i];
	if (type == REC_PUT && len >= 8)
		(void)atom_parse_header(copy, len, len, &a, &f, why, sizeof why);
	free(copy);
	run->records++;
}

static int seq_taken(const struct run *run, uint64_t seq)
{
	for (int i = 0; i < run->nsegs; i++)
		if (run->segs[i].seq == seq)
			return 1;
	return 0;
}

static void write_segment(struct run *run, const uint8_t *p, size_t len)
{
	uint64_t seq = run->nsegs ? run->segs[run->nsegs - 1].seq + 1 : 1;
	char path[4300];
	int fd;

	if (len >= SEGMENT_HEAD && !seq_taken(run, le_get64(p + 8)))
		seq = le_get64(p + 8);
	while (seq_taken(run, seq))
		seq++;
	snprintf(path, sizeof path, "%s/%020" PRIu64 ".seg", logdir, seq);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fd_write_all(fd, p, len) < 0) {
		perror(path);
		abort();
	}
	close(fd);
	run->segs[run->nsegs].seq = seq;
	run->segs[run->nsegs++].size = len;
}

/* Empties the log directory, and checks that the store wrote nothing
 * beside it. */
static void clean_up(void)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char path[4600];

	fuzz_assert(d != NULL);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, "log") == 0)
			continue;
		fprintf(stderr, "the store wrote %s/%s, outside its log\n", root,
			e->d_name);
		abort();
	}
	closedir(d);
	d = opendir(logdir);
	fuzz_assert(d != NULL);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", logdir, e->d_name);
		if (unlink(path) < 0) {
			perror(path);
			abort();
		}
	}
	closedir(d);
}

/* The lowest descriptor free now.  Compared before and after each input
 * only: between inputs libFuzzer itself opens some (the pipes to its
 * symbolizer, say). */
static int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

static void check_fds(int before)
{
	int fd = lowest_free_fd();

	if (fd != before) {
		char link[64], target[4200] = "?";
		ssize_t n;

		snprintf(link, sizeof link, "/proc/self/fd/%d", before);
		n = readlink(link, target, sizeof target - 1);
		target[n > 0 ? n : 1] = '\0';
		fprintf(stderr, "descriptor leak: fd %d is still open (%s)\n",
			before, target);
		abort();
	}
}

/* Where the segments of the input begin: before each "SPSCLOG" that is
 * not at the start, MAX_SEGS pieces at most.  at[n] is the end. */
static int cut(const uint8_t *p, size_t size, size_t at[MAX_SEGS + 1])
{
	const uint8_t *m;
	size_t from = 1;
	int n = 1;

	at[0] = 0;
	/* memmem, not a memcmp per byte: libFuzzer traces every memcmp. */
	while (n < MAX_SEGS && from < size &&
	       (m = memmem(p + from, size - from, "SPSCLOG", 7)) != NULL) {
		at[n++] = (size_t)(m - p);
		from = (size_t)(m - p) + 1;
	}
	at[n] = size;
	return n;
}

/* Writes the segments, replays them, and cleans up. */
static void replay(const uint8_t *p, size_t size)
{
	struct run run = { .nsegs = 0 };
	struct store s;
	size_t at[MAX_SEGS + 1];
	int n = cut(p, size, at), fds = lowest_free_fd();

	if (chdir(root) < 0 || (mkdir(logdir, 0700) < 0 && errno != EEXIST))
		abort();
	for (int i = 0; i < n; i++)
		write_segment(&run, p + at[i], at[i + 1] - at[i]);
	(void)store_open(&s, logdir, SEGMENT_MAX, FSYNC_NEVER, 0, touch, &run);
	store_close(&s);
	clean_up();
	check_fds(fds);
	if (fchdir(home_fd) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = fuzz_copy(data, size);
	size_t at[MAX_SEGS + 1];
	int n;

	replay(p, size);
	n = cut(p, size, at);
	for (int i = 0; i < n; i++)
		fix_records(p + at[i], at[i + 1] - at[i]);
	if (memcmp(p, data, size) != 0)
		replay(p, size);
	free(p);
	return 0;
}
