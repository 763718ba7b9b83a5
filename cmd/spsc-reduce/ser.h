/*
 * ser: the bytes of a checkpoint.  Little-endian integers (libcommon/le.h)
 * go out through a buffer that keeps a running CRC32C and come back in
 * through a reader that checks every length against what is left, so a
 * damaged file is an error and never a read past its end.  Errors are
 * sticky: check failed (or the return of ser_out_finish) once, at the end.
 */
#ifndef SPSC_REDUCE_SER_H
#define SPSC_REDUCE_SER_H

#include <stddef.h>
#include <stdint.h>

#define SER_BUF (256 * 1024)

struct ser_out {
	int fd;
	const char *name;
	uint8_t *buf;
	size_t n;
	uint32_t crc;
	uint64_t total;		/* bytes written so far, the buffer's included */
	int failed;
	char err[400];
};

int ser_out_init(struct ser_out *o, int fd, const char *name);
void ser_out_free(struct ser_out *o);
void ser_put(struct ser_out *o, const void *p, size_t len);
void ser_u8(struct ser_out *o, uint8_t v);
void ser_u32(struct ser_out *o, uint32_t v);
void ser_u64(struct ser_out *o, uint64_t v);
void ser_i64(struct ser_out *o, int64_t v);
void ser_f64(struct ser_out *o, double v);
int ser_out_finish(struct ser_out *o);

struct ser_in {
	const uint8_t *base, *p, *end;
	int failed;		/* a read ran past the end */
};

void ser_in_init(struct ser_in *in, const void *buf, size_t len);
const void *ser_take(struct ser_in *in, size_t len);
uint8_t ser_get_u8(struct ser_in *in);
uint32_t ser_get_u32(struct ser_in *in);
uint64_t ser_get_u64(struct ser_in *in);
int64_t ser_get_i64(struct ser_in *in);
double ser_get_f64(struct ser_in *in);
size_t ser_offset(const struct ser_in *in);

#endif
