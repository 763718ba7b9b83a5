#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "frames.h"
#include "log.h"
#include "contents.h"

/* The checks of frames.h (frame_verify, with the payload's CRC only if
 * asked); 0 if the frame may be handed out, with its header's length. */
static int check(struct coord *c, struct frame_ref *f, int payload_too,
		 char *why, size_t whylen)
{
	struct atom_frame fr;
	struct atom a;

	if (frame_verify(c, f->p, f->len, payload_too, &a, &fr, why, whylen) != 0)
		return -1;
	f->header_len = (uint32_t)fr.header_len;
	return 0;
}

/* A frame that cannot be handed out is removed, and said so. */
static void drop_bad(struct coord *c, struct queue *q, struct entry *e,
		     int64_t now, const char *why)
{
	char hex[ATOMID_HEX_LEN + 1];

	atomid_hex(&e->id, hex);
	log_error("queue %s: atom %s: %s; removed from the queue", q->name, hex, why);
	c->store.err[0] = '\0';
	entry_remove(c, q, e, now, ACK_CORRUPT);
}

/*
 * The entry's frame, checked (see frames.h).  -1 if it failed its checks
 * or could not be read: the entry is then removed and reported, never
 * handed out.
 */
int frame_get(struct coord *c, struct queue *q, struct entry *e, int64_t now,
	      struct frame_ref *f)
{
	char why[256] = "";

	*f = (struct frame_ref){ .len = e->len };
	f->p = store_frame(&c->store, &e->pos, e->len, &f->view);
	if (f->p == NULL) {
		f->view = NULL;
		if ((f->owned = malloc(e->len)) == NULL)
			snprintf(why, sizeof why, "out of memory");
		else if (store_read(&c->store, &e->pos, f->owned, e->len) < 0)
			snprintf(why, sizeof why, "%.200s", c->store.err);
		else
			f->p = f->owned;
	}
	if (f->p && check(c, f, f->owned || !store_is_current(&c->store, e->pos.seq),
			  why, sizeof why) == 0)
		return 0;
	frame_put(f);
	drop_bad(c, q, e, now, why);
	return -1;
}

/* Adds the frame to the reply with its receive count stamped in a copy of
 * its header: whole, or (split) as the header and then the payload, which
 * goes from the mapping when it is large.  The reference is used up. */
int frame_send(struct reply *r, struct frame_ref *f, uint32_t attempt,
	       int split)
{
	uint8_t hdr[ATOM_HEADER_BUF];
	const uint8_t *payload = f->p + f->header_len;
	size_t stored = f->len - f->header_len;
	int rc;

	if (f->owned) {		/* ours already: stamp in place, no copy */
		atom_header_set_attempt(f->owned, attempt);
		rc = reply_add_owned(r, f->owned, f->len);
		f->owned = NULL;
		return rc;
	}
	memcpy(hdr, f->p, f->header_len);
	atom_header_set_attempt(hdr, attempt);
	if (split && f->len >= FRAME_SPLIT_MIN) {
		rc = reply_add(r, hdr, f->header_len);
		if (rc == 0) {
			segview_hold(f->view);
			rc = reply_add_view(r, payload, stored, f->view);
		}
	} else {
		rc = reply_add2(r, hdr, f->header_len, payload, stored);
	}
	f->view = NULL;
	return rc;
}

/* Lets go of a frame not sent. */
void frame_put(struct frame_ref *f)
{
	free(f->owned);
	*f = (struct frame_ref){ 0 };
}

/* The entry's frame in a buffer of the caller's own, to change and hand
 * on (dead-lettering, redrive, peek); NULL if it failed its checks, or
 * memory ran out: the entry is then removed, never left to be tried for
 * ever. */
uint8_t *entry_load(struct coord *c, struct queue *q, struct entry *e,
		    int64_t now)
{
	struct frame_ref f;
	uint8_t *buf;

	if (frame_get(c, q, e, now, &f) < 0)
		return NULL;
	buf = f.owned;
	if (buf == NULL && (buf = malloc(f.len)) != NULL)
		memcpy(buf, f.p, f.len);
	f.owned = NULL;
	frame_put(&f);
	if (buf == NULL)
		drop_bad(c, q, e, now, "out of memory");
	return buf;
}
