/*
 * spsc-source: the pieces of one run and how they fit.
 *
 *   main.c      options, then one of three modes
 *   walk.c      arguments -> files: directories in sorted order, globs
 *   input.c     one input through libarchive (files, archives, streams)
 *   stream.c    plain text from a pipe or terminal, waiting with linger
 *   follow.c    --follow: files that grow and rotate (inotify)
 *   watch.c     --watch: files that land in a directory (inotify)
 *   batch.c     events -> atoms: cutting, ids, --rate, writing
 *   manifest.c  --state: what was fully ingested, for cron reruns
 *   progress.c  --progress
 *   wait.c      signals and the one place that waits
 */
#ifndef SPSC_SOURCE_H
#define SPSC_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "atom.h"
#include "endpoint.h"
#include "stamp.h"

#define SOURCE_DEFAULT_NAME "spsc-source"
/* Reads of 128 KiB, as cat's: a block that stays in the CPU's cache while
 * it is cut into events is copied once from the kernel, not from memory
 * again (1 MiB reads cost the pipe path a fifth of its speed). */
#define SOURCE_READ_BLOCK ((size_t)128 << 10)

struct source_cfg {
	const char *name;	/* --name: seeds every atom id */
	uint32_t atom_events;	/* -n */
	size_t atom_bytes;	/* -b, never more than max_atom */
	int64_t linger_ns;	/* -l */
	size_t max_atom;	/* --max-atom: longest event and frame */
	double rate;		/* --rate events per second; 0: unlimited */
	int progress;		/* --progress, or stderr is a terminal */
	int follow;
	int once;
	const char *watch_dir;
	const char *state_dir;
	const char *output;
	struct endpoint_opts out_opts;
	const char *time_field;	/* --time: stamp event times (stamp.h) */
	const char *time_sep;	/* -t */
	int64_t lateness_ns;	/* --lateness */
};

/* The token bucket behind --rate. */
struct rate {
	double per_ns;		/* tokens earned per nanosecond */
	double burst;		/* most tokens ever held */
	double tokens;
	int64_t last;		/* mono_ns of the last refill */
};

struct progress {
	int on;
	int tty;
	int64_t start, next, last_print;
	uint64_t last_bytes, last_events;
};

struct manifest;

/* One run: shared by every input. */
struct source {
	const struct source_cfg *cfg;
	struct endpoint out;
	struct manifest *manifest;
	struct rate rate;
	struct progress progress;
	struct stamp stamp;
	char *block;		/* read buffer for plain reads, SOURCE_READ_BLOCK */
	int sigfd;		/* signalfd for SIGTERM and SIGINT */
	int stopping;		/* a signal asked us to finish */
	int signo;
	int fatal;		/* the output is gone (or memory): stop everything */
	int failed;		/* some input failed: exit 1 at the end */
	uint64_t bytes;		/* input bytes turned into events */
	uint64_t events;
	uint64_t atoms;
};

/*
 * A batcher cuts one input's events into atoms.  Its buffer holds the
 * pending atom: whole events in [0, done) and the start of an event whose
 * newline has not arrived in [done, atom.len).
 */
struct batcher {
	struct source *src;
	char *label;		/* the input as named in ids and messages */
	uint64_t ordinal;	/* atoms cut so far from this input */
	uint64_t offset;	/* input bytes fed so far */
	struct atom atom;
	size_t done;
	uint32_t events;
	int64_t first_wall;	/* when the pending atom's first byte arrived */
	int64_t first_mono;
	int64_t carry_wall;	/* when the unfinished event's first byte arrived */
	int64_t carry_mono;
	int64_t stamp_wall;	/* when the block being fed arrived */
	int64_t stamp_mono;
	int failed;		/* an event over --max-atom ended this input */
};

/* batch.c */
void batcher_init(struct batcher *b, struct source *src);
int batcher_start(struct batcher *b, const char *label);
void batcher_free(struct batcher *b);
int batcher_feed(struct batcher *b, const char *buf, size_t len);
int batcher_finish(struct batcher *b);
int batcher_flush(struct batcher *b);
void batcher_discard(struct batcher *b);
int64_t batcher_deadline(const struct batcher *b);
int batcher_linger(struct batcher *b);
void rate_init(struct rate *r, double per_sec);

/* wait.c */
int signals_init(struct source *src);
int source_check_signal(struct source *src);
int source_wait(struct source *src, int fd, int64_t deadline);
int64_t deadline_min(int64_t a, int64_t b);

/* input.c */
int input_file(struct source *src, const char *path);
int input_stdin(struct source *src);
int input_regular(struct source *src, int fd, const char *label);
int input_stream(struct source *src, int fd, const char *label);

/* stream.c */
int stream_ingest(struct source *src, int fd, const char *label,
		  const char *prefix, size_t prefix_len, int eof);

/* walk.c */
typedef int (*walk_fn)(struct source *src, const char *path);
int walk_arg(struct source *src, const char *arg, walk_fn fn);
int walk_dir_sorted(const char *dir, char ***names, size_t *count);
void walk_names_free(char **names, size_t count);
char *path_join(const char *dir, const char *name);

/* follow.c, watch.c */
int follow_run(struct source *src, char **paths, int npaths);
int watch_run(struct source *src, const char *dir);

/* progress.c */
void progress_init(struct source *src);
void progress_tick(struct source *src);
void progress_done(struct source *src);

#endif
