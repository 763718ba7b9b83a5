/*
 * journal: the record of which atoms a sink has written, so that a rerun
 * skips them.  spsc-sink(1) documents the format under DE-DUPLICATION.
 *
 * A journal is a 32-byte header followed by fixed 40-byte records, all
 * little-endian:
 *
 *   header  0  8  magic "SPSC-IDS"
 *           8  4  version (1)
 *          12  4  record length (40)
 *          16  8  base: the data file's length when the journal began
 *          24  4  kind: 0 for a file's journal, 1 for a stream's
 *          28  4  CRC32C of header bytes 0..27
 *
 *   record  0 16  atom id
 *          16  8  offset of the atom's events in the data file (for a
 *                 stream: in the bytes written through this journal)
 *          24  8  length of the atom's events
 *          32  4  CRC32C of those bytes (0 for a stream: they are gone)
 *          36  4  CRC32C of record bytes 0..35
 *
 * A record is appended only after its data is written, so the data always
 * covers the journal: the recovery in journal_open() relies on that.
 */
#ifndef SPSC_SINK_JOURNAL_H
#define SPSC_SINK_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "atomid.h"
#include "idset.h"

#define JOURNAL_SUFFIX ".spsc-ids"
#define JOURNAL_HEADER_LEN 32
#define JOURNAL_RECORD_LEN 40

enum journal_kind { JOURNAL_FILE = 0, JOURNAL_STREAM = 1 };

struct journal {
	int fd;
	const char *path;
	enum journal_kind kind;	/* a file's offsets are checked against it */
	uint64_t base;		/* data length when the journal began */
	uint64_t end;		/* data offset just past the last record */
	uint64_t records;
	int fsync;
};

/* What journal_open() found and did, for the caller to report. */
struct journal_recovery {
	uint64_t torn;		/* damaged records cut off the tail */
	uint64_t dropped;	/* records whose data did not survive */
	uint64_t cut;		/* unjournaled data bytes truncated */
};

int journal_open(struct journal *j, const char *path, int datafd, int fsync,
		 struct idset *seen, struct journal_recovery *rec, char *err,
		 size_t errlen);
int journal_append(struct journal *j, const struct atom_id *id,
		   uint64_t offset, uint64_t len, uint32_t data_crc,
		   char *err, size_t errlen);
int journal_close(struct journal *j, char *err, size_t errlen);

#endif
