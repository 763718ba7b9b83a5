#include <string.h>

#include "hash.h"
#include "le.h"

#define K1 UINT64_C(0x9E3779B97F4A7C15)
#define K2 UINT64_C(0xC2B2AE3D27D4EB4F)

/* The splitmix64 finaliser: every input bit affects every output bit. */
uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xBF58476D1CE4E5B9);
	x ^= x >> 27;
	x *= UINT64_C(0x94D049BB133111EB);
	x ^= x >> 31;
	return x;
}

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/*
 * Eight bytes at a time (little-endian on every host: ids derive from this
 * hash and must be the same everywhere) into a multiply-rotate state, then the tail bytes
 * and the length, then a final mix.  The length goes in so that inputs that
 * differ only by trailing zero bytes still hash differently.
 */
uint64_t hash64(const void *buf, size_t len, uint64_t seed)
{
	const unsigned char *p = buf;
	uint64_t h = seed ^ (len * K1);
	uint64_t w;

	while (len >= 8) {
		w = le_get64(p);
		h = rotl(h ^ (w * K2), 31) * K1;
		p += 8;
		len -= 8;
	}
	w = le_getn(p, len);
	h = rotl(h ^ (w * K2), 27) * K1;
	return hash_mix64(h);
}
