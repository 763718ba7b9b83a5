#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "le.h"
#include "journal.h"

#define JOURNAL_MAGIC "SPSC-IDS"
#define JOURNAL_VERSION 1
#define SCAN_RECORDS 1024	/* records read per pread while scanning */
#define VERIFY_CHUNK (64 * 1024)

struct jrec {
	struct atom_id id;
	uint64_t offset;
	uint64_t len;
	uint32_t data_crc;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* pread until len bytes or end of file; returns the count or -1. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static uint64_t record_pos(uint64_t index)
{
	return JOURNAL_HEADER_LEN + index * JOURNAL_RECORD_LEN;
}

static void encode_header(uint8_t h[JOURNAL_HEADER_LEN], const struct journal *j)
{
	memset(h, 0, JOURNAL_HEADER_LEN);
	memcpy(h, JOURNAL_MAGIC, 8);
	le_put32(h + 8, JOURNAL_VERSION);
	le_put32(h + 12, JOURNAL_RECORD_LEN);
	le_put64(h + 16, j->base);
	le_put32(h + 24, j->kind);
	le_put32(h + 28, crc32c(0, h, 28));
}

static const char *kind_name(uint32_t kind)
{
	return kind == JOURNAL_FILE ? "a file" : "standard output or a stream";
}

static void encode_record(uint8_t p[JOURNAL_RECORD_LEN], const struct jrec *r)
{
	memcpy(p, r->id.b, 16);
	le_put64(p + 16, r->offset);
	le_put64(p + 24, r->len);
	le_put32(p + 32, r->data_crc);
	le_put32(p + 36, crc32c(0, p, 36));
}

/* 1 if the record's own CRC holds (r is then filled in), else 0. */
static int decode_record(const uint8_t p[JOURNAL_RECORD_LEN], struct jrec *r)
{
	if (crc32c(0, p, 36) != le_get32(p + 36))
		return 0;
	memcpy(r->id.b, p, 16);
	r->offset = le_get64(p + 16);
	r->len = le_get64(p + 24);
	r->data_crc = le_get32(p + 32);
	return 1;
}

static int read_record(struct journal *j, uint64_t index, struct jrec *r,
		       char *err, size_t errlen)
{
	uint8_t p[JOURNAL_RECORD_LEN];
	ssize_t n = pread_full(j->fd, p, sizeof p, record_pos(index));

	if (n < 0)
		return fail(err, errlen, "%s: read error: %s", j->path,
			    strerror(errno));
	if (n != (ssize_t)sizeof p || !decode_record(p, r))
		return fail(err, errlen, "%s: record %llu changed while being read",
			    j->path, (unsigned long long)index);
	return 0;
}

/* Makes a new file's directory entry durable, for --fsync. */
static int sync_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_header(struct journal *j, char *err, size_t errlen)
{
	uint8_t h[JOURNAL_HEADER_LEN];

	encode_header(h, j);
	if (pwrite_all(j->fd, h, sizeof h, 0) < 0)
		return fail(err, errlen, "%s: write error: %s", j->path,
			    strerror(errno));
	return 0;
}

/*
 * A journal shorter than its header was being created when a run died,
 * before any data was written: it starts over.  Anything else must be a
 * whole, intact header of a version this program knows.
 */
static int load_header(struct journal *j, uint64_t size, uint64_t datasize,
		       char *err, size_t errlen)
{
	uint8_t h[JOURNAL_HEADER_LEN];
	size_t have = size < sizeof h ? (size_t)size : sizeof h;
	ssize_t n = pread_full(j->fd, h, have, 0);

	if (n != (ssize_t)have)
		return fail(err, errlen, "%s: read error: %s", j->path,
			    n < 0 ? strerror(errno) : "file shrank");
	if (memcmp(h, JOURNAL_MAGIC, have < 8 ? have : 8) != 0)
		return fail(err, errlen,
			    "%s: not an spsc-sink journal (bad magic)", j->path);
	if (have < sizeof h) {
		j->base = datasize;
		if (ftruncate(j->fd, 0) < 0)
			return fail(err, errlen, "%s: cannot truncate: %s",
				    j->path, strerror(errno));
		return write_header(j, err, errlen);
	}
	if (crc32c(0, h, 28) != le_get32(h + 28))
		return fail(err, errlen, "%s: journal header CRC mismatch", j->path);
	if (le_get32(h + 8) != JOURNAL_VERSION)
		return fail(err, errlen, "%s: journal version %u is not supported (this program knows %u)",
			    j->path, le_get32(h + 8), JOURNAL_VERSION);
	if (le_get32(h + 12) != JOURNAL_RECORD_LEN)
		return fail(err, errlen, "%s: bad journal record length %u",
			    j->path, le_get32(h + 12));
	/* A stream's offsets mean nothing for a file: taken for one, they
	 * would all be dropped, and the stream's record lost with them. */
	if (le_get32(h + 24) != j->kind)
		return fail(err, errlen, "%s: this journal belongs to %s, not to %s",
			    j->path, kind_name(le_get32(h + 24)), kind_name(j->kind));
	j->base = le_get64(h + 16);
	return 0;
}

/*
 * Reads records i.. in one pread, at most SCAN_RECORDS of them (*n says
 * how many); NULL on a read error.  Both passes over the journal use it.
 */
static const uint8_t *read_chunk(struct journal *j, uint64_t i, uint64_t count,
				 uint64_t *n, char *err, size_t errlen)
{
	static uint8_t buf[SCAN_RECORDS * JOURNAL_RECORD_LEN];
	ssize_t got;

	*n = count - i < SCAN_RECORDS ? count - i : SCAN_RECORDS;
	got = pread_full(j->fd, buf, *n * JOURNAL_RECORD_LEN, record_pos(i));
	if (got != (ssize_t)(*n * JOURNAL_RECORD_LEN)) {
		fail(err, errlen, "%s: read error: %s", j->path,
		     got < 0 ? strerror(errno) : "file shrank");
		return NULL;
	}
	return buf;
}

/*
 * First pass over the records: how many lead the journal intact and in
 * order (*valid), and how many of those end inside a data file of datasize
 * bytes (*fit).  Damaged records are tolerated only as a tail, which is
 * what a torn append leaves (or several, where a machine lost unsynced
 * pages); a damaged record followed by an intact one is real damage.
 */
static int scan_records(struct journal *j, uint64_t count, uint64_t datasize,
			uint64_t *valid, uint64_t *fit, char *err,
			size_t errlen)
{
	uint64_t end = j->base, first_bad = UINT64_MAX, n;
	struct jrec r;

	*valid = *fit = 0;
	for (uint64_t i = 0; i < count; i += n) {
		const uint8_t *buf = read_chunk(j, i, count, &n, err, errlen);
		if (buf == NULL)
			return -1;
		for (uint64_t k = 0; k < n; k++) {
			if (!decode_record(buf + k * JOURNAL_RECORD_LEN, &r)) {
				if (first_bad == UINT64_MAX)
					first_bad = i + k;
				continue;
			}
			if (first_bad != UINT64_MAX)
				return fail(err, errlen,
					    "%s: record %llu (byte %llu) is damaged but later records are intact",
					    j->path, (unsigned long long)first_bad,
					    (unsigned long long)record_pos(first_bad));
			if (r.offset != end || r.len > UINT64_MAX - r.offset)
				return fail(err, errlen,
					    "%s: record %llu (byte %llu) says offset %llu, expected %llu",
					    j->path, (unsigned long long)(i + k),
					    (unsigned long long)record_pos(i + k),
					    (unsigned long long)r.offset,
					    (unsigned long long)end);
			end = r.offset + r.len;
			(*valid)++;
			if (end <= datasize && *fit == *valid - 1)
				(*fit)++;
		}
	}
	return 0;
}

/* Whether the data file still holds the bytes a record describes. */
static int data_matches(int datafd, const struct jrec *r, int *match)
{
	static char buf[VERIFY_CHUNK];
	uint64_t done = 0;
	uint32_t crc = 0;

	while (done < r->len) {
		size_t want = r->len - done < sizeof buf ? (size_t)(r->len - done)
							 : sizeof buf;
		ssize_t n = pread_full(datafd, buf, want, r->offset + done);
		if (n < 0)
			return -1;
		if ((size_t)n < want) {
			*match = 0;
			return 0;
		}
		crc = crc32c(crc, buf, want);
		done += want;
	}
	*match = crc == r->data_crc;
	return 0;
}

/*
 * Walks back from the last kept record while its data is not what was
 * written: only a machine crash without --fsync leaves that (the file's
 * length survived, its pages did not).  Usually one record is checked.
 */
static int verify_tail(struct journal *j, int datafd, uint64_t *kept,
		       uint64_t *dropped, char *err, size_t errlen)
{
	struct jrec r;
	int match;

	while (*kept > 0) {
		if (read_record(j, *kept - 1, &r, err, errlen) < 0)
			return -1;
		if (data_matches(datafd, &r, &match) < 0)
			return fail(err, errlen, "read error on the data file: %s",
				    strerror(errno));
		if (match)
			break;
		(*kept)--;
		(*dropped)++;
	}
	return 0;
}

static int load_ids(struct journal *j, uint64_t count, struct idset *seen,
		    char *err, size_t errlen)
{
	struct jrec r;
	uint64_t n;

	for (uint64_t i = 0; i < count; i += n) {
		const uint8_t *buf = read_chunk(j, i, count, &n, err, errlen);
		if (buf == NULL)
			return -1;
		for (uint64_t k = 0; k < n; k++) {
			if (!decode_record(buf + k * JOURNAL_RECORD_LEN, &r))
				return fail(err, errlen, "%s: record %llu changed while being read",
					    j->path, (unsigned long long)(i + k));
			if (idset_add(seen, &r.id) < 0)
				return fail(err, errlen, "%s: out of memory for %llu ids",
					    j->path, (unsigned long long)count);
		}
	}
	return 0;
}

/*
 * Brings the data file and the journal back into step after whatever ended
 * the last run.  Data past the last record was never acknowledged (its
 * atom comes again), so it is cut; records past the data's end (or whose
 * bytes did not survive) are dropped, so their atoms are written again.
 */
static int reconcile(struct journal *j, int datafd, uint64_t size,
		     struct journal_recovery *rec, char *err, size_t errlen)
{
	uint64_t slots = (size - JOURNAL_HEADER_LEN) / JOURNAL_RECORD_LEN;
	uint64_t datasize = UINT64_MAX, valid, kept;
	struct jrec last;
	struct stat st;

	if (datafd >= 0) {
		if (fstat(datafd, &st) < 0)
			return fail(err, errlen, "cannot stat the data file: %s",
				    strerror(errno));
		datasize = (uint64_t)st.st_size;
	}
	if (scan_records(j, slots, datasize, &valid, &kept, err, errlen) < 0)
		return -1;
	rec->torn = slots - valid + ((size - JOURNAL_HEADER_LEN) % JOURNAL_RECORD_LEN != 0);
	rec->dropped = valid - kept;
	if (datafd >= 0 && verify_tail(j, datafd, &kept, &rec->dropped, err, errlen) < 0)
		return -1;
	j->records = kept;
	j->end = j->base;
	if (kept > 0) {
		if (read_record(j, kept - 1, &last, err, errlen) < 0)
			return -1;
		j->end = last.offset + last.len;
	}
	if (datafd >= 0 && datasize > j->end) {
		if (ftruncate(datafd, (off_t)j->end) < 0)
			return fail(err, errlen, "cannot truncate the data file to %llu bytes: %s",
				    (unsigned long long)j->end, strerror(errno));
		rec->cut = datasize - j->end;
	} else if (datafd >= 0 && datasize < j->end) {
		/* Nothing journaled survived and the file is shorter than
		 * when the journal began: begin again from what is there. */
		j->base = j->end = datasize;
		if (write_header(j, err, errlen) < 0)
			return -1;
	}
	if (record_pos(kept) != size && ftruncate(j->fd, (off_t)record_pos(kept)) < 0)
		return fail(err, errlen, "%s: cannot truncate: %s", j->path,
			    strerror(errno));
	return 0;
}

/*
 * Opens (creating, mode 0600) and locks the journal at path, repairs it and
 * the data file (datafd, or -1 when the data goes to a stream) after a
 * crash, and adds every journaled id to seen.
 */
int journal_open(struct journal *j, const char *path, int datafd, int fsync,
		 struct idset *seen, struct journal_recovery *rec, char *err,
		 size_t errlen)
{
	struct stat st, dst;
	int created;

	memset(j, 0, sizeof *j);
	memset(rec, 0, sizeof *rec);
	j->path = path;
	j->kind = datafd >= 0 ? JOURNAL_FILE : JOURNAL_STREAM;
	j->fsync = fsync;
	j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->fd < 0)
		return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	if (flock(j->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			fail(err, errlen, "%s: in use by another spsc-sink", path);
		else
			fail(err, errlen, "%s: cannot lock: %s", path, strerror(errno));
		goto bad;
	}
	if (fstat(j->fd, &st) < 0 || (datafd >= 0 && fstat(datafd, &dst) < 0)) {
		fail(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		goto bad;
	}
	created = st.st_size < JOURNAL_HEADER_LEN;
	if (load_header(j, (uint64_t)st.st_size, datafd >= 0 ? (uint64_t)dst.st_size : 0,
			err, errlen) < 0)
		goto bad;
	if (created)
		st.st_size = JOURNAL_HEADER_LEN;
	if (reconcile(j, datafd, (uint64_t)st.st_size, rec, err, errlen) < 0 ||
	    load_ids(j, j->records, seen, err, errlen) < 0)
		goto bad;
	if (fsync && (fdatasync(j->fd) < 0 || (datafd >= 0 && fdatasync(datafd) < 0) ||
		      (created && sync_parent(path) < 0))) {
		fail(err, errlen, "%s: fsync: %s", path, strerror(errno));
		goto bad;
	}
	return 0;
bad:
	close(j->fd);
	j->fd = -1;
	return -1;
}

/*
 * Records that len bytes at offset now hold the atom id.  Called only once
 * those bytes are written (and synced, with --fsync).  A failed append is
 * cut back off so the journal never ends in half a record of this run.
 */
int journal_append(struct journal *j, const struct atom_id *id,
		   uint64_t offset, uint64_t len, uint32_t data_crc,
		   char *err, size_t errlen)
{
	uint8_t p[JOURNAL_RECORD_LEN];
	struct jrec r = { *id, offset, len, data_crc };
	uint64_t pos = record_pos(j->records);

	encode_record(p, &r);
	if (pwrite_all(j->fd, p, sizeof p, pos) < 0) {
		int e = errno;
		if (ftruncate(j->fd, (off_t)pos) < 0) {
			/* the next start cuts the torn record instead */
		}
		return fail(err, errlen, "%s: write error: %s", j->path, strerror(e));
	}
	if (j->fsync && fdatasync(j->fd) < 0)
		return fail(err, errlen, "%s: fsync: %s", j->path, strerror(errno));
	j->records++;
	j->end = offset + len;
	return 0;
}

int journal_close(struct journal *j, char *err, size_t errlen)
{
	int rc = 0;

	if (j->fd >= 0 && close(j->fd) < 0)
		rc = fail(err, errlen, "%s: close: %s", j->path, strerror(errno));
	j->fd = -1;
	return rc;
}
