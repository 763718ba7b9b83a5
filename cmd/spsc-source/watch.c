/*
 * watch: --watch DIR, the upload-bucket trigger.
 *
 * A file is taken once it is complete: when a writer closes it
 * (IN_CLOSE_WRITE) or when it is renamed into DIR (IN_MOVED_TO), never
 * while it is still being written.  Each is read whole, like a file named
 * on the command line (archives and compressed files included), then
 * recorded in the manifest.  Files already in DIR at start are taken too,
 * in sorted order, unless the manifest (--state) says they were ingested.
 *
 * Only DIR's own regular files count: subdirectories are not entered, and
 * names starting with '.' are left alone, because uploaders (rsync, curl,
 * browsers) write to hidden temporary names and rename when done.
 *
 * If the kernel's event queue overflows, DIR is scanned again; the
 * manifest (kept in memory even without --state) makes sure nothing is
 * taken twice.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "source.h"

#define WATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | \
		      IN_MOVE_SELF | IN_ONLYDIR)

/* One name in DIR that may be a new complete file. */
static void take(struct source *src, const char *dir, const char *name)
{
	struct stat st;
	char *path;

	if (name[0] == '.')
		return;
	path = path_join(dir, name);
	if (path == NULL) {
		log_error("%s: out of memory", dir);
		src->fatal = 1;
		return;
	}
	/* Gone again, or not a plain file: nothing to take. */
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		(void)input_file(src, path);
	free(path);
}

static void scan(struct source *src, const char *dir)
{
	char **names;
	size_t count;

	if (walk_dir_sorted(dir, &names, &count) < 0) {
		log_error("%s: cannot read directory: %s", dir, strerror(errno));
		src->failed = 1;
		return;
	}
	for (size_t i = 0; i < count && !src->stopping && !src->fatal; i++)
		take(src, dir, names[i]);
	walk_names_free(names, count);
}

/* Handles what the kernel queued; -1 when DIR itself went away. */
static int read_events(struct source *src, int ifd, const char *dir)
{
	char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;

	for (;;) {
		n = read(ifd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		for (char *p = buf; p < buf + n && !src->stopping && !src->fatal;
		     p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				log_warn("%s: too many events at once: scanning the directory again",
					 dir);
				scan(src, dir);
			} else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
					       IN_IGNORED)) {
				log_error("%s: the watched directory was removed or moved",
					  dir);
				src->failed = 1;
				return -1;
			} else if (ev->len > 0 &&
				   (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))) {
				take(src, dir, ev->name);
			}
		}
	}
}

/* Runs until a signal; with --once, only takes what DIR holds now. */
int watch_run(struct source *src, const char *dir)
{
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (ifd < 0) {
		log_error("inotify: %s", strerror(errno));
		src->failed = 1;
		return -1;
	}
	/* Watch first, then scan: a file landing in between is seen twice
	 * at worst, and the manifest takes it once. */
	if (!src->cfg->once &&
	    inotify_add_watch(ifd, dir, WATCH_EVENTS) < 0) {
		log_error("%s: cannot watch: %s", dir, strerror(errno));
		src->failed = 1;
		close(ifd);
		return -1;
	}
	scan(src, dir);
	while (!src->cfg->once && !src->stopping && !src->fatal) {
		int rc = source_wait(src, ifd, INT64_MAX);
		if (rc < 0 || (rc == 1 && read_events(src, ifd, dir) < 0))
			break;
	}
	close(ifd);
	return src->failed ? -1 : 0;
}
