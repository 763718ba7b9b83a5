#include <string.h>

#include "crc32c.h"

#define POLY 0x82F63B78u

static uint32_t table[8][256];

/* Slicing-by-8 tables for machines without the instruction. */
__attribute__((constructor)) static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (POLY & (0u - (c & 1)));
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int s = 1; s < 8; s++)
			table[s][i] = (table[s - 1][i] >> 8) ^
				      table[0][table[s - 1][i] & 0xff];
}

static uint32_t crc32c_soft(uint32_t c, const unsigned char *p, size_t n)
{
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		w ^= c;
		c = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^
		    table[5][(w >> 16) & 0xff] ^ table[4][(w >> 24) & 0xff] ^
		    table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
		    table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
		p += 8;
		n -= 8;
	}
	while (n--)
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_hw_serial(uint32_t c, const unsigned char *p, size_t n)
{
	uint64_t c64 = c;

	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c64 = __builtin_ia32_crc32di(c64, w);
		p += 8;
		n -= 8;
	}
	c = (uint32_t)c64;
	while (n--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}

/*
 * The crc32 instruction takes three cycles and can start one a cycle, so
 * one running CRC uses a third of it.  Long buffers run as three CRCs
 * over three consecutive STRIDE-byte blocks at once, which are then
 * joined: a CRC (without its inversions) is linear in its starting value,
 * so CRC(c, A B C) = shift(shift(CRC(c, A)) ^ CRC(0, B)) ^ CRC(0, C),
 * where shift() advances a CRC over STRIDE zero bytes.  shift() is linear
 * too, and so a lookup of its four bytes in tables made once.
 */
#define STRIDE 1024

static uint32_t shift_table[4][256];

/* At start-up, like the tables above: a megabyte of CRC, about 0.1 ms. */
__attribute__((constructor, target("sse4.2")))
static void shift_init(void)
{
	static const unsigned char zeros[STRIDE];

	if (!__builtin_cpu_supports("sse4.2"))
		return;
	for (int k = 0; k < 4; k++)
		for (uint32_t i = 0; i < 256; i++)
			shift_table[k][i] = crc32c_hw_serial(i << (8 * k), zeros, STRIDE);
}

static uint32_t shift(uint32_t c)
{
	return shift_table[0][c & 0xff] ^ shift_table[1][(c >> 8) & 0xff] ^
	       shift_table[2][(c >> 16) & 0xff] ^ shift_table[3][c >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t c, const unsigned char *p, size_t n)
{
	while (n >= 3 * STRIDE) {
		uint64_t a = c, b = 0, d = 0, w0, w1, w2;
		for (size_t i = 0; i < STRIDE; i += 8) {
			memcpy(&w0, p + i, 8);
			memcpy(&w1, p + STRIDE + i, 8);
			memcpy(&w2, p + 2 * STRIDE + i, 8);
			a = __builtin_ia32_crc32di(a, w0);
			b = __builtin_ia32_crc32di(b, w1);
			d = __builtin_ia32_crc32di(d, w2);
		}
		c = shift(shift((uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)d;
		p += 3 * STRIDE;
		n -= 3 * STRIDE;
	}
	return crc32c_hw_serial(c, p, n);
}
#endif

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	uint32_t c = ~crc;

#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return ~crc32c_hw(c, buf, len);
#endif
	return ~crc32c_soft(c, buf, len);
}

/*
 * CRC arithmetic is over polynomials with coefficients in GF(2), modulo
 * POLY, bit-reflected as above: bit 31 is the coefficient of x^0.  With
 * the pre- and post-inversion of crc32c(), CRC(A B) = CRC(A) * x^(8|B|)
 * + CRC(B): appending |B| bytes multiplies what A left by x^(8|B|), and B's
 * own bytes add CRC(B).
 */
static uint32_t gf2_mul(uint32_t a, uint32_t b)
{
	uint32_t p = 0;

	for (int i = 0; i < 32; i++) {
		if (a & (0x80000000u >> i))	/* a has x^i: add b * x^i */
			p ^= b;
		b = b & 1 ? (b >> 1) ^ POLY : b >> 1;	/* b *= x */
	}
	return p;
}

/* x^(2^k) mod POLY for k = 0..63, each the square of the one before. */
static uint32_t x_pow2k[64];

__attribute__((constructor)) static void combine_init(void)
{
	x_pow2k[0] = 0x40000000u;	/* x^1 */
	for (int k = 1; k < 64; k++)
		x_pow2k[k] = gf2_mul(x_pow2k[k - 1], x_pow2k[k - 1]);
}

uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
	uint32_t x = 0x80000000u;	/* x^0 */

	/* x^(8 len_b): the product of x^(2^k) over the bits k of 8 len_b */
	for (int k = 3; len_b && k < 64; k++, len_b >>= 1)
		if (len_b & 1)
			x = gf2_mul(x_pow2k[k], x);
	return gf2_mul(x, crc_a) ^ crc_b;
}
