/*
 * manifest: see manifest.h.  The record format (one line each):
 *
 *   1 CRC DEV INO SIZE MTIME_NS PATH\n
 *
 * "1" is the format version.  CRC is the CRC32C, 8 hex digits, of the text
 * after "CRC " up to the newline.  Numbers are decimal.  PATH has every
 * byte below 0x21, 0x7f and '\' written as \xHH, so a line holds no space
 * or newline of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "crc32c.h"
#include "fdio.h"
#include "hash.h"
#include "log.h"
#include "manifest.h"

#define LINE_MAX_LEN 16384

struct ident {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
};

struct manifest {
	int fd;			/* the record file; -1 in memory only */
	char *path;
	struct ident *slots;	/* open addressing; used[] says which */
	unsigned char *used;
	size_t cap, count;
};

static struct ident ident_of(const struct stat *st)
{
	struct ident id;

	memset(&id, 0, sizeof id);
	id.dev = (uint64_t)st->st_dev;
	id.ino = (uint64_t)st->st_ino;
	id.size = (uint64_t)st->st_size;
	id.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
		      st->st_mtim.tv_nsec;
	return id;
}

static size_t slot_of(const struct manifest *m, const struct ident *id)
{
	size_t i = (size_t)hash64(id, sizeof *id, 0) & (m->cap - 1);

	while (m->used[i] && memcmp(&m->slots[i], id, sizeof *id) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int grow(struct manifest *m)
{
	struct manifest bigger = *m;
	size_t i;

	bigger.cap = m->cap ? m->cap * 2 : 64;
	bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
	bigger.used = calloc(bigger.cap, 1);
	if (bigger.slots == NULL || bigger.used == NULL) {
		free(bigger.slots);
		free(bigger.used);
		return -1;
	}
	for (i = 0; i < m->cap; i++) {
		if (m->used[i]) {
			size_t j = slot_of(&bigger, &m->slots[i]);
			bigger.slots[j] = m->slots[i];
			bigger.used[j] = 1;
		}
	}
	free(m->slots);
	free(m->used);
	*m = bigger;
	return 0;
}

static int add(struct manifest *m, const struct ident *id)
{
	size_t i;

	if ((m->count + 1) * 2 > m->cap && grow(m) < 0)
		return -1;
	i = slot_of(m, id);
	if (!m->used[i]) {
		m->slots[i] = *id;
		m->used[i] = 1;
		m->count++;
	}
	return 0;
}

int manifest_has(const struct manifest *m, const struct stat *st)
{
	struct ident id = ident_of(st);

	return m->cap > 0 && m->used[slot_of(m, &id)];
}

/* Parses one line; 0 if it is a sound record. */
static int parse_line(const char *line, struct ident *id)
{
	const char *body;
	char *end;
	unsigned long crc;
	uint64_t v[4];

	if (strncmp(line, "1 ", 2) != 0)
		return -1;
	errno = 0;
	crc = strtoul(line + 2, &end, 16);
	if (errno || end != line + 10 || *end != ' ')
		return -1;
	body = end + 1;
	if (crc32c(0, body, strlen(body)) != (uint32_t)crc)
		return -1;
	for (int i = 0; i < 4; i++) {
		v[i] = strtoull(body, &end, 10);
		if (end == body || *end != ' ')
			return -1;
		body = end + 1;
	}
	memset(id, 0, sizeof *id);
	id->dev = v[0];
	id->ino = v[1];
	id->size = v[2];
	id->mtime_ns = (int64_t)v[3];
	return 0;
}

static int take_line(struct manifest *m, char *line, uint64_t lineno)
{
	struct ident id;

	if (parse_line(line, &id) < 0) {
		log_warn("%s: line %" PRIu64 ": damaged record ignored",
			 m->path, lineno);
		return 0;
	}
	return add(m, &id);
}

/*
 * Reads every record.  A last line without its newline is a write that a
 * crash cut short: it is cut off, so the next record starts a line of its
 * own.
 */
static int load(struct manifest *m)
{
	char *line = malloc(LINE_MAX_LEN + 1), buf[65536];
	size_t len = 0;
	uint64_t lineno = 0, off = 0, good = 0;
	int toolong = 0;
	ssize_t n;

	if (line == NULL)
		return -1;
	while ((n = fd_read(m->fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++, off++) {
			if (buf[i] != '\n') {
				if (len < LINE_MAX_LEN)
					line[len++] = buf[i];
				else
					toolong = 1;
				continue;
			}
			line[len] = '\0';
			lineno++;
			if (toolong)
				log_warn("%s: line %" PRIu64 ": too long, ignored",
					 m->path, lineno);
			else if (take_line(m, line, lineno) < 0)
				goto fail;
			len = 0;
			toolong = 0;
			good = off + 1;
		}
	}
	if (n < 0)
		goto fail;
	free(line);
	if (good < off) {
		log_warn("%s: torn last record (%" PRIu64 " bytes) removed",
			 m->path, off - good);
		if (ftruncate(m->fd, (off_t)good) < 0)
			return -1;
	}
	return 0;
fail:
	free(line);
	return -1;
}

/* mkdir -p, private: the manifest says what this host ingested. */
static int make_dir(const char *dir)
{
	char *p = strdup(dir), *s;
	int rc = 0;

	if (p == NULL)
		return -1;
	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static struct manifest *fail_open(struct manifest *m, const char *what)
{
	log_error("%s: %s: %s", m->path ? m->path : "manifest", what,
		  strerror(errno));
	manifest_close(m);
	return NULL;
}

/* dir NULL: a manifest in memory only.  Logs and returns NULL on error. */
struct manifest *manifest_open(const char *dir)
{
	struct manifest *m = calloc(1, sizeof *m);
	size_t dl;

	if (m == NULL) {
		log_error("out of memory");
		return NULL;
	}
	m->fd = -1;
	if (dir == NULL)
		return m;
	dl = strlen(dir);
	m->path = malloc(dl + sizeof "/manifest");
	if (m->path == NULL)
		return fail_open(m, "out of memory");
	memcpy(m->path, dir, dl);
	memcpy(m->path + dl, "/manifest", sizeof "/manifest");
	if (make_dir(dir) < 0) {
		log_error("%s: cannot create state directory: %s", dir,
			  strerror(errno));
		manifest_close(m);
		return NULL;
	}
	m->fd = open(m->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (m->fd < 0)
		return fail_open(m, "cannot open");
	/* Two runs appending at once would each skip nothing the other is
	 * still reading: overlapping cron runs must not both go ahead. */
	if (flock(m->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			errno = EBUSY;
		return fail_open(m, "in use by another spsc-source");
	}
	if (fchmod(m->fd, 0600) < 0)
		return fail_open(m, "cannot make private");
	if (load(m) < 0)
		return fail_open(m, "cannot read");
	return m;
}

/* Writes PATH with its awkward bytes as \xHH; out holds 4 * len + 1. */
static void escape_path(const char *path, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p > 0x20 && *p != 0x7f && *p != '\\') {
			*out++ = (char)*p;
			continue;
		}
		*out++ = '\\';
		*out++ = 'x';
		*out++ = hex[*p >> 4];
		*out++ = hex[*p & 15];
	}
	*out = '\0';
}

int manifest_record(struct manifest *m, const struct stat *st,
		    const char *path)
{
	struct ident id = ident_of(st);
	size_t pl = strlen(path), cap = 4 * pl + 128;
	char *esc = malloc(4 * pl + 1), *line = malloc(cap);
	int body, n, rc = -1;

	if (esc == NULL || line == NULL) {
		log_error("%s: out of memory", path);
		goto out;
	}
	if (add(m, &id) < 0) {
		log_error("%s: out of memory", path);
		goto out;
	}
	if (m->fd < 0) {
		rc = 0;
		goto out;
	}
	escape_path(path, esc);
	body = snprintf(line, cap, "1 00000000 ");
	n = snprintf(line + body, cap - (size_t)body,
		     "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %s",
		     id.dev, id.ino, id.size, id.mtime_ns, esc);
	if (n < 0 || (size_t)n + (size_t)body + 2 > cap)
		goto out;
	snprintf(line + 2, 9, "%08" PRIx32,
		 crc32c(0, line + body, (size_t)n));
	line[10] = ' ';
	line[body + n] = '\n';
	if (fd_write_all(m->fd, line, (size_t)(body + n + 1)) < 0 ||
	    fsync(m->fd) < 0) {
		log_error("%s: cannot record %s: %s", m->path, path,
			  strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(esc);
	free(line);
	return rc;
}

void manifest_close(struct manifest *m)
{
	if (m == NULL)
		return;
	if (m->fd >= 0)
		close(m->fd);
	free(m->path);
	free(m->slots);
	free(m->used);
	free(m);
}
