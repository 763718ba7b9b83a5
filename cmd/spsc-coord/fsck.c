/*
 * fsck: checks every segment of a stopped coordinator's log, says what
 * damage puts at stake, and with --repair goes on without it.
 *
 * A damaged run of bytes is skipped up to the next intact record (the
 * record mark, segment.h).  Inside the run, fsck reads what it can of the
 * record heads, CRC or not, to name the atoms concerned:
 *
 *   a damaged PUT      the atom is lost, unless an intact ACK shows it
 *                      was consumed anyway
 *   a damaged ACK      the atom may come back, if its PUT is intact
 *   a damaged PURGE    the atoms purged may come back
 *   unreadable bytes   atoms put there are lost and atoms acknowledged
 *                      there may come back, ids unknown
 *
 * --repair copies each damaged segment to $SPSC_HOME/damaged/ first, then
 * rewrites it with its intact records only (a new file, synced, renamed
 * over the old).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomid.h"
#include "coord.h"
#include "fdio.h"
#include "fsck.h"
#include "grow.h"
#include "hash.h"
#include "le.h"
#include "lock.h"
#include "log.h"
#include "store.h"

/* A record and the atom it is about: for intact PUT, MOVE and ACK
 * records, what a damaged record is judged against.  The queue is kept as
 * a hash of its name, so that a log of millions of records fits. */
struct seen {
	uint8_t id[16];
	uint64_t queue;
	uint64_t seq, off;
	uint8_t type;
};

/* An atom a damaged record was about. */
struct suspect {
	struct seen rec;
	char queue[201];
	char path[4200];
};

struct fsck {
	const char *home;
	char dir[4200];
	int repair;
	struct seen *seen;
	size_t nseen, seen_cap;
	struct suspect *sus;
	size_t nsus, sus_cap;
	uint64_t segments, records, runs, unknown_bytes;
	uint64_t lost, back;
	/* Where queues.json's totals counted to, and how many bytes a
	 * repair removes before that point in that segment. */
	int has_totals;
	struct record_pos totals_at;
	uint64_t shift;
};

struct mapped {
	int fd;
	uint8_t *p;
	size_t size;
	struct segment_map m;
	int header_ok;		/* as written, before any guess below */
};

static int map_segment(const char *path, uint64_t seq, struct mapped *mp)
{
	struct stat st;

	mp->p = NULL;
	mp->size = 0;
	if ((mp->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(mp->fd, &st) < 0)
		return -1;
	mp->size = (size_t)st.st_size;
	if (mp->size && (mp->p = mmap(NULL, mp->size, PROT_READ, MAP_PRIVATE,
				      mp->fd, 0)) == MAP_FAILED)
		return -1;
	segment_map_init(&mp->m, mp->p, mp->size);
	mp->header_ok = segment_header_ok(&mp->m, seq);
	/* A damaged header: read on, in the format the first record has (a
	 * LOG3 record names the segment at byte 12). */
	if (mp->m.version == 0 && mp->size >= SEGMENT_HEAD + RECORD_HEAD)
		segment_map_version(&mp->m,
			le_get16(mp->p + SEGMENT_HEAD + 10) == 0 ? 1 :
			le_get32(mp->p + SEGMENT_HEAD + 12) == (uint32_t)seq ? 3 : 2);
	else if (mp->m.version == 0 && mp->size >= SEGMENT_HEAD)
		segment_map_version(&mp->m, 3);
	mp->m.seq = seq;	/* the name is what records are checked against */
	return 0;
}

static void unmap_segment(struct mapped *mp)
{
	if (mp->p && mp->p != MAP_FAILED)
		munmap(mp->p, mp->size);
	if (mp->fd >= 0)
		close(mp->fd);
}

/* The atom a record body names: an ACK or RECV starts with the id, a
 * PUT's frame has it at byte 8, a MOVE's at byte 12. */
static int body_id(int type, const uint8_t *b, size_t len, uint8_t id[16])
{
	size_t at = type == REC_PUT ? 8 : type == REC_MOVE ? 12 : 0;

	if (type == REC_PURGE || len < at + 16)
		return -1;
	memcpy(id, b + at, 16);
	return 0;
}

static int note_seen(struct fsck *f, const struct log_record *rec,
		     uint64_t seq)
{
	struct seen k = { .type = (uint8_t)rec->type, .seq = seq, .off = rec->off };

	if (rec->type == REC_RECV || rec->type == REC_PURGE ||
	    body_id(rec->type, rec->body, rec->body_len, k.id) < 0)
		return 0;
	k.queue = hash64(rec->queue, strlen(rec->queue), 0);
	if (grow(&f->seen, &f->seen_cap, f->nseen + 1, sizeof *f->seen) < 0)
		return -1;
	f->seen[f->nseen++] = k;
	return 0;
}

/* One record head read inside a damaged run: remember its atom. */
static int suspect(struct fsck *f, const uint8_t *p, size_t head, size_t at,
		   uint64_t seq, const char *path)
{
	struct suspect *su;
	uint32_t len = le_get32(p);

	if (grow(&f->sus, &f->sus_cap, f->nsus + 1, sizeof *f->sus) < 0)
		return -1;
	su = &f->sus[f->nsus];
	memset(su, 0, sizeof *su);
	if (p[8] != REC_PURGE &&
	    body_id(p[8], p + head + p[9], len - head - p[9], su->rec.id) < 0)
		return 0;
	su->rec.type = p[8];
	su->rec.seq = seq;
	su->rec.off = at;
	memcpy(su->queue, p + head, p[9] < 200 ? p[9] : 200);
	su->rec.queue = hash64(su->queue, strlen(su->queue), 0);
	snprintf(su->path, sizeof su->path, "%s", path);
	f->nsus++;
	return 0;
}

/* Reads what record heads it can inside a damaged run, CRC or not. */
static int salvage(struct fsck *f, const struct mapped *mp, uint64_t seq,
		   const struct log_damage *d, const char *path)
{
	size_t at = d->off, end = d->off + d->len, head = mp->m.head;

	while (at + head <= end) {
		const uint8_t *p = mp->p + at;
		uint32_t len = le_get32(p);
		if (len < head + (size_t)p[9] || len > end - at || p[9] == 0 ||
		    p[8] < REC_PUT || p[8] > REC_TYPE_MAX)
			break;
		if (suspect(f, p, head, at, seq, path) < 0)
			return -1;
		at += len;
	}
	if (at < end) {
		f->unknown_bytes += end - at;
		printf("%s: bytes %zu..%zu: unreadable: atoms put there are lost and atoms acknowledged there may come back; their ids are unknown\n",
		       path, at, end);
	}
	return 0;
}

static int later(const struct seen *a, const struct seen *b)
{
	return a->seq > b->seq || (a->seq == b->seq && a->off > b->off);
}

/* Orders records by atom: id, then queue. */
static int by_atom(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int c = memcmp(x->id, y->id, sizeof x->id);

	return c ? c : (x->queue > y->queue) - (x->queue < y->queue);
}

/* Is there an intact record of this type for the suspect's atom, after
 * it (after = 1) or before it?  f->seen is sorted by_atom: a binary
 * search finds the atom's records. */
static int intact(const struct fsck *f, const struct seen *s, int type,
		  int after)
{
	size_t lo = 0, hi = f->nseen;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (by_atom(&f->seen[mid], s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < f->nseen && by_atom(&f->seen[lo], s) == 0; lo++)
		if (f->seen[lo].type == type && later(&f->seen[lo], s) == after)
			return 1;
	return 0;
}

static void judge(struct fsck *f, const struct suspect *su)
{
	const struct seen *s = &su->rec;
	char hex[ATOMID_HEX_LEN + 1];

	atomid_hex((const struct atom_id *)s->id, hex);
	switch (s->type) {
	case REC_PUT:
	case REC_MOVE:
		if (intact(f, s, REC_PUT, 0) || intact(f, s, REC_PUT, 1) ||
		    intact(f, s, REC_MOVE, 0) || intact(f, s, REC_MOVE, 1)) {
			printf("%s: byte %" PRIu64 ": damaged %s of atom %s, queue %s: another intact copy, nothing lost\n",
			       su->path, s->off, record_type_name(s->type), hex, su->queue);
			break;
		}
		if (intact(f, s, REC_ACK, 1)) {
			printf("%s: byte %" PRIu64 ": damaged %s of atom %s, queue %s: already acknowledged, nothing lost\n",
			       su->path, s->off, record_type_name(s->type), hex, su->queue);
			break;
		}
		printf("%s: byte %" PRIu64 ": lost: atom %s, queue %s (its %s record is damaged)\n",
		       su->path, s->off, hex, su->queue, record_type_name(s->type));
		f->lost++;
		break;
	case REC_ACK:
		if (!intact(f, s, REC_PUT, 0) && !intact(f, s, REC_MOVE, 0))
			break;
		printf("%s: byte %" PRIu64 ": may come back: atom %s, queue %s (its ACK record is damaged)\n",
		       su->path, s->off, hex, su->queue);
		f->back++;
		break;
	case REC_RECV:
		printf("%s: byte %" PRIu64 ": atom %s, queue %s: its receive count may be lower\n",
		       su->path, s->off, hex, su->queue);
		break;
	case REC_PURGE:
		printf("%s: byte %" PRIu64 ": damaged PURGE of queue %s: the atoms it purged may come back\n",
		       su->path, s->off, su->queue);
		f->back++;
		break;
	}
}

/* Keeps the damaged file as it was, under $SPSC_HOME/damaged/. */
static int keep_copy(struct fsck *f, const char *path, const struct mapped *mp)
{
	char dir[4200], copy[4400];	/* home is at most 4095 bytes */
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int fd = -1;

	snprintf(dir, sizeof dir, "%s/damaged", f->home);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	for (int n = 0; n < 1000 && fd < 0; n++) {
		if (n == 0)
			snprintf(copy, sizeof copy, "%.4100s/%.200s", dir, base);
		else
			snprintf(copy, sizeof copy, "%.4100s/%.200s.%d", dir, base, n);
		fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return -1;
	}
	if (fd < 0 || fd_write_all(fd, mp->p, mp->size) < 0 || fsync(fd) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	printf("%s: copy kept as %s\n", path, copy);
	return close(fd);
}

/* Rewrites a segment with its intact records only. */
static int rewrite(const char *path, const struct mapped *mp, uint64_t seq)
{
	char tmp[4300];
	uint8_t head[SEGMENT_HEAD];
	struct log_record rec;
	struct log_damage d;
	size_t off = SEGMENT_HEAD;
	enum scan_step step;
	int fd, rc = 0;

	snprintf(tmp, sizeof tmp, "%s.repair", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	segment_header(head, seq);
	if (mp->m.version < 3)		/* its records keep their format */
		memcpy(head, mp->m.version == 1 ? SEGMENT_MAGIC_V1 : SEGMENT_MAGIC_V2, 8);
	rc = fd_write_all(fd, head, sizeof head);
	while (rc == 0 && (step = segment_next(&mp->m, &off, &rec, &d)) != SCAN_END)
		if (step == SCAN_RECORD)
			rc = fd_write_all(fd, mp->p + rec.off, rec.len);
	if (rc == 0)
		rc = fsync(fd);
	if (close(fd) < 0 || rc < 0 || rename(tmp, path) < 0) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

static int check_segment(struct fsck *f, uint64_t seq)
{
	char path[4200];
	struct mapped mp;
	struct log_record rec;
	struct log_damage d;
	size_t off = SEGMENT_HEAD;
	enum scan_step step;
	uint64_t runs = f->runs;
	int rc = 0;

	snprintf(path, sizeof path, "%.4096s/%020" PRIu64 ".seg", f->dir, seq);
	f->segments++;
	if (map_segment(path, seq, &mp) < 0) {
		log_error("%s: %s", path, strerror(errno));
		unmap_segment(&mp);
		return -1;
	}
	if (mp.size < SEGMENT_HEAD) {
		printf("%s: %zu bytes, shorter than a segment header\n", path, mp.size);
		f->runs++;
	} else if (!mp.header_ok) {
		printf("%s: byte 0: bad segment header\n", path);
		f->runs++;
	}
	while (mp.size >= SEGMENT_HEAD && rc == 0 &&
	       (step = segment_next(&mp.m, &off, &rec, &d)) != SCAN_END) {
		if (step == SCAN_RECORD) {
			f->records++;
			rc = note_seen(f, &rec, seq);
			continue;
		}
		f->runs++;
		if (f->has_totals && seq == f->totals_at.seq && d.off < f->totals_at.off)
			f->shift += d.len < f->totals_at.off - d.off ? d.len : f->totals_at.off - d.off;
		printf("%s: byte %zu: %s; %zu bytes damaged, %s\n", path, d.off,
		       d.why, d.len, d.at_end ? "to the end of the segment" : "then intact records again");
		rc = salvage(f, &mp, seq, &d, path);
	}
	if (rc == 0 && f->repair && f->runs > runs) {
		if (keep_copy(f, path, &mp) < 0 ||
		    (mp.size < SEGMENT_HEAD ? unlink(path) : rewrite(path, &mp, seq)) < 0) {
			log_error("%s: repair failed: %s", path, strerror(errno));
			rc = -1;
		} else {
			printf("%s: repaired: intact records kept\n", path);
		}
	}
	unmap_segment(&mp);
	return rc;
}

static void read_totals_at(struct fsck *f)
{
	cJSON *root = conf_read(f->home);
	const cJSON *seg = cJSON_GetObjectItemCaseSensitive(root, "log_segment");
	const cJSON *off = cJSON_GetObjectItemCaseSensitive(root, "log_offset");

	if (cJSON_IsNumber(seg) && cJSON_IsNumber(off)) {
		f->has_totals = 1;
		f->totals_at.seq = (uint64_t)seg->valuedouble;
		f->totals_at.off = (uint64_t)off->valuedouble;
	}
	cJSON_Delete(root);
}

/* A repair moved the records after the damage down: the position the
 * totals counted to moves with them, or the next start would count some
 * records twice or not at all. */
static int shift_totals_at(struct fsck *f)
{
	cJSON *root;
	int rc;

	if (f->shift == 0)
		return 0;
	if ((root = conf_read(f->home)) == NULL)
		return -1;
	cJSON_DeleteItemFromObjectCaseSensitive(root, "log_offset");
	cJSON_AddNumberToObject(root, "log_offset", (double)(f->totals_at.off - f->shift));
	rc = conf_write(f->home, root, 1);
	cJSON_Delete(root);
	return rc;
}

int fsck_main(const char *home, int repair)
{
	struct fsck f = { .home = home, .repair = repair };
	uint64_t *seqs;
	size_t n;
	int lockfd, rc = 0;

	if ((lockfd = coord_lock(home)) < 0)
		return 1;
	snprintf(f.dir, sizeof f.dir, "%.4096s/log", home);
	if (store_list(f.dir, &seqs, &n) < 0) {
		close(lockfd);
		if (errno == ENOENT) {
			printf("%s: no log yet\n", f.dir);
			return 0;
		}
		log_error("%s: %s", f.dir, strerror(errno));
		return 1;
	}
	read_totals_at(&f);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = check_segment(&f, seqs[i]);
	if (rc == 0 && repair && shift_totals_at(&f) < 0)
		rc = -1;
	if (f.nseen > 1)
		qsort(f.seen, f.nseen, sizeof *f.seen, by_atom);
	for (size_t i = 0; i < f.nsus && rc == 0; i++)
		judge(&f, &f.sus[i]);
	if (rc == 0 && repair && f.runs && fd_sync_dir(f.dir) < 0)
		rc = -1;
	printf("%" PRIu64 " segments, %" PRIu64 " intact records, %" PRIu64 " damaged runs; %" PRIu64
	       " atoms lost, %" PRIu64 " may come back, %" PRIu64 " bytes unreadable%s\n",
	       f.segments, f.records, f.runs, f.lost, f.back, f.unknown_bytes,
	       f.runs == 0 ? "" : repair && rc == 0 ? "; repaired" : "; nothing changed (--repair to go on without them)");
	free(seqs);
	free(f.seen);
	free(f.sus);
	close(lockfd);
	if (rc < 0)
		return 1;
	return f.runs && !repair ? EXIT_LOG_DAMAGED : 0;
}
