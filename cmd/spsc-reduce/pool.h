/*
 * pool: small objects (keys' groups, windows) carved from 1 MiB slabs,
 * with a free list per size (in steps of 8 bytes, up to POOL_MAX).  A
 * million keys then cost a million objects of exactly their size, without
 * a malloc call or a malloc header each; freed objects are reused by the
 * next of their size.  Larger objects go to malloc.
 */
#ifndef SPSC_REDUCE_POOL_H
#define SPSC_REDUCE_POOL_H

#include <stddef.h>

#define POOL_STEP 8
#define POOL_MAX 512
#define POOL_SLAB ((size_t)1 << 20)

struct pool {
	void *free[POOL_MAX / POOL_STEP + 1];
	char *next;		/* unused part of the newest slab */
	size_t left;
	void *slabs;		/* every slab, chained through its first word */
	size_t in_use;		/* bytes handed out and not freed */
	size_t slab_bytes;	/* bytes of slabs held */
};

void pool_init(struct pool *p);
void pool_destroy(struct pool *p);
void *pool_alloc(struct pool *p, size_t size);
void pool_free(struct pool *p, void *obj, size_t size);

#endif
