/*
 * heap: a binary min-heap of pointers to items that carry their own key
 * and their own place in the heap, so that an item can be removed or
 * re-keyed in O(log n) without a search.  The coordinator keeps three:
 * leases and delays by due time in each queue, queues by their next due
 * time, and waiting GETs by deadline.
 *
 *	struct waiter { int64_t deadline; size_t heap; ... };
 *	struct heap h = HEAP_INIT(struct waiter, deadline, heap);
 *	heap_push(&h, w);  ...  w = heap_top(&h);  heap_remove(&h, w);
 *
 * The key is an int64_t field, the place a size_t field, both named at
 * HEAP_INIT; an item is in at most one heap through a given place field.
 */
#ifndef SPSC_HEAP_H
#define SPSC_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct heap {
	void **items;
	size_t n, cap;
	size_t key_off;		/* offsetof the int64_t key in an item */
	size_t index_off;	/* offsetof the size_t place in an item */
};

#define HEAP_INIT(type, key, index) \
	{ .key_off = offsetof(type, key), .index_off = offsetof(type, index) }

int heap_reserve(struct heap *h, size_t n);
int heap_push(struct heap *h, void *item);
void heap_remove(struct heap *h, void *item);
void heap_update(struct heap *h, void *item);
void heap_free(struct heap *h);

static inline void *heap_top(const struct heap *h)
{
	return h->n ? h->items[0] : NULL;
}

#endif
