/*
 * le: little-endian integers in byte buffers.  Every on-disk and on-wire
 * format of spsc (atom frames, the coordinator's log, the sink's journal,
 * receipts, ids) is little-endian whatever the host, so these are the only
 * way such fields are read or written.
 */
#ifndef SPSC_LE_H
#define SPSC_LE_H

#include <stddef.h>
#include <stdint.h>

static inline void le_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void le_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void le_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t le_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The first n (at most 8) bytes, as hash64 reads a short tail. */
static inline uint64_t le_getn(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline uint64_t le_get64(const uint8_t *p)
{
	return le_getn(p, 8);
}

#endif
