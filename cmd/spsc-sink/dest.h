/*
 * dest: where spsc-sink writes events, and how it remembers what it wrote.
 *
 *   stream  stdout ("-" or no DEST), or a path that is not a regular file
 *           (/dev/null, a FIFO, a terminal): events go straight out, one
 *           write per atom.  Ids are remembered for the run, and across
 *           runs with --journal.
 *   file    a regular file: events are appended, ids kept in the sidecar
 *           journal FILE.spsc-ids, which also makes a crash repairable.
 *   dir     DIR/ or an existing directory: one file per atom, DIR/ID.events,
 *           written under a temporary name and renamed into place; the
 *           file's existence is the record that the atom was written.
 */
#ifndef SPSC_SINK_DEST_H
#define SPSC_SINK_DEST_H

#include <stdint.h>

#include "atom.h"
#include "idset.h"
#include "journal.h"

enum dest_kind { DEST_STREAM, DEST_FILE, DEST_DIR };

struct dest_opts {
	int fsync;		/* --fsync: durable before moving on */
	const char *journal;	/* --journal PATH, or NULL */
};

struct dest {
	enum dest_kind kind;
	char name[4096];	/* for messages: "stdout", FILE or DIR */
	int fd;			/* the stream, the data file or the directory */
	int owns_fd;		/* close fd at the end (not stdout) */
	int fsync;
	int can_sync;		/* the stream is a regular file: fsync works */
	int journaled;
	struct journal journal;
	char journal_path[4096];
	uint64_t offset;	/* stream or file: where the next atom's bytes go */
	struct idset seen;	/* ids written or found written */
	char err[8192];
};

enum dest_kind dest_kind_of(const char *spec);
int dest_open(struct dest *d, const char *spec, const struct dest_opts *o);
int dest_write(struct dest *d, const struct atom *a);
int dest_close(struct dest *d);

/* dirdest.c: the directory form, used through dest_open and dest_write. */
int dir_open(struct dest *d, const char *path);
int dir_write(struct dest *d, const struct atom *a);

#endif
