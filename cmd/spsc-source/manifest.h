/*
 * manifest: which inputs were fully ingested, so that a rerun (cron,
 * --once) or a restarted --watch skips them.
 *
 * A file is known by its identity, not its name: device, inode, size and
 * modification time (ns).  A file renamed after ingestion (as uploaders do:
 * write "x.part", rename to "x") is not taken twice; a file that changed in
 * any way is taken again.  The path is kept in the record for people.
 *
 * With a state directory the manifest is DIR/manifest, mode 0600: one
 * append-only line per input, written with a single write(2) and fsynced,
 * each carrying a CRC32C so a torn or damaged line is recognised and
 * ignored.  Without one it lives in memory for the run (--watch uses it to
 * take each file once).
 */
#ifndef SPSC_SOURCE_MANIFEST_H
#define SPSC_SOURCE_MANIFEST_H

#include <sys/stat.h>

struct manifest;

struct manifest *manifest_open(const char *dir);
int manifest_has(const struct manifest *m, const struct stat *st);
int manifest_record(struct manifest *m, const struct stat *st,
		    const char *path);
void manifest_close(struct manifest *m);

#endif
