#include "config.h"

#include <string.h>

#ifdef HAVE_ISAL
#include <isa-l/crc.h>
#endif

#include "crc32c.h"

#define POLY 0x82F63B78u

static uint32_t table[8][256];

/* Slicing-by-8 tables, for builds without ISA-L. */
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

static uint32_t slice8(uint32_t c, const unsigned char *p, size_t n)
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

uint32_t crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
	return ~slice8(~crc, buf, len);
}

#ifdef HAVE_ISAL
/* ISA-L takes an int length; larger buffers go through in pieces. */
#define ISAL_PIECE ((size_t)1 << 30)

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	unsigned char *p = (unsigned char *)buf;	/* ISA-L only reads it */
	uint32_t c = ~crc;

	while (len > 0) {
		size_t n = len < ISAL_PIECE ? len : ISAL_PIECE;
		c = crc32_iscsi(p, (int)n, c);
		p += n;
		len -= n;
	}
	return ~c;
}
#else
uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	return crc32c_portable(crc, buf, len);
}
#endif

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
