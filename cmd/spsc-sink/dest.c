#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dest.h"
#include "fdio.h"
#include "log.h"

/*
 * A trailing slash always means a directory (created if missing), so that
 * "results/" works on the first run; otherwise what is already there
 * decides, and a path that does not exist yet becomes a file.
 */
enum dest_kind dest_kind_of(const char *spec)
{
	struct stat st;
	size_t len;

	if (spec == NULL || strcmp(spec, "-") == 0)
		return DEST_STREAM;
	len = strlen(spec);
	if (len > 0 && spec[len - 1] == '/')
		return DEST_DIR;
	if (stat(spec, &st) < 0)
		return DEST_FILE;
	if (S_ISDIR(st.st_mode))
		return DEST_DIR;
	return S_ISREG(st.st_mode) ? DEST_FILE : DEST_STREAM;
}

static void report_recovery(const struct dest *d,
			    const struct journal_recovery *rec)
{
	if (rec->torn)
		log_warn("%s: cut %llu damaged record(s) off the end (left by an interrupted run)",
			 d->journal_path, (unsigned long long)rec->torn);
	if (rec->dropped)
		log_warn("%s: dropped %llu record(s) whose data did not reach %s; those atoms will be written again",
			 d->journal_path, (unsigned long long)rec->dropped,
			 d->name);
	if (rec->cut)
		log_warn("%s: removed %llu unacknowledged byte(s) past the last journaled atom (left by an interrupted run)",
			 d->name, (unsigned long long)rec->cut);
}

/* A journal that is the data itself would be overwritten by its own
 * records (spsc-sink --journal out.txt > out.txt). */
static int journal_is_data(struct dest *d)
{
	struct stat js, ds;

	if (stat(d->journal_path, &js) < 0 || fstat(d->fd, &ds) < 0)
		return 0;
	if (js.st_dev != ds.st_dev || js.st_ino != ds.st_ino)
		return 0;
	snprintf(d->err, sizeof d->err, "%.3000s: the journal cannot be %.3000s itself",
		 d->journal_path, d->name);
	return 1;
}

static int open_journal(struct dest *d, int datafd)
{
	struct journal_recovery rec;

	if (journal_is_data(d))
		return -1;
	if (journal_open(&d->journal, d->journal_path, datafd, d->fsync,
			 &d->seen, &rec, d->err, sizeof d->err) < 0)
		return -1;
	d->journaled = 1;
	d->offset = d->journal.end;
	report_recovery(d, &rec);
	return 0;
}

static int open_stream(struct dest *d, const char *spec)
{
	struct stat st;

	if (spec == NULL || strcmp(spec, "-") == 0) {
		d->fd = STDOUT_FILENO;
		snprintf(d->name, sizeof d->name, "stdout");
	} else {
		snprintf(d->name, sizeof d->name, "%s", spec);
		d->fd = open(spec, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (d->fd < 0) {
			snprintf(d->err, sizeof d->err, "%s: cannot open: %s",
				 spec, strerror(errno));
			return -1;
		}
		d->owns_fd = 1;
	}
	d->can_sync = fstat(d->fd, &st) == 0 && S_ISREG(st.st_mode);
	fd_grow_pipe(d->fd);
	if (d->journal_path[0] != '\0')
		return open_journal(d, -1);
	return 0;
}

static int open_file(struct dest *d, const char *spec)
{
	snprintf(d->name, sizeof d->name, "%s", spec);
	if (d->journal_path[0] == '\0' &&
	    snprintf(d->journal_path, sizeof d->journal_path, "%s%s", spec,
		     JOURNAL_SUFFIX) >= (int)sizeof d->journal_path) {
		snprintf(d->err, sizeof d->err, "%s: name too long", spec);
		return -1;
	}
	/* Read access too: recovery checks the last atom's bytes. */
	d->fd = open(spec, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (d->fd < 0) {
		snprintf(d->err, sizeof d->err, "%s: cannot open: %s", spec,
			 strerror(errno));
		return -1;
	}
	d->owns_fd = 1;
	return open_journal(d, d->fd);
}

int dest_open(struct dest *d, const char *spec, const struct dest_opts *o)
{
	memset(d, 0, sizeof *d);
	d->fd = -1;
	d->journal.fd = -1;
	d->fsync = o->fsync;
	d->kind = dest_kind_of(spec);
	idset_init(&d->seen);
	if (o->journal &&
	    snprintf(d->journal_path, sizeof d->journal_path, "%s", o->journal) >=
		    (int)sizeof d->journal_path) {
		snprintf(d->err, sizeof d->err, "%s: name too long", o->journal);
		return -1;
	}
	switch (d->kind) {
	case DEST_STREAM:
		return open_stream(d, spec);
	case DEST_FILE:
		return open_file(d, spec);
	case DEST_DIR:
		return dir_open(d, spec);
	}
	return -1;
}

/*
 * A failed append may have left part of the atom behind; cutting it now
 * keeps the file whole for anyone reading it before the next run (which
 * would cut it anyway).
 */
static int file_write_failed(struct dest *d, const char *what)
{
	int e = errno;

	if (ftruncate(d->fd, (off_t)d->offset) < 0) {
		/* the next start removes the partial atom instead */
	}
	snprintf(d->err, sizeof d->err, "%s: %s: %s", d->name, what, strerror(e));
	return -1;
}

/*
 * Data first, then its journal record: a crash between the two leaves bytes
 * that no record covers, which the next start removes (file) or writes
 * again (stream, which cannot take bytes back).
 */
static int stream_or_file_write(struct dest *d, const struct atom *a)
{
	int file = d->kind == DEST_FILE;
	uint32_t crc = 0;

	if (a->len > 0 && fd_write_all(d->fd, a->data, a->len) < 0) {
		if (file)
			return file_write_failed(d, "write error");
		snprintf(d->err, sizeof d->err, "%s: write error: %s", d->name,
			 strerror(errno));
		return -1;
	}
	if (d->fsync && (file || d->can_sync) && fdatasync(d->fd) < 0) {
		if (file)
			return file_write_failed(d, "fsync");
		snprintf(d->err, sizeof d->err, "%s: fsync: %s", d->name,
			 strerror(errno));
		return -1;
	}
	if (d->journaled) {
		if (file && a->len > 0)
			crc = atom_data_crc(a);
		if (journal_append(&d->journal, &a->id, d->offset, a->len, crc,
				   d->err, sizeof d->err) < 0) {
			/* Unrecorded bytes go now, not at the next start. */
			if (file && ftruncate(d->fd, (off_t)d->offset) < 0) {
				/* the next start removes them instead */
			}
			return -1;
		}
	}
	d->offset += a->len;
	return 1;
}

/* 1: the atom was written; 0: it was a duplicate, skipped; -1: d->err. */
int dest_write(struct dest *d, const struct atom *a)
{
	int rc;

	if (idset_contains(&d->seen, &a->id))
		return 0;
	if (d->kind == DEST_DIR)
		rc = dir_write(d, a);
	else
		rc = stream_or_file_write(d, a);
	if (rc <= 0)
		return rc;
	if (idset_add(&d->seen, &a->id) < 0) {
		snprintf(d->err, sizeof d->err,
			 "%s: out of memory for the ids of %zu atoms", d->name,
			 d->seen.len);
		return -1;
	}
	return 1;
}

int dest_close(struct dest *d)
{
	int rc = 0;

	if (d->journaled && journal_close(&d->journal, d->err, sizeof d->err) < 0)
		rc = -1;
	if (d->owns_fd && d->fd >= 0 && close(d->fd) < 0 && rc == 0) {
		snprintf(d->err, sizeof d->err, "%s: close: %s", d->name,
			 strerror(errno));
		rc = -1;
	}
	d->fd = -1;
	idset_free(&d->seen);
	return rc;
}
