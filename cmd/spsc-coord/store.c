#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "fdio.h"
#include "le.h"
#include "grow.h"
#include "log.h"
#include "store.h"
#include "units.h"

#define SMALL_BODY 256
#define SPACE_RETRY_NS NS_PER_SEC

static void segment_path(const struct store *s, uint64_t seq, char *buf,
			 size_t len)
{
	segfile_path(&s->files, seq, buf, len);
}

static int fail(struct store *s, const char *what, const char *path)
{
	snprintf(s->err, sizeof s->err, "%s: %s: %s", path, what,
		 strerror(errno));
	return -1;
}

static struct segment *segment_push(struct store *s, struct segment seg)
{
	if (grow(&s->segs, &s->segs_cap, s->nsegs + 1, sizeof *s->segs) < 0)
		return NULL;
	s->segs[s->nsegs] = seg;
	return &s->segs[s->nsegs++];
}

static struct segment *current(struct store *s)
{
	return &s->segs[s->nsegs - 1];
}

/* Makes a segment in the loop, where the spare does not serve. */
static int segment_make(struct store *s, uint64_t seq, uint64_t bytes,
			struct segment *out)
{
	if (segfile_make(&s->files, seq, bytes, out) == 0)
		return 0;
	snprintf(s->err, sizeof s->err, "%s", s->files.err);
	return -1;
}

/* The spare's outcome, once it is known: waiting for it if wait is set.
 * Failing to make it is how a full disk is first noticed. */
static void take_spare(struct store *s, int wait)
{
	char why[sizeof s->err];
	int rc;

	if (s->spare.fd >= 0 || (rc = spare_take(&s->maker, wait, &s->spare, why, sizeof why)) == 0)
		return;
	if (rc > 0) {
		if (s->nospace)
			log_info("%s: disk space is back; taking PUTs again", s->dir);
		s->nospace = 0;
		return;
	}
	s->spare.fd = -1;
	if (!s->nospace)
		log_warn("%s; refusing PUTs until consumers free space", why);
	s->nospace = 1;
}

/* Hands the kept file over to be the next spare (segfile_lend). */
static int lend_reuse(struct store *s)
{
	int fd = s->reuse_fd;

	s->reuse_fd = -1;
	return segfile_lend(&s->files, fd);
}

/* Asks for the next spare (spare.h), from the reclaimed file if one is
 * kept; it is taken at the next switch, or sooner if made by then. */
static void make_spare(struct store *s)
{
	if (s->spare.fd >= 0 || spare_asked(&s->maker))
		return;
	s->space_tried = mono_ns();
	spare_ask(&s->maker, current(s)->seq + 1, lend_reuse(s));
	if (!s->maker.running)
		take_spare(s, 0);
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

/* Hands the newest segment's interval sync to the syncer (syncer.h).
 * 1: taken; 0: the syncer is busy with the last one; -1: no syncer, or
 * no descriptor to give it: sync here. */
static int hand_over(struct store *s)
{
	char path[4200];
	int rc;

	if (!s->syncer.running)
		return -1;
	segment_path(s, current(s)->seq, path, sizeof path);
	if ((rc = syncer_submit(&s->syncer, current(s)->fd, path)) == 1) {
		s->dirty = 0;
		s->last_sync_ns = mono_ns();
	}
	return rc;
}

/*
 * Starts a new segment with room for bytes.  A finished segment is synced
 * (or handed to the syncer) before the next begins, or an interval sync,
 * which only syncs the newest, would miss it.
 */
static int next_segment(struct store *s, uint64_t bytes)
{
	struct segment seg;

	if (store_flush(s) < 0)
		return -1;
	if (s->fsync != FSYNC_NEVER && s->dirty &&
	    (s->fsync == FSYNC_ALWAYS || hand_over(s) != 1) && sync_current(s) < 0)
		return -1;
	take_spare(s, 1);
	if (s->spare.fd >= 0 && bytes <= s->spare.reserved) {
		seg = s->spare;
		s->spare.fd = -1;
	} else {
		if (s->spare.fd >= 0) {	/* too small for this record */
			char path[4200];
			segment_path(s, s->spare.seq, path, sizeof path);
			close(s->spare.fd);
			(void)unlink(path);
			s->spare.fd = -1;
		}
		if (segment_make(s, current(s)->seq + 1, bytes, &seg) < 0)
			return -1;
	}
	if (segment_push(s, seg) == NULL) {
		errno = ENOMEM;
		return fail(s, "segment table", s->dir);
	}
	make_spare(s);
	return 0;
}

/* What a record of this queue and body length takes in the log. */
uint64_t store_record_size(const char *queue, size_t body)
{
	return RECORD_HEAD + strlen(queue) + body;
}

/*
 * Makes sure that bytes of records can be appended, starting a segment if
 * need be.  A PUT (is_put) must also leave a reserve when there is no
 * spare, so that the ACKs which free space can always be written.
 * Returns -1 with errno ENOSPC when the disk is full.
 */
int store_room(struct store *s, uint64_t bytes, int is_put)
{
	struct segment *cur = current(s);
	uint64_t used = cur->size + s->pending;
	uint64_t limit = s->segment_max < cur->reserved ? s->segment_max : cur->reserved;
	uint64_t quarter = s->segment_max / 4, keep;

	/* A PUT goes into the reserve only once the spare is made. */
	take_spare(s, is_put && used + bytes + quarter > limit);
	keep = is_put && s->spare.fd < 0 ? quarter : 0;
	if (used + bytes + keep <= limit || (used == SEGMENT_HEAD && !keep &&
					     used + bytes <= cur->reserved))
		return 0;
	if (used == SEGMENT_HEAD && !keep) {
		/* A record larger than a segment gets a segment of its own. */
		if (segfile_reserve(&s->files, cur, used + bytes) == 0)
			return 0;
		return fail(s, "allocate", s->dir);
	}
	take_spare(s, 1);	/* a full disk shows here first */
	if (is_put && s->nospace) {
		errno = ENOSPC;
		return fail(s, "no spare segment", s->dir);
	}
	if (next_segment(s, SEGMENT_HEAD + bytes > s->segment_max ?
			 SEGMENT_HEAD + bytes : s->segment_max) < 0)
		return -1;
	/* In the new segment, a PUT may still find no spare behind it. */
	return is_put ? store_room(s, bytes, 1) : 0;
}

/* Walks one segment, handing each record to fn.  *damage is set to the
 * first damaged run, if any (the walk goes on past it to count what is
 * at stake, but the caller decides whether that is acceptable). */
static int segment_replay(struct store *s, struct segment *seg,
			  const char *path, replay_fn fn, void *ctx,
			  struct log_damage *damage, size_t *after)
{
	struct segment_map m;
	struct log_record rec;
	struct log_damage dmg;
	struct stat st;
	uint8_t *map;
	size_t off = SEGMENT_HEAD;
	enum scan_step step;

	damage->len = 0;
	*after = 0;
	if (fstat(seg->fd, &st) < 0)
		return fail(s, "stat", path);
	seg->size = (uint64_t)st.st_size;
	if ((size_t)st.st_size < SEGMENT_HEAD)
		return 0;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, seg->fd, 0);
	if (map == MAP_FAILED)
		return fail(s, "mmap", path);
	segment_map_init(&m, map, (size_t)st.st_size);
	if (!segment_header_ok(&m, seg->seq)) {
		munmap(map, (size_t)st.st_size);
		s->damaged = 1;
		errno = EINVAL;
		return fail(s, m.version == 0 ? "not a segment file (bad magic); run 'spsc-coord fsck'"
				: "the header names another segment; run 'spsc-coord fsck'", path);
	}
	while ((step = segment_next(&m, &off, &rec, &dmg)) != SCAN_END) {
		struct record_pos pos = { seg->seq, rec.body_off };
		if (step == SCAN_DAMAGE) {
			if (damage->len == 0)
				*damage = dmg;
			continue;
		}
		if (damage->len) {
			(*after)++;
			continue;
		}
		fn(ctx, rec.type, rec.queue, rec.body, rec.body_len, &pos);
	}
	seg->size = off;	/* a file used again goes on past its records */
	munmap(map, (size_t)st.st_size);
	return 0;
}

/*
 * What a segment file holds for is_tail: its length, or just a header when
 * none of its records are its own (a file made ready for use again, whose
 * earlier life is all it holds).
 */
static uint64_t replay_size(int fd, uint64_t len)
{
	struct segment_map m;
	void *map;
	int holds;

	if (len <= SEGMENT_HEAD)
		return len;
	map = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return len;	/* the replay says why */
	segment_map_init(&m, map, (size_t)len);
	holds = segment_holds_records(&m);
	munmap(map, (size_t)len);
	return holds ? len : SEGMENT_HEAD;
}

/*
 * Once the whole log has been read: each file is cut where its records
 * end (a torn tail, or a file's earlier life: nothing any segment will be
 * read for again, since writing goes on in a new segment), and the blocks
 * allocated ahead past that are given back.
 */
static int trim_all(struct store *s)
{
	char path[4200];

	for (size_t i = 0; i < s->nsegs; i++) {
		struct segment *seg = &s->segs[i];
		struct stat st;
		segment_path(s, seg->seq, path, sizeof path);
		if (fstat(seg->fd, &st) < 0)
			return fail(s, "stat", path);
		if (seg->size < SEGMENT_HEAD)
			continue;	/* unborn: drop_unborn removes it */
		if ((uint64_t)st.st_size > seg->size &&
		    ftruncate(seg->fd, (off_t)seg->size) < 0)
			return fail(s, "truncate", path);
		(void)fallocate(seg->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)seg->size, (off_t)1 << 40);
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Finds the segment numbers in the directory, sorted. */
int store_list(const char *dir, uint64_t **out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t *seqs = NULL;
	size_t cap = 0;

	*n = 0;
	*out = NULL;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		uint64_t seq;
		char tail[8];
		if (sscanf(e->d_name, "%20" SCNu64 "%7s", &seq, tail) != 2 ||
		    strcmp(tail, ".seg") != 0)
			continue;
		if (grow(&seqs, &cap, *n + 1, sizeof *seqs) < 0) {
			free(seqs);
			closedir(d);
			return -1;
		}
		seqs[(*n)++] = seq;
	}
	closedir(d);
	if (*n > 1)
		qsort(seqs, *n, sizeof *seqs, cmp_u64);
	*out = seqs;
	return 0;
}

/* 1 if no segment after index i holds a record: i is the log's tail. */
static int is_tail(const struct store *s, size_t i)
{
	for (size_t k = i + 1; k < s->nsegs; k++)
		if (s->segs[k].size > SEGMENT_HEAD)
			return 0;
	return 1;
}

/*
 * Damage is fatal to a start unless it is a torn write at the very end of
 * the log.  Nothing is changed on disk here: the tail is cut only once
 * every segment has been read.
 */
static int judge_damage(struct store *s, size_t i, const struct log_damage *d,
			size_t after, uint64_t *cut)
{
	char path[4200];

	segment_path(s, s->segs[i].seq, path, sizeof path);
	if (d->at_end && after == 0 && is_tail(s, i)) {
		log_warn("%s: byte %zu: %s; a torn write at the end of the log: cutting %zu bytes",
			 path, d->off, d->why, d->len);
		*cut = d->off;
		return 0;
	}
	s->damaged = 1;
	snprintf(s->err, sizeof s->err,
		 "%s: byte %zu: %s; %zu damaged bytes%s, followed by %zu intact records%s",
		 path, d->off, d->why, d->len,
		 d->at_end ? " to the end of the segment" : "", after,
		 is_tail(s, i) ? "" : " (and later segments)");
	return -1;
}

static int replay_all(struct store *s, replay_fn fn, void *ctx)
{
	uint64_t *seqs, cut = 0;
	size_t n, tail = 0;
	char path[4200];
	int rc = 0;

	if (store_list(s->dir, &seqs, &n) < 0)
		return fail(s, "listing", s->dir);
	/* Every segment is opened and sized first: whether damage is a torn
	 * tail depends on what the later segments hold. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct stat st;
		int fd;
		segment_path(s, seqs[i], path, sizeof path);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0 ||
		    segment_push(s, (struct segment){ .seq = seqs[i], .fd = fd,
				 .size = replay_size(fd, (uint64_t)st.st_size) }) == NULL) {
			rc = fail(s, "open", path);
			if (fd >= 0)
				close(fd);
		}
	}
	free(seqs);
	for (size_t i = 0; i < s->nsegs && rc == 0; i++) {
		struct log_damage d;
		size_t after;
		segment_path(s, s->segs[i].seq, path, sizeof path);
		if (s->segs[i].size < SEGMENT_HEAD && !is_tail(s, i)) {
			s->damaged = 1;
			snprintf(s->err, sizeof s->err,
				 "%s: %" PRIu64 " bytes, shorter than a segment header, before later segments; run 'spsc-coord fsck'",
				 path, s->segs[i].size);
			rc = -1;
			break;
		}
		rc = segment_replay(s, &s->segs[i], path, fn, ctx, &d, &after);
		if (rc == 0 && d.len && judge_damage(s, i, &d, after, &cut) < 0)
			rc = -1;
		if (rc == 0 && d.len)
			tail = i;
	}
	if (rc == 0 && cut)
		s->segs[tail].size = cut;
	return rc == 0 ? trim_all(s) : rc;
}

/* A segment shorter than its header was being made when a crash came;
 * one that is not the last would be damage, which replay reports. */
static void drop_unborn(struct store *s)
{
	char path[4200];

	while (s->nsegs && current(s)->size < SEGMENT_HEAD) {
		segment_path(s, current(s)->seq, path, sizeof path);
		log_warn("%s: segment shorter than its header; removed", path);
		close(current(s)->fd);
		(void)unlink(path);
		s->nsegs--;
	}
}

/* A file kept for reuse when the coordinator last stopped is used as
 * such now; it is not part of the log.  One it was making a segment of
 * when it stopped is not either, and goes. */
static void adopt_reuse(struct store *s)
{
	char path[4200];

	segfile_lent_path(&s->files, path, sizeof path);
	(void)unlink(path);
	segfile_reuse_path(&s->files, path, sizeof path);
	s->reuse_fd = open(path, O_RDWR | O_CLOEXEC);
}

int store_open(struct store *s, const char *dir, uint64_t segment_max,
	       enum fsync_policy fsync, int64_t interval_ns, replay_fn fn,
	       void *ctx)
{
	struct segment seg;

	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	s->segment_max = segment_max;
	s->fsync = fsync;
	s->fsync_interval_ns = interval_ns;
	s->last_sync_ns = mono_ns();
	segfiles_init(&s->files, dir, segment_max, fsync);
	s->spare.fd = -1;
	s->reuse_fd = -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail(s, "mkdir", dir);
	adopt_reuse(s);
	if (fsync == FSYNC_INTERVAL && syncer_start(&s->syncer) < 0)
		log_warn("%s: no sync thread (%s): syncs wait in the loop", dir, strerror(errno));
	s->replaying = 1;
	if (replay_all(s, fn, ctx) < 0)
		return -1;
	s->replaying = 0;
	drop_unborn(s);
	/* Always append to a fresh segment: the old tail may have been
	 * cut, and a new file keeps recovery reasoning simple. */
	if (segment_make(s, s->nsegs ? current(s)->seq + 1 : 1, segment_max, &seg) < 0)
		return -1;
	if (segment_push(s, seg) == NULL) {
		errno = ENOMEM;
		return fail(s, "segment table", dir);
	}
	spare_start(&s->maker, &s->files);
	make_spare(s);
	return 0;
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

/* body2's CRC, crc32c(0, body2, len2), if the caller knows it: crc2. */
static int append(struct store *s, int type, const char *queue,
		  const void *body, size_t len, const void *body2, size_t len2,
		  const uint32_t *crc2, struct record_pos *pos)
{
	uint64_t total = store_record_size(queue, len + len2);
	uint8_t head[RECORD_HEAD + 256];
	size_t hlen;
	uint32_t crc;

	if (s->failed)
		return -1;
	if (store_room(s, total, 0) < 0) {
		s->failed = 1;
		return -1;
	}
	hlen = record_head(head, type, queue, (uint32_t)total, current(s)->seq);
	crc = crc32c(0, head + 8, hlen - 8);
	crc = crc32c(crc, body, len);
	/* the join costs about what 4 KiB of CRC does: below, read them */
	crc = crc2 && len2 >= 4096 ? crc32c_combine(crc, *crc2, len2)
				   : crc32c(crc, body2, len2);
	le_put32(head + 4, crc);
	if (buffer_bytes(s, head, hlen) < 0 ||
	    buffer_bytes(s, body, len) < 0 || buffer_bytes(s, body2, len2) < 0) {
		snprintf(s->err, sizeof s->err, "out of memory buffering a record");
		s->failed = 1;
		return -1;
	}
	if (pos) {
		pos->seq = current(s)->seq;
		pos->off = current(s)->size + s->pending + hlen;
	}
	s->pending += total;
	return 0;
}

/*
 * Buffers one record whose body is body followed by body2 (either may be
 * empty); large bodies are referenced, not copied, until store_flush.
 * *pos says where the body will land.  A PUT must have made its room
 * with store_room first; for other records a failure here is fatal, and
 * store_flush reports it.
 */
int store_append(struct store *s, int type, const char *queue,
		 const void *body, size_t len, const void *body2,
		 size_t len2, struct record_pos *pos)
{
	return append(s, type, queue, body, len, body2, len2, NULL, pos);
}

/*
 * A PUT record of a frame whose payload was just checked against its
 * CRC: the record's CRC is joined from that CRC (crc32c_combine), not read
 * from the payload again, which halves the CRC work of a PUT.  A payload
 * that went bad between the check and here is in memory the coordinator
 * owns, and a later change on disk is still caught by both CRCs.
 */
int store_append_frame(struct store *s, const char *queue, const uint8_t *frame,
		       size_t header_len, size_t stored, uint32_t payload_crc,
		       struct record_pos *pos)
{
	return append(s, REC_PUT, queue, frame, header_len, frame + header_len, stored,
		      &payload_crc, pos);
}

/* Writes everything buffered with one pwritev (per IOV_MAX) where the
 * segment's records end (in a file used again, not the file's end), then
 * syncs if the policy says so.  A failure here is fatal to the caller: the
 * records may be half written, and only a replay knows what survived. */
int store_flush(struct store *s)
{
	char path[4200];

	if (s->failed)
		return -1;
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
	if (fd_pwritev_all(current(s)->fd, s->iov, (int)s->npieces,
			   (off_t)current(s)->size) < 0) {
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
	char path[4200];
	int err = syncer_failed(&s->syncer, path, sizeof path);

	if (err) {
		errno = err;
		return fail(s, "fdatasync", path);
	}
	if (s->fsync != FSYNC_INTERVAL || !s->dirty ||
	    now - s->last_sync_ns < s->fsync_interval_ns)
		return 0;
	return hand_over(s) >= 0 ? 0 : sync_current(s);	/* busy: again next turn */
}

/* While the disk is full, tries once a second to make the spare again. */
void store_retry_space(struct store *s, int64_t now)
{
	take_spare(s, 0);
	if (s->nospace && now - s->space_tried >= SPACE_RETRY_NS)
		make_spare(s);
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

/*
 * The frame at pos, in place in its segment's mapping, written out first
 * if it is still buffered: no read(2), no copy.  NULL when it cannot be
 * served so (the mapping failed, or a record larger than a segment lies
 * past it): the caller reads it with store_read.
 */
const uint8_t *store_frame(struct store *s, const struct record_pos *pos,
			   size_t len, struct segview **view)
{
	struct segment *seg = find(s, pos->seq);

	if (seg == NULL || (pos->off + len > seg->size && store_flush(s) < 0))
		return NULL;
	if (seg->view == NULL) {
		/* The segment being written grows into its mapping. */
		uint64_t want = seg == current(s) && s->segment_max > seg->size
				? s->segment_max : seg->size;
		if ((seg->view = segview_map(seg->fd, (size_t)want)) == NULL)
			return NULL;
	}
	if (pos->off + len > seg->view->len)
		return NULL;
	*view = seg->view;
	return seg->view->base + pos->off;
}

/* Is seq the segment being written? */
int store_is_current(const struct store *s, uint64_t seq)
{
	return s->nsegs && s->segs[s->nsegs - 1].seq == seq;
}

void store_ref(struct store *s, uint64_t seq, uint64_t bytes)
{
	struct segment *seg = find(s, seq);

	if (seg) {
		seg->live++;
		seg->live_bytes += bytes;
	}
}

/* Drops one live atom from a segment; store_reclaim deletes it later. */
void store_unref(struct store *s, uint64_t seq, uint64_t bytes)
{
	struct segment *seg = find(s, seq);

	if (seg && seg->live > 0) {
		seg->live--;
		seg->live_bytes -= bytes < seg->live_bytes ? bytes : seg->live_bytes;
	}
}

/* Would store_reclaim delete anything? */
int store_reclaimable(const struct store *s)
{
	return !s->replaying && s->nsegs > 1 && s->segs[0].live == 0;
}

/*
 * Takes a reclaimed segment's file out of the log to be the next spare,
 * unless one is kept already, the file is empty or outsized (a record
 * larger than a segment had it to itself: its disk is better given
 * back), or a payload sent from its mapping may still be on its way: the
 * file is written over once it is used again.
 */
static int keep_for_reuse(struct store *s, const struct segment *seg,
			  const char *path)
{
	char to[4200];

	if (s->reuse_fd >= 0 || seg->size <= SEGMENT_HEAD ||
	    seg->size > s->segment_max ||
	    (seg->view && atomic_load(&seg->view->refs) > 1))
		return -1;
	segfile_reuse_path(&s->files, to, sizeof to);
	if (rename(path, to) < 0)
		return -1;
	s->reuse_fd = seg->fd;
	return 0;
}

/* Deletes, oldest first, every segment left with no live atom (never the
 * one being written, and nothing before a replay is whole). */
void store_reclaim(struct store *s)
{
	char path[4200];
	size_t drop = 0;

	if (s->replaying)
		return;
	while (drop + 1 < s->nsegs && s->segs[drop].live == 0) {
		struct segment *seg = &s->segs[drop];
		segment_path(s, seg->seq, path, sizeof path);
		if (keep_for_reuse(s, seg, path) < 0) {
			if (unlink(path) < 0)
				log_warn("%s: cannot remove: %s", path, strerror(errno));
			close(seg->fd);
		}
		segview_drop(seg->view);	/* unmapped once sent */
		drop++;
	}
	if (drop) {
		memmove(s->segs, s->segs + drop, (s->nsegs - drop) * sizeof *s->segs);
		s->nsegs -= drop;
	}
}

/*
 * The segment whose live atoms compaction should copy forward, or 0.
 * Only the oldest, since deletion is oldest first; and only while the log
 * holds more than twice its live bytes (plus two segments of slack), so
 * that copying costs at most as much as it frees, amortised.
 */
uint64_t store_compact_victim(const struct store *s)
{
	uint64_t live = 0;

	if (s->nsegs < 3 || s->segs[0].live == 0)
		return 0;
	for (size_t i = 0; i < s->nsegs; i++)
		live += s->segs[i].live_bytes;
	return store_disk_bytes(s) > 2 * live + 2 * s->segment_max ? s->segs[0].seq : 0;
}

uint64_t store_disk_bytes(const struct store *s)
{
	uint64_t total = 0;

	for (size_t i = 0; i < s->nsegs; i++)
		total += s->segs[i].size;
	return total;
}

/* The position just past the last record appended, written or not:
 * what the counters saved beside the log have seen (see conf.c).  The
 * buffered records are in the newest segment, as any switch flushes. */
void store_end(const struct store *s, struct record_pos *end)
{
	end->seq = s->nsegs ? s->segs[s->nsegs - 1].seq : 0;
	end->off = s->nsegs ? s->segs[s->nsegs - 1].size + s->pending : 0;
}

void store_close(struct store *s)
{
	struct segment left;

	syncer_stop(&s->syncer);
	spare_stop(&s->maker, &left);
	if (left.fd >= 0 && s->spare.fd < 0)
		s->spare = left;
	if (s->nsegs && s->fsync != FSYNC_NEVER)
		(void)fdatasync(current(s)->fd);
	for (size_t i = 0; i < s->nsegs; i++) {
		close(s->segs[i].fd);
		segview_drop(s->segs[i].view);
	}
	if (s->spare.fd >= 0) {
		char path[4200];
		segment_path(s, s->spare.seq, path, sizeof path);
		close(s->spare.fd);
		(void)unlink(path);
	}
	if (s->reuse_fd >= 0)
		close(s->reuse_fd);	/* kept: the next start uses it */
	free(s->segs);
	free(s->pieces);
	free(s->hbuf);
	free(s->iov);
	memset(s, 0, sizeof *s);
	s->spare.fd = -1;
}
