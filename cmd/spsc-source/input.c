/*
 * input: one input, whatever it holds, read through libarchive.
 *
 * libarchive looks at the content, not the name: a tar, zip, cpio or 7z
 * archive (optionally compressed) gives one stream of events per regular
 * member; a single .gz, .zst, .xz or .bz2 file gives its decompressed
 * bytes; anything else is read as it is ("raw").  Only the formats we mean
 * are enabled: the catch-all would also try mtree and friends, which take
 * ordinary text for an archive.
 *
 * A pipe or terminal is a stream: bytes come when they come.  libarchive's
 * format detection wants up to 512 bytes (and the uu filter twenty lines)
 * before it decides, which would hold back the first events of a slow log
 * forever.  So a stream's first bytes are shown to libarchive from memory;
 * if it sees plain text, stream.c reads the rest without libarchive and the
 * linger clock starts with the first line.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "manifest.h"
#include "source.h"
#include "units.h"

#define SNIFF_WANT 512
#define SNIFF_CAP (64 * 1024)
#define RETRY_MAX 100000

/* What libarchive's callbacks need to read one input. */
struct reader {
	struct source *src;
	int fd;
	int stream;		/* may block: wait with linger and signals */
	int seekable;		/* read from offset 0 of a regular file */
	const char *prefix;	/* sniffed bytes, handed out first */
	size_t prefix_len;
	struct batcher *b;	/* the member being read, for linger cuts */
};

/* The end of a member's read: how the archive loop goes on. */
enum member_end { MEMBER_OK, MEMBER_FAILED, ARCHIVE_STOP };

static const char *archive_why(struct archive *a)
{
	const char *s = archive_error_string(a);

	return s ? s : "unknown archive error";
}

static la_ssize_t on_read(struct archive *a, void *data, const void **out)
{
	struct reader *r = data;
	struct source *src = r->src;
	ssize_t n;
	int rc;

	if (r->prefix_len > 0) {
		*out = r->prefix;
		n = (ssize_t)r->prefix_len;
		r->prefix_len = 0;
		return n;
	}
	if (source_check_signal(src)) {
		archive_set_error(a, EINTR, "interrupted");
		return -1;
	}
	while (r->stream) {
		int64_t due = r->b ? batcher_deadline(r->b) : INT64_MAX;
		if (due <= mono_ns()) {
			if (batcher_flush(r->b) < 0) {
				archive_set_error(a, EIO, "output failed");
				return -1;
			}
			continue;
		}
		rc = source_wait(src, r->fd, due);
		if (rc < 0 || src->stopping) {
			archive_set_error(a, EINTR, "interrupted");
			return -1;
		}
		if (rc == 1)
			break;
	}
	n = fd_read(r->fd, src->block, SOURCE_READ_BLOCK);
	if (n < 0) {
		archive_set_error(a, errno, "read error: %s", strerror(errno));
		return -1;
	}
	*out = src->block;
	return n;
}

static la_int64_t on_skip(struct archive *a, void *data, la_int64_t request)
{
	struct reader *r = data;
	off_t here, there;

	(void)a;
	if (r->stream)
		return 0;	/* libarchive then reads and drops */
	here = lseek(r->fd, 0, SEEK_CUR);
	there = lseek(r->fd, (off_t)request, SEEK_CUR);
	if (here < 0 || there < 0)
		return 0;
	return (la_int64_t)(there - here);
}

static la_int64_t on_seek(struct archive *a, void *data, la_int64_t offset,
			  int whence)
{
	struct reader *r = data;
	off_t to = lseek(r->fd, (off_t)offset, whence);

	if (to < 0) {
		archive_set_error(a, errno, "seek error: %s", strerror(errno));
		return ARCHIVE_FATAL;
	}
	return (la_int64_t)to;
}

static struct archive *archive_reader_new(void)
{
	struct archive *a = archive_read_new();

	if (a == NULL)
		return NULL;
	if (archive_read_support_filter_all(a) < ARCHIVE_WARN ||
	    archive_read_support_format_tar(a) < ARCHIVE_WARN ||
	    archive_read_support_format_zip(a) < ARCHIVE_WARN ||
	    archive_read_support_format_cpio(a) < ARCHIVE_WARN ||
	    archive_read_support_format_7zip(a) < ARCHIVE_WARN ||
	    archive_read_support_format_empty(a) < ARCHIVE_WARN ||
	    archive_read_support_format_raw(a) < ARCHIVE_WARN) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Sparse members have holes; they read as zero bytes, as a file would. */
static int feed_zeros(struct batcher *b, uint64_t len)
{
	static const char zeros[64 * 1024];

	while (len > 0) {
		size_t n = len < sizeof zeros ? (size_t)len : sizeof zeros;
		if (batcher_feed(b, zeros, n) < 0)
			return -1;
		len -= n;
	}
	return 0;
}

/*
 * What becomes of the pending atom when a signal stops us mid-input.  A
 * regular file can be read again: its part-atom is dropped, the file is not
 * recorded as ingested, and the next run cuts the very same atoms (same
 * ids), so sinks see no duplicates.  A stream cannot be read again: what
 * was read goes out.
 */
static void stop_member(struct reader *r, struct batcher *b)
{
	if (r->stream)
		(void)batcher_finish(b);
	else
		batcher_discard(b);
}

/* 7z keeps its directory at the end: libarchive must seek to read it. */
static const char *pipe_hint(const struct reader *r, struct archive *a)
{
	if (r->stream && archive_format(a) == ARCHIVE_FORMAT_7ZIP)
		return " (a 7z archive must be a file, not a pipe)";
	return "";
}

/* A member went wrong: its whole events so far stay written. */
static enum member_end member_error(const struct reader *r,
				   struct archive *a, struct batcher *b,
				   int rc)
{
	log_error("%s: byte %" PRIu64 ": %s%s", b->label, b->offset,
		  archive_why(a), pipe_hint(r, a));
	b->src->failed = 1;
	if (batcher_flush(b) < 0)
		return ARCHIVE_STOP;
	batcher_discard(b);
	return rc == ARCHIVE_FATAL ? ARCHIVE_STOP : MEMBER_FAILED;
}

static enum member_end read_member(struct reader *r, struct archive *a,
				   struct batcher *b)
{
	struct source *src = r->src;
	const void *buf;
	size_t size;
	la_int64_t off;
	uint64_t expect = 0;
	int rc;

	for (;;) {
		rc = archive_read_data_block(a, &buf, &size, &off);
		if (rc == ARCHIVE_EOF)
			break;
		if (src->stopping || src->fatal) {
			if (!src->fatal)
				stop_member(r, b);
			return ARCHIVE_STOP;
		}
		if (rc != ARCHIVE_OK)
			return member_error(r, a, b, rc);
		if (off >= 0 && (uint64_t)off > expect &&
		    feed_zeros(b, (uint64_t)off - expect) < 0)
			break;
		if (batcher_feed(b, buf, size) < 0)
			break;
		expect = (uint64_t)(off >= 0 ? off : 0) + size;
		if (source_check_signal(src)) {
			stop_member(r, b);
			return ARCHIVE_STOP;
		}
	}
	if (src->fatal)
		return ARCHIVE_STOP;
	if (src->stopping) {
		stop_member(r, b);
		return ARCHIVE_STOP;
	}
	if (b->failed)
		return MEMBER_FAILED;	/* an oversize event, already named */
	return batcher_finish(b) < 0 ? ARCHIVE_STOP : MEMBER_OK;
}

/* "logs.tar" + "app/x.log" -> "logs.tar/app/x.log"; a plain or singly
 * compressed file has no members to name. */
static char *member_label(struct archive *a, struct archive_entry *e,
			  const char *label)
{
	const char *path = archive_entry_pathname(e);
	size_t ll = strlen(label), pl;
	char *s;

	if (archive_format(a) == ARCHIVE_FORMAT_RAW || path == NULL)
		return strdup(label);
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	pl = strlen(path);
	s = malloc(ll + pl + 2);
	if (s == NULL)
		return NULL;
	memcpy(s, label, ll);
	s[ll] = '/';
	memcpy(s + ll + 1, path, pl + 1);
	return s;
}

/* Reads every member; 0 if all of them were read whole. */
static int read_members(struct reader *r, struct archive *a,
			const char *label)
{
	struct source *src = r->src;
	struct archive_entry *e;
	struct batcher b;
	enum member_end end;
	int rc, ok = 1, retries = 0;
	char *mlabel;

	batcher_init(&b, src);
	r->b = &b;
	for (;;) {
		rc = archive_read_next_header(a, &e);
		if (rc == ARCHIVE_EOF)
			break;
		if (src->stopping || src->fatal) {
			ok = 0;
			break;
		}
		/* A damaged tar header: libarchive skips it and looks for the
		 * next one.  Each retry consumes input, but stay bounded. */
		if (rc == ARCHIVE_RETRY) {
			if (retries++ == 0)
				log_error("%s: %s (looking for the next member)",
					  label, archive_why(a));
			ok = 0;
			if (retries < RETRY_MAX)
				continue;
			break;
		}
		if (rc < ARCHIVE_WARN) {
			log_error("%s: %s%s", label, archive_why(a),
				  pipe_hint(r, a));
			ok = 0;
			/* FAILED: this entry is lost, the next may be fine. */
			if (rc == ARCHIVE_FAILED && ++retries < RETRY_MAX)
				continue;
			break;
		}
		retries = 0;
		if (rc == ARCHIVE_WARN)
			log_warn("%s: %s", label, archive_why(a));
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		mlabel = member_label(a, e, label);
		if (mlabel == NULL || batcher_start(&b, mlabel) < 0) {
			log_error("%s: out of memory", label);
			src->fatal = 1;
			free(mlabel);
			ok = 0;
			break;
		}
		free(mlabel);
		end = read_member(r, a, &b);
		if (end != MEMBER_OK)
			ok = 0;
		if (end == ARCHIVE_STOP)
			break;
	}
	r->b = NULL;
	batcher_free(&b);
	if (!ok && !src->stopping && !src->fatal)
		src->failed = 1;
	return ok ? 0 : -1;
}

static int read_archive(struct reader *r, const char *label)
{
	struct archive *a = archive_reader_new();
	int rc;

	if (a == NULL) {
		log_error("%s: cannot set up libarchive", label);
		r->src->fatal = 1;
		return -1;
	}
	archive_read_set_callback_data(a, r);
	archive_read_set_read_callback(a, on_read);
	archive_read_set_skip_callback(a, on_skip);
	if (r->seekable)
		archive_read_set_seek_callback(a, on_seek);
	if (archive_read_open1(a) != ARCHIVE_OK) {
		if (!r->src->stopping) {
			log_error("%s: %s", label, archive_why(a));
			r->src->failed = 1;
		}
		archive_read_free(a);
		return -1;
	}
	rc = read_members(r, a, label);
	archive_read_free(a);
	return rc;
}

/* A regular file (or stdin redirected from one): 0 if read whole. */
int input_regular(struct source *src, int fd, const char *label)
{
	struct reader r = { .src = src, .fd = fd };

	/* libarchive's seeks are absolute: only a file read from its start
	 * may seek (zip and 7z use it to find their directory). */
	r.seekable = lseek(fd, 0, SEEK_CUR) == 0;
	return read_archive(&r, label);
}

/*
 * True if libarchive, shown the first bytes from memory, sees neither an
 * archive nor a compressed stream.  A NUL byte rules text out early: tar
 * headers are full of them and no log line has one in its first bytes.
 */
static int looks_like_text(const char *buf, size_t len)
{
	struct archive *a;
	struct archive_entry *e;
	int rc, text;

	if (memchr(buf, '\0', len) != NULL)
		return 0;
	a = archive_reader_new();
	if (a == NULL)
		return 0;
	rc = archive_read_open_memory(a, buf, len);
	if (rc == ARCHIVE_OK)
		rc = archive_read_next_header(a, &e);
	text = rc >= ARCHIVE_WARN &&
	       archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE &&
	       archive_format(a) == ARCHIVE_FORMAT_RAW;
	archive_read_free(a);
	return text;
}

/*
 * Collects a stream's first bytes: 512 of them (all any format needs to be
 * recognised), or the end of input, or at least one whole line with nothing
 * more ready to read.  -1 if a signal came first or reading failed.
 */
static int sniff(struct source *src, int fd, const char *label, char *buf,
		 size_t *len, int *eof)
{
	ssize_t n;
	int rc;

	*len = 0;
	*eof = 0;
	while (*len < SNIFF_WANT) {
		int have_line = *len > 0 && memchr(buf, '\n', *len) != NULL;
		rc = source_wait(src, fd, have_line ? mono_ns() : INT64_MAX);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return src->stopping && *len == 0 ? -1 : 0;
		n = fd_read(fd, buf + *len, SNIFF_CAP - *len);
		if (n < 0) {
			log_error("%s: byte %zu: read error: %s", label, *len,
				  strerror(errno));
			src->failed = 1;
			return -1;
		}
		if (n == 0) {
			*eof = 1;
			return 0;
		}
		*len += (size_t)n;
	}
	return 0;
}

/* A pipe, FIFO or terminal. */
int input_stream(struct source *src, int fd, const char *label)
{
	struct reader r = { .src = src, .fd = fd, .stream = 1 };
	char *head = malloc(SNIFF_CAP);
	size_t len;
	int eof, rc;

	if (head == NULL) {
		log_error("%s: out of memory", label);
		src->fatal = 1;
		return -1;
	}
	fd_grow_pipe(fd);
	rc = sniff(src, fd, label, head, &len, &eof);
	if (rc == 0 && len > 0) {
		if (looks_like_text(head, len)) {
			rc = stream_ingest(src, fd, label, head, len, eof);
		} else {
			r.prefix = head;
			r.prefix_len = len;
			rc = read_archive(&r, label);
		}
	}
	free(head);
	return rc;
}

int input_stdin(struct source *src)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) < 0) {
		log_error("stdin: %s", strerror(errno));
		src->failed = 1;
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		log_error("stdin: is a directory");
		src->failed = 1;
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return st.st_size == 0 ? 0 : input_regular(src, STDIN_FILENO, "-");
	return input_stream(src, STDIN_FILENO, "-");
}

/* The output must hold an input's atoms before the manifest says it was
 * ingested: for a file endpoint that means on disk. */
static void record_ingested(struct source *src, const struct stat *st,
			    const char *path)
{
	if (src->manifest == NULL)
		return;
	if (endpoint_sync(&src->out) < 0) {
		log_error("%s", src->out.err);
		src->fatal = 1;
		return;
	}
	if (manifest_record(src->manifest, st, path) < 0)
		src->fatal = 1;
}

/* One named input; failures are logged and counted, never fatal. */
int input_file(struct source *src, const char *path)
{
	struct stat st;
	int fd, rc;

	if (strcmp(path, "-") == 0)
		return input_stdin(src);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log_error("%s: cannot open: %s", path, strerror(errno));
		src->failed = 1;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		log_error("%s: %s", path, strerror(errno));
		src->failed = 1;
		close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		log_error("%s: is a directory", path);
		src->failed = 1;
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = input_stream(src, fd, path);
	} else if (src->manifest && manifest_has(src->manifest, &st)) {
		log_debug("%s: already ingested, skipped", path);
		rc = 0;
	} else {
		rc = st.st_size == 0 ? 0 : input_regular(src, fd, path);
		if (rc == 0 && !src->stopping && !src->fatal)
			record_ingested(src, &st, path);
	}
	close(fd);
	return rc;
}
