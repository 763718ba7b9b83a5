/* qtable: the coordinator's name table.  Checked against a plain array
 * through a long run of random inserts and deletes, so that backward-shift
 * deletion never loses a name further down a probe run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qtable.h"
#include "tap.h"

#define NAMES 5000

static char names[NAMES][16];
static int present[NAMES];

static int agrees(const struct qtable *t)
{
	size_t n = 0;

	for (int i = 0; i < NAMES; i++) {
		void *v = qtable_get(t, names[i]);
		if (v != (present[i] ? names[i] : NULL))
			return 0;
		n += present[i];
	}
	return n == t->n;
}

static void test_basics(void)
{
	struct qtable t;
	char a[] = "raw", b[] = "raw.dlq";

	qtable_init(&t, 1);
	ok(qtable_get(&t, "raw") == NULL, "an empty table finds nothing");
	ok(qtable_del(&t, "raw") == NULL, "and deletes nothing");
	ok(qtable_put(&t, a, a) == 0 && qtable_put(&t, b, b) == 0, "two names go in");
	ok(qtable_get(&t, "raw") == a && qtable_get(&t, "raw.dlq") == b,
	   "each is found by an equal string, not only by its own pointer");
	ok(qtable_put(&t, a, b) == 0 && t.n == 2 && qtable_get(&t, "raw") == b,
	   "putting a name again replaces its value");
	ok(qtable_del(&t, "raw") == b && qtable_get(&t, "raw") == NULL && t.n == 1,
	   "a deleted name is gone");
	ok(qtable_get(&t, "raw.dlq") == b, "and the other stays");
	qtable_free(&t);
}

static void test_random(void)
{
	struct qtable t;
	int good = 1;

	srand(7);
	for (int i = 0; i < NAMES; i++)
		snprintf(names[i], sizeof names[i], "q%d", i);
	qtable_init(&t, 0x5eed);
	for (int step = 0; step < 200000 && good; step++) {
		int i = rand() % NAMES;
		if (present[i])
			good = qtable_del(&t, names[i]) == names[i];
		else
			good = qtable_put(&t, names[i], names[i]) == 0;
		present[i] = !present[i];
		if (step % 20000 == 0)
			good = good && agrees(&t);
	}
	ok(good && agrees(&t), "200000 random inserts and deletes agree with an array");
	ok(4 * t.n <= 3 * t.nslots, "the table is at most 3/4 full (%zu of %zu)",
	   t.n, t.nslots);
	for (int i = 0; i < NAMES; i++)
		if (present[i])
			qtable_del(&t, names[i]);
	ok(t.n == 0 && qtable_get(&t, "q1") == NULL, "deleting every name empties it");
	qtable_free(&t);
}

int main(void)
{
	test_basics();
	test_random();
	return tap_done();
}
