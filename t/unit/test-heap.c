/* heap: checked against a sorted copy through a long run of random
 * pushes, removals, re-keyings and pops, with every item's place kept
 * true, since the coordinator removes items by their place. */
#include <stdint.h>
#include <stdlib.h>

#include "heap.h"
#include "tap.h"

#define ITEMS 3000

struct item {
	int64_t due;
	size_t heap;
	int in;
};

static struct item items[ITEMS];

static int places_true(const struct heap *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (((struct item *)h->items[i])->heap != i)
			return 0;
	return 1;
}

static int64_t smallest_in(void)
{
	int64_t min = INT64_MAX;

	for (int i = 0; i < ITEMS; i++)
		if (items[i].in && items[i].due < min)
			min = items[i].due;
	return min;
}

static void test_basics(void)
{
	struct heap h = HEAP_INIT(struct item, due, heap);
	struct item a = { .due = 5 }, b = { .due = 3 }, c = { .due = 9 };

	ok(heap_top(&h) == NULL, "an empty heap has no top");
	ok(heap_push(&h, &a) == 0 && heap_push(&h, &b) == 0 && heap_push(&h, &c) == 0,
	   "three items go in");
	ok(heap_top(&h) == &b, "the smallest key is on top");
	b.due = 10;
	heap_update(&h, &b);
	ok(heap_top(&h) == &a, "a raised key sinks");
	heap_remove(&h, &a);
	ok(heap_top(&h) == &c && h.n == 2, "removal by place leaves the next smallest on top");
	heap_free(&h);
	ok(h.n == 0 && h.items == NULL, "freed");
}

static void test_random(void)
{
	struct heap h = HEAP_INIT(struct item, due, heap);
	int agree = 1, places = 1;

	srand(7);
	for (int step = 0; step < 200000; step++) {
		struct item *it = &items[rand() % ITEMS];
		int op = rand() % 4;
		if (!it->in && op < 3) {
			it->due = rand() % 1000;
			it->in = heap_push(&h, it) == 0;
		} else if (it->in && op == 0) {
			heap_remove(&h, it);
			it->in = 0;
		} else if (it->in && op == 1) {
			it->due = rand() % 1000;
			heap_update(&h, it);
		} else if (h.n && op == 3) {
			struct item *top = heap_top(&h);
			heap_remove(&h, top);
			top->in = 0;
		}
		if (h.n && ((struct item *)heap_top(&h))->due != smallest_in())
			agree = 0;
		if (step % 1000 == 0 && !places_true(&h))
			places = 0;
	}
	ok(agree, "the top always has the smallest key of the items in");
	ok(places, "every item's place is its index in the heap");
	heap_free(&h);
}

int main(void)
{
	test_basics();
	test_random();
	return tap_done();
}
