#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "le.h"
#include "fdio.h"
#include "grow.h"
#include "log.h"
#include "store.h"
#include "units.h"

#define SEGMENT_MAGIC "SPSCLOG1"
#define SMALL_BODY 256

static void segment_path(const struct store *s, uint64_t seq, char *buf,
			 size_t len)
{
	snprintf(buf, len, "%s/%020" PRIu64 ".seg", s->dir, seq);
}

static int fail(struct store *s, const char *what, const char *path)
{
	snprintf(s->err, sizeof s->err, "%s: %s: %s", path, what,
		 strerror(errno));
	return -1;
}

static int sync_dir(struct store *s)
{
	int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return fail(s, "open", s->dir);
	rc = fsync(fd);
	close(fd);
	return rc < 0 ? fail(s, "fsync", s->dir) : 0;
}

static struct segment *segment_push(struct store *s, uint64_t seq, int fd,
				    uint64_t size)
{
	if (grow(&s->segs, &s->segs_cap, s->nsegs + 1, sizeof *s->segs) < 0)
		return NULL;
	s->segs[s->nsegs] = (struct segment){ .seq = seq, .fd = fd, .size = size };
	return &s->segs[s->nsegs++];
}

static int segment_create(struct store *s, uint64_t seq)
{
	uint8_t head[SEGMENT_HEAD];
	char path[4200];
	int fd;

	segment_path(s, seq, path, sizeof path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(s, "create", path);
	memcpy(head, SEGMENT_MAGIC, 8);
	for (int i = 0; i < 8; i++)
		head[8 + i] = (uint8_t)(seq >> (8 * i));
	if (fd_write_all(fd, head, sizeof head) < 0) {
		close(fd);
		return fail(s, "write", path);
	}
	if (segment_push(s, seq, fd, SEGMENT_HEAD) == NULL) {
		close(fd);
		errno = ENOMEM;
		return fail(s, "segment table", path);
	}
	return s->fsync == FSYNC_NEVER ? 0 : sync_dir(s);
}

/*
 * Checks one record at off; returns its length, or 0 with why set if the
 * bytes there are not a whole, intact record.
 */
static size_t record_check(const uint8_t *p, size_t avail, char *why,
			   size_t whylen)
{
	uint32_t len;

	if (avail < RECORD_HEAD) {
		snprintf(why, whylen, "torn record head (%zu bytes)", avail);
		return 0;
	}
	len = le_get32(p);
	if (len < RECORD_HEAD || len > avail) {
		snprintf(why, whylen, "record length %" PRIu32 " runs past the end (%zu bytes left)",
			 len, avail);
		return 0;
	}
	if (crc32c(0, p + 8, len - 8) != le_get32(p + 4)) {
		snprintf(why, whylen, "record CRC mismatch");
		return 0;
	}
	if (RECORD_HEAD + (size_t)p[9] > len || p[8] < REC_PUT || p[8] > REC_PURGE) {
		snprintf(why, whylen, "malformed record (type %u)", p[8]);
		return 0;
	}
	return len;
}

/* Replays one segment; truncates it at the first bad record. */
static int segment_replay(struct store *s, struct segment *seg,
			  const char *path, replay_fn fn, void *ctx)
{
	struct stat st;
	uint8_t *map;
	size_t off = SEGMENT_HEAD;
	char why[160];

	if (fstat(seg->fd, &st) < 0)
		return fail(s, "stat", path);
	if ((size_t)st.st_size < SEGMENT_HEAD) {
		log_warn("%s: segment shorter than its header; removed", path);
		seg->size = 0;
		return 0;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, seg->fd, 0);
	if (map == MAP_FAILED)
		return fail(s, "mmap", path);
	if (memcmp(map, SEGMENT_MAGIC, 8) != 0) {
		munmap(map, (size_t)st.st_size);
		errno = EINVAL;
		return fail(s, "not a segment file", path);
	}
	while (off < (size_t)st.st_size) {
		size_t len = record_check(map + off, (size_t)st.st_size - off,
					  why, sizeof why);
		char queue[256];
		struct record_pos pos;
		if (len == 0) {
			log_warn("%s: byte %zu: %s; truncating %zu bytes",
				 path, off, why, (size_t)st.st_size - off);
			if (ftruncate(seg->fd, (off_t)off) < 0) {
				munmap(map, (size_t)st.st_size);
				return fail(s, "truncate", path);
			}
			break;
		}
		memcpy(queue, map + off + RECORD_HEAD, map[off + 9]);
		queue[map[off + 9]] = '\0';
		pos.seq = seg->seq;
		pos.off = off + RECORD_HEAD + map[off + 9];
		fn(ctx, map[off + 8], queue, map + pos.off, off + len - pos.off,
		   &pos);
		off += len;
	}
	seg->size = off;
	munmap(map, (size_t)st.st_size);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Finds the segment numbers in the directory, sorted. */
static int list_segments(struct store *s, uint64_t **out, size_t *n)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	uint64_t *seqs = NULL;
	size_t cap = 0;

	*n = 0;
	if (d == NULL)
		return fail(s, "open", s->dir);
	while ((e = readdir(d)) != NULL) {
		uint64_t seq;
		char tail[8];
		if (sscanf(e->d_name, "%20" SCNu64 "%7s", &seq, tail) != 2 ||
		    strcmp(tail, ".seg") != 0)
			continue;
		if (grow(&seqs, &cap, *n + 1, sizeof *seqs) < 0) {
			free(seqs);
			closedir(d);
			return fail(s, "listing", s->dir);
		}
		seqs[(*n)++] = seq;
	}
	closedir(d);
	if (*n > 1)
		qsort(seqs, *n, sizeof *seqs, cmp_u64);
	*out = seqs;
	return 0;
}

static int replay_all(struct store *s, replay_fn fn, void *ctx)
{
	uint64_t *seqs;
	size_t n;
	char path[4200];

	if (list_segments(s, &seqs, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct segment *seg;
		int fd;
		segment_path(s, seqs[i], path, sizeof path);
		fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
		if (fd < 0 || (seg = segment_push(s, seqs[i], fd, 0)) == NULL) {
			free(seqs);
			return fail(s, "open", path);
		}
		if (segment_replay(s, seg, path, fn, ctx) < 0) {
			free(seqs);
			return -1;
		}
	}
	free(seqs);
	return 0;
}

int store_open(struct store *s, const char *dir, uint64_t segment_max,
	       enum fsync_policy fsync, int64_t interval_ns, replay_fn fn,
	       void *ctx)
{
	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	s->segment_max = segment_max;
	s->fsync = fsync;
	s->fsync_interval_ns = interval_ns;
	s->last_sync_ns = mono_ns();
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail(s, "mkdir", dir);
	if (replay_all(s, fn, ctx) < 0)
		return -1;
	/* Always append to a fresh segment: the old tail may have been
	 * truncated, and a new file keeps recovery reasoning simple. */
	return segment_create(s, s->nsegs ? s->segs[s->nsegs - 1].seq + 1 : 1);
}

static int piece_add(struct store *s, const void *ptr, size_t off, size_t len)
{
	if (len == 0)
		return 0;
	if (grow(&s->pieces, &s->pieces_cap, s->npieces + 1, sizeof *s->pieces) < 0)
		return -1;
	s->pieces[s->npieces++] = (struct piece){ ptr, off, len };
	return 0;
}

/* Copies small bytes into hbuf (merging with the previous piece when it
 * is also in hbuf) and references large ones. */
static int buffer_bytes(struct store *s, const void *p, size_t len)
{
	if (len == 0)
		return 0;
	if (len > SMALL_BODY)
		return piece_add(s, p, 0, len);
	if (grow(&s->hbuf, &s->hcap, s->hlen + len, 1) < 0)
		return -1;
	memcpy(s->hbuf + s->hlen, p, len);
	if (s->npieces && s->pieces[s->npieces - 1].ptr == NULL &&
	    s->pieces[s->npieces - 1].off + s->pieces[s->npieces - 1].len == s->hlen)
		s->pieces[s->npieces - 1].len += len;
	else if (piece_add(s, NULL, s->hlen, len) < 0)
		return -1;
	s->hlen += len;
	return 0;
}

static struct segment *current(struct store *s)
{
	return &s->segs[s->nsegs - 1];
}

static int sync_current(struct store *s);

/*
 * Buffers one record whose body is body followed by body2 (either may be
 * empty); large bodies are referenced, not copied, until store_flush.
 * *pos says where the body will land.
 */
int store_append(struct store *s, int type, const char *queue,
		 const void *body, size_t len, const void *body2,
		 size_t len2, struct record_pos *pos)
{
	size_t qlen = strlen(queue), total = RECORD_HEAD + qlen + len + len2;
	uint8_t head[RECORD_HEAD + 256];
	uint32_t crc;

	if (current(s)->size + s->pending + total > s->segment_max &&
	    current(s)->size + s->pending > SEGMENT_HEAD) {
		/* A finished segment is synced before the next begins, or an
		 * interval sync (which only syncs the newest) would miss it. */
		if (store_flush(s) < 0 ||
		    (s->fsync != FSYNC_NEVER && s->dirty && sync_current(s) < 0) ||
		    segment_create(s, current(s)->seq + 1) < 0)
			return -1;
	}
	le_put32(head, (uint32_t)total);
	head[8] = (uint8_t)type;
	head[9] = (uint8_t)qlen;
	head[10] = head[11] = 0;
	memcpy(head + RECORD_HEAD, queue, qlen);
	crc = crc32c(0, head + 8, RECORD_HEAD - 8 + qlen);
	crc = crc32c(crc, body, len);
	crc = crc32c(crc, body2, len2);
	le_put32(head + 4, crc);
	if (buffer_bytes(s, head, RECORD_HEAD + qlen) < 0 ||
	    buffer_bytes(s, body, len) < 0 || buffer_bytes(s, body2, len2) < 0) {
		snprintf(s->err, sizeof s->err, "out of memory buffering a record");
		return -1;
	}
	if (pos) {
		pos->seq = current(s)->seq;
		pos->off = current(s)->size + s->pending + RECORD_HEAD + qlen;
	}
	s->pending += total;
	return 0;
}

static int sync_current(struct store *s)
{
	char path[4200];

	if (fdatasync(current(s)->fd) < 0) {
		segment_path(s, current(s)->seq, path, sizeof path);
		return fail(s, "fdatasync", path);
	}
	s->dirty = 0;
	s->last_sync_ns = mono_ns();
	return 0;
}

/* Writes everything buffered with one writev (per IOV_MAX), then syncs if
 * the policy says so.  A failure here is fatal to the caller: the records
 * may be half written, and only a replay knows what survived. */
int store_flush(struct store *s)
{
	char path[4200];

	if (s->pending == 0)
		return 0;
	if (grow(&s->iov, &s->iov_cap, s->npieces, sizeof *s->iov) < 0) {
		snprintf(s->err, sizeof s->err, "out of memory flushing");
		return -1;
	}
	for (size_t i = 0; i < s->npieces; i++) {
		struct piece *pc = &s->pieces[i];
		s->iov[i].iov_base = pc->ptr ? (void *)pc->ptr : s->hbuf + pc->off;
		s->iov[i].iov_len = pc->len;
	}
	if (fd_writev_all(current(s)->fd, s->iov, (int)s->npieces) < 0) {
		segment_path(s, current(s)->seq, path, sizeof path);
		return fail(s, "write", path);
	}
	current(s)->size += s->pending;
	s->pending = 0;
	s->npieces = 0;
	s->hlen = 0;
	s->dirty = 1;
	return s->fsync == FSYNC_ALWAYS ? sync_current(s) : 0;
}

/* For --fsync interval: called every loop turn. */
int store_sync_due(struct store *s, int64_t now)
{
	if (s->fsync != FSYNC_INTERVAL || !s->dirty ||
	    now - s->last_sync_ns < s->fsync_interval_ns)
		return 0;
	return sync_current(s);
}

static struct segment *find(struct store *s, uint64_t seq)
{
	size_t lo = 0, hi = s->nsegs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->segs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nsegs && s->segs[lo].seq == seq ? &s->segs[lo] : NULL;
}

int store_read(struct store *s, const struct record_pos *pos, void *buf,
	       size_t len)
{
	struct segment *seg = find(s, pos->seq);
	size_t done = 0;
	char path[4200];

	if (seg == NULL) {
		snprintf(s->err, sizeof s->err, "segment %" PRIu64 " is gone", pos->seq);
		return -1;
	}
	if (pos->off + len > seg->size && store_flush(s) < 0)
		return -1;
	while (done < len) {
		ssize_t n = pread(seg->fd, (char *)buf + done, len - done,
				  (off_t)(pos->off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			segment_path(s, seg->seq, path, sizeof path);
			if (n == 0)
				errno = EIO;
			return fail(s, "read", path);
		}
		done += (size_t)n;
	}
	return 0;
}

void store_ref(struct store *s, uint64_t seq)
{
	struct segment *seg = find(s, seq);

	if (seg)
		seg->live++;
}

/* Drops one live atom from a segment and reclaims, oldest first, every
 * segment left with none (never the one being written). */
void store_unref(struct store *s, uint64_t seq)
{
	struct segment *seg = find(s, seq);
	char path[4200];
	size_t drop = 0;

	if (seg && seg->live > 0)
		seg->live--;
	while (drop + 1 < s->nsegs && s->segs[drop].live == 0) {
		segment_path(s, s->segs[drop].seq, path, sizeof path);
		if (unlink(path) < 0)
			log_warn("%s: cannot remove: %s", path, strerror(errno));
		close(s->segs[drop].fd);
		drop++;
	}
	if (drop) {
		memmove(s->segs, s->segs + drop, (s->nsegs - drop) * sizeof *s->segs);
		s->nsegs -= drop;
	}
}

uint64_t store_disk_bytes(const struct store *s)
{
	uint64_t total = 0;

	for (size_t i = 0; i < s->nsegs; i++)
		total += s->segs[i].size;
	return total;
}

void store_close(struct store *s)
{
	if (s->nsegs && s->fsync != FSYNC_NEVER)
		(void)fdatasync(current(s)->fd);
	for (size_t i = 0; i < s->nsegs; i++)
		close(s->segs[i].fd);
	free(s->segs);
	free(s->pieces);
	free(s->hbuf);
	free(s->iov);
	memset(s, 0, sizeof *s);
}
