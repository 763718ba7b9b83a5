#include <stdlib.h>

#include "grow.h"
#include "heap.h"

static int64_t key(const struct heap *h, const void *item)
{
	return *(const int64_t *)((const char *)item + h->key_off);
}

static size_t *place(const struct heap *h, void *item)
{
	return (size_t *)((char *)item + h->index_off);
}

static void set(struct heap *h, size_t i, void *item)
{
	h->items[i] = item;
	*place(h, item) = i;
}

static void sift_up(struct heap *h, size_t i)
{
	void *item = h->items[i];

	while (i > 0 && key(h, h->items[(i - 1) / 2]) > key(h, item)) {
		set(h, i, h->items[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	set(h, i, item);
}

static void sift_down(struct heap *h, size_t i)
{
	void *item = h->items[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && key(h, h->items[c + 1]) < key(h, h->items[c]))
			c++;
		if (key(h, h->items[c]) >= key(h, item))
			break;
		set(h, i, h->items[c]);
		i = c;
	}
	set(h, i, item);
}

/* Makes room for n items, so that pushing up to n cannot fail. */
int heap_reserve(struct heap *h, size_t n)
{
	return grow(&h->items, &h->cap, n, sizeof *h->items);
}

/* -1 (errno ENOMEM) if the heap cannot grow; the item is then not in it. */
int heap_push(struct heap *h, void *item)
{
	if (grow(&h->items, &h->cap, h->n + 1, sizeof *h->items) < 0)
		return -1;
	h->items[h->n] = item;
	sift_up(h, h->n++);
	return 0;
}

/* The item must be in the heap. */
void heap_remove(struct heap *h, void *item)
{
	size_t i = *place(h, item);
	void *last = h->items[--h->n];

	if (i == h->n)
		return;
	set(h, i, last);
	heap_update(h, last);
}

/* Restores the order after the item's key changed. */
void heap_update(struct heap *h, void *item)
{
	size_t i = *place(h, item);

	sift_up(h, i);
	sift_down(h, *place(h, item));
}

void heap_free(struct heap *h)
{
	free(h->items);
	h->items = NULL;
	h->n = h->cap = 0;
}
