#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "crc32c.h"
#include "dirlock.h"
#include "home.h"
#include "le.h"

#define MAGIC "SPSCRDCK"
#define VERSION 1
#define OPTIONS_MAX 65536

int ckpt_open(struct ckpt *c, const char *dir, const char *options,
	      char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->lock_fd = -1;
	c->options = options;
	if (snprintf(c->dir, sizeof c->dir, "%s", dir) >= (int)sizeof c->dir) {
		snprintf(err, errlen, "--state: directory name too long");
		return -1;
	}
	snprintf(c->path, sizeof c->path, "%s/checkpoint", dir);
	snprintf(c->tmp, sizeof c->tmp, "%s/checkpoint.tmp", dir);
	if (spsc_mkdirs(dir) < 0) {
		snprintf(err, errlen, "%s: cannot make the state directory: %s",
			 dir, strerror(errno));
		return -1;
	}
	c->lock_fd = dir_lock(dir, "lock",
			      "another spsc-reduce is using this state directory (give each stage its own --state or --name)",
			      err, errlen);
	if (c->lock_fd < 0)
		return -1;
	if (ser_out_init(&c->out, -1, c->tmp) < 0) {
		snprintf(err, errlen, "out of memory");
		ckpt_close(c);
		return -1;
	}
	return 0;
}

void ckpt_close(struct ckpt *c)
{
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	c->lock_fd = -1;
	ser_out_free(&c->out);
}

/* --- writing --------------------------------------------------------- */

static int save_id(const struct atom_id *id, void *arg)
{
	ser_put(arg, id->b, sizeof id->b);
	return 0;
}

static void save_windows(struct ser_out *o, const struct reduce *r)
{
	const struct state *s = &r->state;

	ser_u64(o, s->ngroups);
	for (size_t i = 0; i < s->cap; i++) {
		const struct group *g = s->table[i];
		uint32_t n = 0;
		if (g == NULL)
			continue;
		for (struct win *w = g->wins; w; w = w->next)
			n++;
		ser_u32(o, g->keylen);
		ser_put(o, g->key, g->keylen);
		ser_u32(o, n);
		for (struct win *w = g->wins; w; w = w->next) {
			ser_i64(o, w->start);
			ser_i64(o, w->end);
			ser_u64(o, w->st.count);
			ser_u32(o, w->st.flags);
			agg_save(s->aggs, &w->st, win_slots(w), o);
		}
	}
}

static void save_outbox(struct ser_out *o, const struct outbox *ob)
{
	ser_u64(o, ob->n);
	for (size_t i = 0; i < ob->n; i++) {
		const struct atom *a = ob->v[i];
		ser_u8(o, ob->dest[i]);
		ser_put(o, a->id.b, sizeof a->id.b);
		ser_i64(o, a->created_ns);
		ser_u32(o, a->events);
		ser_u8(o, a->fail_kind);
		ser_u32(o, (uint32_t)a->fail_code);
		ser_i64(o, a->tmin);
		ser_i64(o, a->tmax);
		ser_i64(o, a->wm);
		ser_u32(o, (uint32_t)a->len);
		ser_put(o, a->data, a->len);
	}
}

static void save_all(struct ser_out *o, const struct ckpt *c,
		     const struct reduce *r)
{
	ser_put(o, MAGIC, 8);
	ser_u32(o, VERSION);
	ser_u32(o, (uint32_t)strlen(c->options));
	ser_put(o, c->options, strlen(c->options));
	ser_i64(o, r->wm);
	ser_i64(o, r->maxt);
	ser_u64(o, r->seq);
	ser_u64(o, r->atoms);
	ser_u64(o, r->events);
	ser_u64(o, r->late_events);
	ser_u64(o, r->results);
	ser_u64(o, r->bad.total);
	ser_u64(o, r->applied.len);
	idset_each(&r->applied, save_id, o);
	save_windows(o, r);
	save_outbox(o, &r->outbox);
}

static int sync_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Writes the whole state as the new checkpoint, durably.  0, or -1 with
 * err set and the old checkpoint, if any, still in place. */
int ckpt_save(struct ckpt *c, const struct reduce *r, char *err, size_t errlen)
{
	struct ser_out *o = &c->out;
	int fd = open(c->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", c->tmp, strerror(errno));
		return -1;
	}
	o->fd = fd;
	o->n = 0;
	o->crc = 0;
	o->total = 0;
	o->failed = 0;
	save_all(o, c, r);
	if (ser_out_finish(o) < 0) {
		snprintf(err, errlen, "%s", o->err);
		close(fd);
		return -1;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		snprintf(err, errlen, "%s: %s", c->tmp, strerror(errno));
		return -1;
	}
	if (rename(c->tmp, c->path) < 0) {
		snprintf(err, errlen, "%s: rename to %s: %s", c->tmp, c->path,
			 strerror(errno));
		return -1;
	}
	if (sync_dir(c->dir, err, errlen) < 0)
		return -1;
	c->saved++;
	c->bytes = o->total;
	return 0;
}

/* --- reading --------------------------------------------------------- */

struct loader {
	const struct ckpt *c;
	struct ser_in in;
	char *err;
	size_t errlen;
};

static int corrupt(struct loader *l, const char *what)
{
	snprintf(l->err, l->errlen,
		 "%s: damaged checkpoint (%s at byte %zu); it cannot be trusted: restore it or remove the directory to start over",
		 l->c->path, l->in.failed ? "truncated" : what, ser_offset(&l->in));
	return -1;
}

static int load_header(struct loader *l, struct reduce *r)
{
	const char *magic = ser_take(&l->in, 8), *opts;
	uint32_t version, n;

	if (magic == NULL || memcmp(magic, MAGIC, 8) != 0) {
		snprintf(l->err, l->errlen,
			 "%s: not a spsc-reduce checkpoint (bad magic)", l->c->path);
		return -1;
	}
	version = ser_get_u32(&l->in);
	if (version != VERSION) {
		snprintf(l->err, l->errlen,
			 "%s: checkpoint version %u, and this spsc-reduce knows %u",
			 l->c->path, version, VERSION);
		return -1;
	}
	n = ser_get_u32(&l->in);
	if (n > OPTIONS_MAX || (opts = ser_take(&l->in, n)) == NULL)
		return corrupt(l, "bad options length");
	if (n != strlen(l->c->options) || memcmp(opts, l->c->options, n) != 0) {
		snprintf(l->err, l->errlen,
			 "%s: made with other options (%.*s), not these (%s): use another --state or --name, or remove %s to start over",
			 l->c->path, (int)(n > 600 ? 600 : n), opts, l->c->options,
			 l->c->dir);
		return -1;
	}
	r->wm = ser_get_i64(&l->in);
	r->maxt = ser_get_i64(&l->in);
	r->seq = ser_get_u64(&l->in);
	r->atoms = ser_get_u64(&l->in);
	r->events = ser_get_u64(&l->in);
	r->late_events = ser_get_u64(&l->in);
	r->results = ser_get_u64(&l->in);
	r->bad.total = ser_get_u64(&l->in);
	return l->in.failed ? corrupt(l, "") : 0;
}

static int load_applied(struct loader *l, struct reduce *r)
{
	uint64_t n = ser_get_u64(&l->in);
	const uint8_t *p;

	if (n > (uint64_t)(l->in.end - l->in.p) / 16)
		return corrupt(l, "bad count of applied atoms");
	for (uint64_t i = 0; i < n; i++) {
		struct atom_id id;
		if ((p = ser_take(&l->in, 16)) == NULL)
			return corrupt(l, "");
		memcpy(id.b, p, 16);
		if (idset_add(&r->applied, &id) < 0) {
			snprintf(l->err, l->errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int load_window(struct loader *l, struct reduce *r, struct group *g)
{
	int64_t start = ser_get_i64(&l->in), end = ser_get_i64(&l->in);
	struct win *w;

	if (l->in.failed || start >= end)
		return corrupt(l, "a window that ends before it starts");
	if ((w = state_win_new(&r->state, g, start, end)) == NULL) {
		snprintf(l->err, l->errlen, "out of memory");
		return -1;
	}
	w->st.count = ser_get_u64(&l->in);
	w->st.flags = ser_get_u32(&l->in);
	if (w->st.count == 0 || agg_load(&r->aggs, &w->st, win_slots(w), &l->in) < 0)
		return corrupt(l, "bad window state");
	return 0;
}

static int load_windows(struct loader *l, struct reduce *r)
{
	uint64_t n = ser_get_u64(&l->in);

	for (uint64_t i = 0; i < n && !l->in.failed; i++) {
		uint32_t len = ser_get_u32(&l->in), m;
		const char *key;
		uint64_t h;
		struct group *g;
		if (len > KEY_VALUE_MAX || (key = ser_take(&l->in, len)) == NULL)
			return corrupt(l, "bad key length");
		h = state_hash(key, len);
		if (state_find(&r->state, key, len, h) != NULL)
			return corrupt(l, "a key twice");
		m = ser_get_u32(&l->in);
		if (m == 0)
			return corrupt(l, "a key without windows");
		if ((g = state_add(&r->state, key, len, h)) == NULL) {
			snprintf(l->err, l->errlen, "out of memory");
			return -1;
		}
		for (uint32_t k = 0; k < m; k++)
			if (load_window(l, r, g) < 0)
				return -1;
	}
	return l->in.failed ? corrupt(l, "") : 0;
}

static int load_outbox(struct loader *l, struct reduce *r)
{
	uint64_t n = ser_get_u64(&l->in);

	for (uint64_t i = 0; i < n && !l->in.failed; i++) {
		uint8_t dest = ser_get_u8(&l->in);
		const uint8_t *id = ser_take(&l->in, 16);
		struct atom *a;
		const void *data;
		uint32_t len;

		if (dest > DEST_DLQ || id == NULL)
			return corrupt(l, "bad outbox entry");
		if ((a = outbox_add(&r->outbox, dest)) == NULL) {
			snprintf(l->err, l->errlen, "out of memory");
			return -1;
		}
		memcpy(a->id.b, id, 16);
		a->created_ns = ser_get_i64(&l->in);
		a->events = ser_get_u32(&l->in);
		a->fail_kind = ser_get_u8(&l->in);
		a->fail_code = (int32_t)ser_get_u32(&l->in);
		a->tmin = ser_get_i64(&l->in);
		a->tmax = ser_get_i64(&l->in);
		a->wm = ser_get_i64(&l->in);
		len = ser_get_u32(&l->in);
		if ((data = ser_take(&l->in, len)) == NULL)
			return corrupt(l, "");
		if (atom_append(a, data, len) < 0) {
			snprintf(l->err, l->errlen, "out of memory");
			return -1;
		}
	}
	return l->in.failed ? corrupt(l, "") : 0;
}

static int load_all(struct loader *l, struct reduce *r)
{
	if (load_header(l, r) < 0 || load_applied(l, r) < 0 ||
	    load_windows(l, r) < 0 || load_outbox(l, r) < 0)
		return -1;
	if (l->in.p != l->in.end)
		return corrupt(l, "bytes after the end");
	return 0;
}

/*
 * Restores the state from DIR/checkpoint into r, fresh from reduce_init.
 * 1: restored; 0: there is none (a first run); -1: it cannot be used
 * (damaged, made with other options, unreadable), with err naming the
 * file and what is wrong.
 */
int ckpt_load(struct ckpt *c, struct reduce *r, char *err, size_t errlen)
{
	struct loader l = { .c = c, .err = err, .errlen = errlen };
	struct stat st;
	void *map;
	int fd, rc;

	fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_size < 12) {
		close(fd);
		snprintf(err, errlen, "%s: damaged checkpoint (%lld bytes, too short to be one)",
			 c->path, (long long)st.st_size);
		return -1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", c->path, strerror(errno));
		return -1;
	}
	if (memcmp(map, MAGIC, 8) != 0) {
		snprintf(err, errlen, "%s: not a spsc-reduce checkpoint (bad magic)",
			 c->path);
		munmap(map, (size_t)st.st_size);
		return -1;
	}
	/* The checksum next: nothing of a damaged file is believed, not
	 * even a length. */
	if (crc32c(0, map, (size_t)st.st_size - 4) !=
	    le_get32((const uint8_t *)map + st.st_size - 4)) {
		snprintf(err, errlen,
			 "%s: damaged checkpoint (checksum mismatch); it cannot be trusted: restore it or remove the directory to start over",
			 c->path);
		munmap(map, (size_t)st.st_size);
		return -1;
	}
	ser_in_init(&l.in, map, (size_t)st.st_size - 4);
	rc = load_all(&l, r);
	munmap(map, (size_t)st.st_size);
	return rc < 0 ? -1 : 1;
}
