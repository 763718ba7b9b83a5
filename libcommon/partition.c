#include <xxhash.h>

#include "partition.h"

/* Jump consistent hash: the last bucket a pseudo-random walk seeded by
 * key lands in before passing n.  The constants are the paper's (a 64-bit
 * linear congruential generator), and so part of the contract. */
uint32_t partition_jump(uint64_t key, uint32_t n)
{
	int64_t b = -1, j = 0;

	while (j < (int64_t)n) {
		b = j;
		key = key * 2862933555777941757ULL + 1;
		j = (int64_t)((double)(b + 1) *
			      ((double)(1LL << 31) / (double)((key >> 33) + 1)));
	}
	return (uint32_t)b;
}

uint64_t partition_hash(const void *key, size_t len)
{
	return XXH3_64bits(key, len);
}

uint32_t partition_of(const void *key, size_t len, uint32_t n)
{
	return partition_jump(partition_hash(key, len), n);
}
