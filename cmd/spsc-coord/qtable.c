/*
 * qtable: names to pointers, open addressing (see qtable.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "qtable.h"

#define QTABLE_MIN 16

void qtable_init(struct qtable *t, uint64_t seed)
{
	memset(t, 0, sizeof *t);
	t->seed = seed;
}

void qtable_free(struct qtable *t)
{
	free(t->slots);
	t->slots = NULL;
	t->nslots = t->n = 0;
}

static uint64_t name_hash(const struct qtable *t, const char *key)
{
	return hash64(key, strlen(key), t->seed);
}

/* The slot holding key, or the empty slot that ends its probe run. */
static size_t probe(const struct qtable *t, const char *key, uint64_t h)
{
	size_t mask = t->nslots - 1, i = (size_t)h & mask;

	while (t->slots[i].key &&
	       (t->slots[i].hash != h || strcmp(t->slots[i].key, key) != 0))
		i = (i + 1) & mask;
	return i;
}

void *qtable_get(const struct qtable *t, const char *key)
{
	if (t->n == 0)
		return NULL;
	return t->slots[probe(t, key, name_hash(t, key))].val;
}

static int resize(struct qtable *t, size_t nslots)
{
	struct qtable_slot *old = t->slots;
	size_t oldn = t->nslots;

	t->slots = calloc(nslots, sizeof *t->slots);
	if (t->slots == NULL) {
		t->slots = old;
		errno = ENOMEM;
		return -1;
	}
	t->nslots = nslots;
	for (size_t i = 0; i < oldn; i++)
		if (old[i].key)
			t->slots[probe(t, old[i].key, old[i].hash)] = old[i];
	free(old);
	return 0;
}

/* Adds key, or points it at val if it is there already. */
int qtable_put(struct qtable *t, const char *key, void *val)
{
	uint64_t h = name_hash(t, key);
	size_t i;

	if (4 * (t->n + 1) > 3 * t->nslots &&
	    resize(t, t->nslots ? 2 * t->nslots : QTABLE_MIN) < 0)
		return -1;
	i = probe(t, key, h);
	if (t->slots[i].key == NULL)
		t->n++;
	t->slots[i] = (struct qtable_slot){ .key = key, .hash = h, .val = val };
	return 0;
}

/* Removes key; returns what it pointed at, or NULL if it was not there.
 * Later members of the probe run shift back into the hole, so lookups
 * never meet a tombstone. */
void *qtable_del(struct qtable *t, const char *key)
{
	size_t mask, i, j;
	void *val;

	if (t->n == 0)
		return NULL;
	mask = t->nslots - 1;
	i = probe(t, key, name_hash(t, key));
	if (t->slots[i].key == NULL)
		return NULL;
	val = t->slots[i].val;
	for (j = (i + 1) & mask; t->slots[j].key; j = (j + 1) & mask) {
		size_t home = (size_t)t->slots[j].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i] = (struct qtable_slot){ 0 };
	t->n--;
	return val;
}
