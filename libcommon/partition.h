/*
 * partition: which of N outputs an event's key goes to.
 *
 *   partition = jump(XXH3_64bits(key bytes, seed 0), N)
 *
 * XXH3 (64-bit, seed 0) is xxHash's, as libxxhash and the xxhash modules
 * of other languages compute it; jump is the jump consistent hash of
 * Lamping and Veach ("A Fast, Minimal Memory, Consistent Hash
 * Algorithm", 2014), which moves only 1/N of the keys when N grows by one.
 * Both are fixed for good: a producer in any language can place a key
 * exactly where spsc-shuffle would, on any host and any version.
 * spsc-shuffle(1) gives the function in full with test vectors.
 */
#ifndef SPSC_PARTITION_H
#define SPSC_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#define PARTITION_MAX 4096

uint32_t partition_jump(uint64_t key, uint32_t n);
uint64_t partition_hash(const void *key, size_t len);
uint32_t partition_of(const void *key, size_t len, uint32_t n);

#endif
