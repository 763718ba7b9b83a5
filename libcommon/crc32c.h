/*
 * crc32c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum
 * of every atom frame.  Chosen over zlib's CRC-32 because x86 computes it in
 * hardware.  With ISA-L (libisal) it runs at tens of bytes per cycle;
 * without, a portable table method does a few bytes per cycle.
 *
 * crc32c(0, buf, len) gives the standard value: crc32c(0, "123456789", 9)
 * is 0xE3069283.  Pass a previous result as crc to continue a running sum.
 */
#ifndef SPSC_CRC32C_H
#define SPSC_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The same sum by table lookups alone: what crc32c() is without ISA-L,
 * and what a test holds the fast path to. */
uint32_t crc32c_portable(uint32_t crc, const void *buf, size_t len);

/* The CRC of A followed by B, from crc32c(0, A) and crc32c(0, B) and B's
 * length alone, in time logarithmic in the length: so a CRC over bytes
 * whose own CRC is already known (a checked payload) need not read them. */
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

#endif
