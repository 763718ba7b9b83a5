/*
 * qtable: a map from names to pointers, for the coordinator's queue table
 * and its table of waiting GETs.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), kept at most 3/4 full, so a lookup costs one hash of the
 * name and, on average, one or two slots, whatever the number of names.
 * The names are hashed with a seed chosen at start, so that a client
 * cannot pick names that all land in one run of slots.
 *
 * The table does not copy names: each key points into the object it
 * names, which must outlive its entry.
 */
#ifndef SPSC_QTABLE_H
#define SPSC_QTABLE_H

#include <stddef.h>
#include <stdint.h>

struct qtable_slot {
	const char *key;	/* NULL: empty */
	uint64_t hash;
	void *val;
};

struct qtable {
	struct qtable_slot *slots;
	size_t nslots, n;	/* nslots: 0 or a power of two */
	uint64_t seed;
};

void qtable_init(struct qtable *t, uint64_t seed);
void qtable_free(struct qtable *t);
void *qtable_get(const struct qtable *t, const char *key);
int qtable_put(struct qtable *t, const char *key, void *val);
void *qtable_del(struct qtable *t, const char *key);

#endif
