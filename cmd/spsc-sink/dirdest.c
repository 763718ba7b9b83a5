/*
 * The directory destination: one file per atom, DIR/ID.events, where ID is
 * the atom id in 32 lower-case hex digits.  Each atom is written to
 * DIR/.ID.PID.tmp and renamed into place, so a reader of DIR never sees a
 * partial file, and an existing ID.events is the proof that the atom was
 * written: no journal is needed.  Several sinks may share a directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dest.h"
#include "fdio.h"
#include "log.h"

#define EVENTS_SUFFIX ".events"
#define TMP_SUFFIX ".tmp"

/* mkdir -p: each missing component in turn, an existing one is fine. */
static int make_dirs(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; p <= buf + len; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0777) < 0 && errno != EEXIST)
			return -1;
		*p = c;
	}
	return 0;
}

/*
 * ".ID.PID.tmp" with a well-formed id: our naming, and nothing a user
 * would call a file.  Returns the pid, or 0 for anything else.
 */
static long temp_owner(const char *name)
{
	struct atom_id id;
	char hex[ATOMID_HEX_LEN + 1];
	const char *p;
	char *end;
	long pid;

	if (name[0] != '.' || strlen(name) < 1 + ATOMID_HEX_LEN + 1)
		return 0;
	memcpy(hex, name + 1, ATOMID_HEX_LEN);
	hex[ATOMID_HEX_LEN] = '\0';
	if (atomid_parse(hex, &id) < 0 || name[1 + ATOMID_HEX_LEN] != '.')
		return 0;
	p = name + 1 + ATOMID_HEX_LEN + 1;
	errno = 0;
	pid = strtol(p, &end, 10);
	if (errno != 0 || end == p || pid <= 0 || strcmp(end, TMP_SUFFIX) != 0)
		return 0;
	return pid;
}

/*
 * A sink killed between creating a temporary file and renaming it leaves
 * the file behind.  Its atom was never acknowledged and comes again, so the
 * file is garbage once its writer is gone; a live writer's is left alone.
 */
static int sweep_temporaries(struct dest *d)
{
	int fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned long removed = 0;
	struct dirent *e;
	DIR *dir;

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		snprintf(d->err, sizeof d->err, "%s: cannot list: %s", d->name,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(dir)) != NULL) {
		long pid = temp_owner(e->d_name);
		if (pid == 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (unlinkat(d->fd, e->d_name, 0) == 0)
			removed++;
		else if (errno != ENOENT)
			log_warn("%s%s: cannot remove: %s", d->name, e->d_name,
				 strerror(errno));
	}
	closedir(dir);
	if (removed)
		log_info("%s: removed %lu temporary file(s) left by an interrupted run",
			 d->name, removed);
	return 0;
}

int dir_open(struct dest *d, const char *path)
{
	size_t len = strlen(path);

	/* Messages name files as DIR/NAME, so keep exactly one slash. */
	snprintf(d->name, sizeof d->name, "%s%s", path,
		 len > 0 && path[len - 1] == '/' ? "" : "/");
	if (make_dirs(path) < 0) {
		snprintf(d->err, sizeof d->err, "%s: cannot create: %s", d->name,
			 strerror(errno));
		return -1;
	}
	d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0) {
		snprintf(d->err, sizeof d->err, "%s: cannot open: %s", d->name,
			 strerror(errno));
		return -1;
	}
	d->owns_fd = 1;
	return sweep_temporaries(d);
}

static int dir_fail(struct dest *d, const char *file, const char *what)
{
	snprintf(d->err, sizeof d->err, "%s%s: %s: %s", d->name, file, what,
		 strerror(errno));
	return -1;
}

/* O_EXCL, so two writers never share a temporary file; one left by an
 * earlier process that had our pid is stale and replaced. */
static int create_temp(struct dest *d, const char *tmp)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
	int fd = openat(d->fd, tmp, flags, 0666);

	if (fd < 0 && errno == EEXIST && unlinkat(d->fd, tmp, 0) == 0)
		fd = openat(d->fd, tmp, flags, 0666);
	if (fd < 0)
		dir_fail(d, tmp, "cannot create");
	return fd;
}

static int write_temp(struct dest *d, const char *tmp, const struct atom *a)
{
	int fd = create_temp(d, tmp);

	if (fd < 0)
		return -1;
	if (a->len > 0 && fd_write_all(fd, a->data, a->len) < 0) {
		dir_fail(d, tmp, "write error");
		close(fd);
		return -1;
	}
	if (d->fsync && fsync(fd) < 0) {
		dir_fail(d, tmp, "fsync");
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return dir_fail(d, tmp, "close");
	return 0;
}

/*
 * 1: renamed into place; 0: another sink got there first (the content is
 * the same, by the id's definition).  RENAME_NOREPLACE tells the two apart;
 * where the filesystem lacks it, a plain rename replaces like with like.
 */
static int publish(struct dest *d, const char *tmp, const char *name)
{
	if (renameat2(d->fd, tmp, d->fd, name, RENAME_NOREPLACE) == 0)
		return 1;
	if (errno == EEXIST)
		return 0;
	if ((errno == EINVAL || errno == ENOSYS) &&
	    renameat(d->fd, tmp, d->fd, name) == 0)
		return 1;
	return dir_fail(d, name, "cannot rename the temporary file into place");
}

/* 1: written; 0: already in DIR (a duplicate); -1: d->err. */
int dir_write(struct dest *d, const struct atom *a)
{
	char hex[ATOMID_HEX_LEN + 1], name[64], tmp[96];
	struct stat st;
	int rc;

	atomid_hex(&a->id, hex);
	snprintf(name, sizeof name, "%s%s", hex, EVENTS_SUFFIX);
	if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (idset_add(&d->seen, &a->id) < 0) {
			errno = ENOMEM;
			return dir_fail(d, name, "cannot remember the id");
		}
		return 0;
	}
	if (errno != ENOENT)
		return dir_fail(d, name, "cannot stat");
	snprintf(tmp, sizeof tmp, ".%s.%ld%s", hex, (long)getpid(), TMP_SUFFIX);
	if (write_temp(d, tmp, a) < 0) {
		(void)unlinkat(d->fd, tmp, 0);
		return -1;
	}
	rc = publish(d, tmp, name);
	if (rc <= 0)
		(void)unlinkat(d->fd, tmp, 0);
	if (rc == 1 && d->fsync && fsync(d->fd) < 0)
		return dir_fail(d, "", "fsync");
	return rc;
}
