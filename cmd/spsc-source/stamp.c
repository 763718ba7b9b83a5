#include <stdio.h>
#include <string.h>

#include "evtime.h"
#include "log.h"
#include "stamp.h"

int stamp_init(struct stamp *st, const char *field, const char *sep,
	       int64_t lateness_ns, char *err, size_t errlen)
{
	memset(st, 0, sizeof *st);
	st->max_seen = ATOM_TIME_NONE;
	st->lateness_ns = lateness_ns;
	key_buf_init(&st->buf);
	if (field == NULL)
		return 0;
	st->on = 1;
	return key_spec_parse(&st->field, field, sep, err, errlen);
}

/* The time of one event, or -1 (counted) when it has none. */
static int event_time(struct stamp *st, const char *ev, size_t len,
		      int64_t *t)
{
	char why[200];

	if (key_extract(&st->field, ev, len, &st->buf, why, sizeof why) != KEY_OK)
		goto bad;
	if (evtime_parse(st->buf.ptr, st->buf.len, t) == 0)
		return 0;
	snprintf(why, sizeof why, "'%.*s' is not a time",
		 (int)(st->buf.len > 60 ? 60 : st->buf.len), st->buf.ptr);
bad:
	if (st->bad++ == 0)
		snprintf(st->first_err, sizeof st->first_err, "%s", why);
	return -1;
}

void stamp_atom(struct stamp *st, struct atom *a)
{
	const char *p = a->data, *end = a->data + a->len;

	if (!st->on)
		return;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		int64_t t;
		if (event_time(st, p, len, &t) == 0) {
			if (a->tmin == ATOM_TIME_NONE || t < a->tmin)
				a->tmin = t;
			if (a->tmax == ATOM_TIME_NONE || t > a->tmax)
				a->tmax = t;
		}
		p += len + 1;
	}
	if (a->tmax != ATOM_TIME_NONE &&
	    (st->max_seen == ATOM_TIME_NONE || a->tmax > st->max_seen))
		st->max_seen = a->tmax;
	if (st->max_seen != ATOM_TIME_NONE)
		a->wm = st->max_seen - st->lateness_ns;
}

void stamp_report(const struct stamp *st, const char *field)
{
	if (st->bad)
		log_warn("%llu events had no usable time in %s (the first: %s); they did not move the watermark",
			 (unsigned long long)st->bad, field, st->first_err);
}

void stamp_free(struct stamp *st)
{
	if (st->on)
		key_spec_free(&st->field);
	key_buf_free(&st->buf);
}
