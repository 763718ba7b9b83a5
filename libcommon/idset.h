/*
 * idset: a set of atom ids: those a sink has written, those a keyed stage
 * has applied.
 *
 * Open addressing with linear probing over the 16-byte ids themselves: one
 * probe is one cache line in the common case, and there is no allocation per
 * id.  Ids only ever go in (a sink never forgets what it wrote), so there
 * are no tombstones.  The table doubles at 50% load; memory is about 32 to
 * 64 bytes per id written.
 */
#ifndef SPSC_IDSET_H
#define SPSC_IDSET_H

#include <stddef.h>
#include <stdint.h>

#include "atomid.h"

struct idset {
	struct atom_id *slot;	/* cap entries; the all-zero id marks a free one */
	size_t cap;		/* a power of two, or 0 before the first add */
	size_t len;		/* ids held, the all-zero id included */
	int has_zero;		/* the all-zero id is valid too: kept aside */
};

void idset_init(struct idset *s);
void idset_free(struct idset *s);
int idset_contains(const struct idset *s, const struct atom_id *id);
int idset_add(struct idset *s, const struct atom_id *id);
int idset_each(const struct idset *s,
	       int (*fn)(const struct atom_id *id, void *arg), void *arg);

#endif
