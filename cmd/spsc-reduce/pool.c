#include <stdlib.h>
#include <string.h>

#include "pool.h"

/* Slabs start with the pointer that chains them, padded to the step. */
#define SLAB_HEAD 16

void pool_init(struct pool *p)
{
	memset(p, 0, sizeof *p);
}

void pool_destroy(struct pool *p)
{
	void *s = p->slabs, *next;

	while (s) {
		memcpy(&next, s, sizeof next);
		free(s);
		s = next;
	}
	pool_init(p);
}

static size_t rounded(size_t size)
{
	return (size + POOL_STEP - 1) / POOL_STEP * POOL_STEP;
}

/* NULL when out of memory. */
void *pool_alloc(struct pool *p, size_t size)
{
	size_t n = rounded(size ? size : 1);
	void **head, *obj;
	char *slab;

	if (n > POOL_MAX)
		return malloc(n);
	head = &p->free[n / POOL_STEP];
	if (*head) {
		obj = *head;
		memcpy(head, obj, sizeof *head);
		p->in_use += n;
		return obj;
	}
	if (p->left < n) {
		/* The tail of the old slab (under POOL_MAX bytes) is given up:
		 * keeping it would need a free list per leftover size. */
		if ((slab = malloc(POOL_SLAB)) == NULL)
			return NULL;
		memcpy(slab, &p->slabs, sizeof p->slabs);
		p->slabs = slab;
		p->next = slab + SLAB_HEAD;
		p->left = POOL_SLAB - SLAB_HEAD;
		p->slab_bytes += POOL_SLAB;
	}
	obj = p->next;
	p->next += n;
	p->left -= n;
	p->in_use += n;
	return obj;
}

void pool_free(struct pool *p, void *obj, size_t size)
{
	size_t n = rounded(size ? size : 1);
	void **head;

	if (obj == NULL)
		return;
	if (n > POOL_MAX) {
		free(obj);
		return;
	}
	head = &p->free[n / POOL_STEP];
	memcpy(obj, head, sizeof *head);
	*head = obj;
	p->in_use -= n;
}
