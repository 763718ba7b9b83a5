#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "fdio.h"
#include "le.h"
#include "ser.h"

int ser_out_init(struct ser_out *o, int fd, const char *name)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->name = name;
	o->buf = malloc(SER_BUF);
	return o->buf ? 0 : -1;
}

void ser_out_free(struct ser_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

static void flush(struct ser_out *o)
{
	if (o->failed || o->n == 0)
		return;
	if (fd_write_all(o->fd, o->buf, o->n) < 0) {
		snprintf(o->err, sizeof o->err, "%s: write: %s", o->name,
			 strerror(errno));
		o->failed = 1;
	}
	o->n = 0;
}

void ser_put(struct ser_out *o, const void *p, size_t len)
{
	const uint8_t *b = p;

	if (len == 0)
		return;
	o->crc = crc32c(o->crc, p, len);
	o->total += len;
	while (len > 0 && !o->failed) {
		size_t room = SER_BUF - o->n, k = len < room ? len : room;
		memcpy(o->buf + o->n, b, k);
		o->n += k;
		b += k;
		len -= k;
		if (o->n == SER_BUF)
			flush(o);
	}
}

void ser_u8(struct ser_out *o, uint8_t v)
{
	ser_put(o, &v, 1);
}

void ser_u32(struct ser_out *o, uint32_t v)
{
	uint8_t b[4];

	le_put32(b, v);
	ser_put(o, b, sizeof b);
}

void ser_u64(struct ser_out *o, uint64_t v)
{
	uint8_t b[8];

	le_put64(b, v);
	ser_put(o, b, sizeof b);
}

void ser_i64(struct ser_out *o, int64_t v)
{
	ser_u64(o, (uint64_t)v);
}

void ser_f64(struct ser_out *o, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof bits);
	ser_u64(o, bits);
}

/* Appends the CRC32C of everything before it and writes out the rest. */
int ser_out_finish(struct ser_out *o)
{
	uint8_t b[4];

	le_put32(b, o->crc);
	ser_put(o, b, sizeof b);
	flush(o);
	return o->failed ? -1 : 0;
}

void ser_in_init(struct ser_in *in, const void *buf, size_t len)
{
	in->base = in->p = buf;
	in->end = in->base + len;
	in->failed = 0;
}

/* len bytes where the reader is, or NULL (and failed) past the end. */
const void *ser_take(struct ser_in *in, size_t len)
{
	const uint8_t *p = in->p;

	if (in->failed || len > (size_t)(in->end - in->p)) {
		in->failed = 1;
		return NULL;
	}
	in->p += len;
	return p;
}

uint8_t ser_get_u8(struct ser_in *in)
{
	const uint8_t *p = ser_take(in, 1);

	return p ? p[0] : 0;
}

uint32_t ser_get_u32(struct ser_in *in)
{
	const uint8_t *p = ser_take(in, 4);

	return p ? le_get32(p) : 0;
}

uint64_t ser_get_u64(struct ser_in *in)
{
	const uint8_t *p = ser_take(in, 8);

	return p ? le_get64(p) : 0;
}

int64_t ser_get_i64(struct ser_in *in)
{
	return (int64_t)ser_get_u64(in);
}

double ser_get_f64(struct ser_in *in)
{
	uint64_t bits = ser_get_u64(in);
	double v;

	memcpy(&v, &bits, sizeof v);
	return v;
}

size_t ser_offset(const struct ser_in *in)
{
	return (size_t)(in->p - in->base);
}
