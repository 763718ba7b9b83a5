/*
 * conf: the queue table on disk, $SPSC_HOME/queues.json: every queue's
 * settings and its running totals.  The log holds the atoms; this file
 * holds what the log cannot say (a queue with no atoms, its limits).
 * Written whole to a second file, queues.json.tmp, and swapped into
 * place, so it is never torn.
 * Settings are saved and synced as they change; totals are saved every
 * 200ms at most (server.c), so a kill -9 loses at most that much counting.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coord.h"
#include "endpoint.h"
#include "fdio.h"
#include "log.h"
#include "units.h"

#define CONF_MAX (16 << 20)

static void conf_path(const char *home, char *buf, size_t len, const char *suffix)
{
	snprintf(buf, len, "%.4096s/queues.json%s", home, suffix);
}

static double num(const cJSON *o, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/*
 * The producers of a queue: ids as 16 hex digits and watermarks as
 * decimal strings, because a JSON number is a double and would round
 * them; a watermark rounded up would promise too much.
 */
static void load_flow(struct flow *f, const cJSON *o)
{
	const cJSON *p;

	f->expect = (uint32_t)num(o, "producers_expected", 0);
	f->sealed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "sealed"));
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "producers")) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "id");
		const cJSON *wm = cJSON_GetObjectItemCaseSensitive(p, "wm");
		const cJSON *done = cJSON_GetObjectItemCaseSensitive(p, "done");
		uint64_t v;
		if (!cJSON_IsString(id) || (v = strtoull(id->valuestring, NULL, 16)) == 0)
			continue;
		flow_note(f, v, cJSON_IsString(wm) ? strtoll(wm->valuestring, NULL, 10)
						   : ATOM_TIME_NONE,
			  cJSON_IsTrue(done));
	}
}

static void save_flow(cJSON *o, const struct flow *f)
{
	cJSON *arr;
	char text[32];

	cJSON_AddNumberToObject(o, "producers_expected", f->expect);
	cJSON_AddBoolToObject(o, "sealed", f->sealed);
	arr = cJSON_AddArrayToObject(o, "producers");
	for (size_t i = 0; arr && i < f->n; i++) {
		cJSON *p = cJSON_CreateObject();
		snprintf(text, sizeof text, "%016llx", (unsigned long long)f->p[i].id);
		cJSON_AddStringToObject(p, "id", text);
		if (f->p[i].wm != ATOM_TIME_NONE) {
			snprintf(text, sizeof text, "%lld", (long long)f->p[i].wm);
			cJSON_AddStringToObject(p, "wm", text);
		}
		cJSON_AddBoolToObject(p, "done", f->p[i].done);
		cJSON_AddItemToArray(arr, p);
	}
}

static int load_queue(struct coord *c, const cJSON *o)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
	struct queue *q;

	if (!cJSON_IsString(name) ||
	    !queue_name_valid(name->valuestring, strlen(name->valuestring)))
		return -1;
	if ((q = queue_lookup(c, name->valuestring, 1)) == NULL)
		return -1;
	c->extras[queue_index(c, q)]->configured = 1;
	q->conf.visibility_ns = (int64_t)num(o, "visibility_ms", (double)(q->conf.visibility_ns / NS_PER_MS)) * NS_PER_MS;
	q->conf.max_receives = (uint32_t)num(o, "max_receives", q->conf.max_receives);
	q->conf.max_depth = (uint64_t)num(o, "max_depth", (double)q->conf.max_depth);
	q->conf.max_bytes = (uint64_t)num(o, "max_bytes", (double)q->conf.max_bytes);
	q->conf.retention_ns = (int64_t)num(o, "retention_ms", (double)(q->conf.retention_ns / NS_PER_MS)) * NS_PER_MS;
	q->n.put = (uint64_t)num(o, "put", 0);
	q->n.acked = (uint64_t)num(o, "acked", 0);
	q->n.redelivered = (uint64_t)num(o, "redelivered", 0);
	q->n.dead = (uint64_t)num(o, "dead_lettered", 0);
	q->n.expired = (uint64_t)num(o, "expired", 0);
	if (q->conf.max_receives == 0)
		q->conf.max_receives = 1;
	load_flow(&q->flow, o);
	return 0;
}

static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(CONF_MAX + 1);
	if (buf == NULL || fd_read_full(fd, buf, CONF_MAX, len) < 0) {
		free(buf);
		close(fd);
		return NULL;
	}
	close(fd);
	buf[*len] = '\0';
	return buf;
}

/* The queue table as parsed JSON; NULL with errno ENOENT if there is
 * none yet, NULL with the reason logged if it cannot be read. */
cJSON *conf_read(const char *home)
{
	char path[4200];
	cJSON *root;
	size_t len;
	char *text;

	conf_path(home, path, sizeof path, "");
	if ((text = read_file(path, &len)) == NULL) {
		if (errno != ENOENT)
			log_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	root = cJSON_ParseWithLength(text, len);
	free(text);
	if (root == NULL || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "queues"))) {
		log_error("%s: not a queue table (expected {\"queues\":[...]})", path);
		cJSON_Delete(root);
		errno = EINVAL;
		return NULL;
	}
	return root;
}

int conf_load(struct coord *c)
{
	cJSON *root = conf_read(c->opt.home);
	const cJSON *o;

	if (root == NULL)
		return errno == ENOENT ? 0 : -1;
	/* Without a log position (older files) no record is counted again:
	 * the totals stay as saved. */
	c->totals_at.seq = UINT64_MAX;
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "log_segment"))) {
		c->totals_at.seq = (uint64_t)num(root, "log_segment", 0);
		c->totals_at.off = (uint64_t)num(root, "log_offset", 0);
	}
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "queues"))
		if (load_queue(c, o) < 0)
			log_warn("%s/queues.json: skipping a malformed queue entry",
				 c->opt.home);
	cJSON_Delete(root);
	c->conf_dirty = 0;
	return 0;
}

static cJSON *queue_entry(const struct queue *q)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", q->name);
	cJSON_AddNumberToObject(o, "visibility_ms", (double)(q->conf.visibility_ns / NS_PER_MS));
	cJSON_AddNumberToObject(o, "max_receives", q->conf.max_receives);
	cJSON_AddNumberToObject(o, "max_depth", (double)q->conf.max_depth);
	cJSON_AddNumberToObject(o, "max_bytes", (double)q->conf.max_bytes);
	cJSON_AddNumberToObject(o, "retention_ms", (double)(q->conf.retention_ns / NS_PER_MS));
	cJSON_AddNumberToObject(o, "put", (double)q->n.put);
	cJSON_AddNumberToObject(o, "acked", (double)q->n.acked);
	cJSON_AddNumberToObject(o, "redelivered", (double)q->n.redelivered);
	cJSON_AddNumberToObject(o, "dead_lettered", (double)q->n.dead);
	cJSON_AddNumberToObject(o, "expired", (double)q->n.expired);
	save_flow(o, &q->flow);
	return o;
}

/*
 * Puts tmp in path's place.  The two names swap rather than tmp replacing
 * path, so the old table's inode lives on as the next save's tmp, and is
 * written over in place: freeing it would make the rename as slow as a
 * discard on a filesystem mounted with -o discard (12-20 ms, each save,
 * in the loop that answers every client).  A filesystem that cannot swap,
 * or a first save, falls back to a plain rename.
 */
static int put_in_place(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0)
		return 0;
	if (errno != ENOENT && errno != EINVAL && errno != ENOSYS &&
	    errno != EOPNOTSUPP)
		return -1;
	return rename(tmp, path);
}

/* The text written over tmp from its start, cut to its length: no O_TRUNC,
 * which would free the blocks about to be written again. */
static int write_over(const char *tmp, const char *text, int sync)
{
	size_t len = strlen(text);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	int rc;

	if (fd < 0)
		return -1;
	rc = fd_write_all(fd, text, len);
	if (rc == 0)
		rc = ftruncate(fd, (off_t)len);
	if (rc == 0 && sync)
		rc = fsync(fd);
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

/* Writes the queue table whole over the second file and swaps it into
 * place, so it is never torn; sync (the file, then the directory: a
 * setting a client was told of survives a crash by name) for settings.
 * A failure is logged once until a write succeeds again: on a full disk
 * the totals are retried every turn. */
int conf_write(const char *home, const cJSON *root, int sync)
{
	static int failing;
	char path[4200], tmp[4200];
	char *text = cJSON_Print(root), *line = NULL;
	int rc = -1;

	if (text && asprintf(&line, "%s\n", text) < 0)
		line = NULL;
	free(text);
	if (line == NULL)
		return -1;
	conf_path(home, path, sizeof path, "");
	conf_path(home, tmp, sizeof tmp, ".tmp");
	rc = write_over(tmp, line, sync);
	if (rc == 0)
		rc = put_in_place(tmp, path);
	if (rc == 0 && sync)
		rc = fd_sync_dir(home);
	if (rc < 0 && !failing)
		log_error("%s: %s", tmp, strerror(errno));
	if (rc < 0)
		(void)unlink(tmp);	/* a partial copy only takes space */
	failing = rc < 0;
	free(line);
	return rc;
}

int conf_save(struct coord *c, int sync)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *qs = cJSON_AddArrayToObject(root, "queues");
	struct record_pos end;
	int rc;

	/* The totals count every record up to here; a replay after a crash
	 * counts the ones after (replay.c). */
	store_end(&c->store, &end);
	cJSON_AddNumberToObject(root, "log_segment", (double)end.seq);
	cJSON_AddNumberToObject(root, "log_offset", (double)end.off);
	for (size_t i = 0; i < c->nqueues; i++)
		cJSON_AddItemToArray(qs, queue_entry(c->queues[i]));
	rc = conf_write(c->opt.home, root, sync);
	cJSON_Delete(root);
	return rc;
}
