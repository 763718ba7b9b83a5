/*
 * hash: a fast, well-mixed 64-bit hash for ids, salts and (later) key
 * partitioning.  Not cryptographic.  The value is part of the on-disk
 * contract (atom ids derive from it), so it must never change.
 */
#ifndef SPSC_HASH_H
#define SPSC_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash64(const void *buf, size_t len, uint64_t seed);
uint64_t hash_mix64(uint64_t x);

#endif
