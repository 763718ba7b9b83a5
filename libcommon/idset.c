#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "idset.h"

#define IDSET_MIN_CAP 1024

static const struct atom_id zero_id;

void idset_init(struct idset *s)
{
	memset(s, 0, sizeof *s);
}

void idset_free(struct idset *s)
{
	free(s->slot);
	idset_init(s);
}

static int is_zero(const struct atom_id *id)
{
	return memcmp(id->b, zero_id.b, sizeof id->b) == 0;
}

/*
 * Ids made by atomid.c are uniform already, but ids arrive from outside
 * (any program can write frames), and crafted ids that share their first
 * eight bytes must not all land in one probe chain: mix both halves.
 */
static size_t home(const struct idset *s, const struct atom_id *id)
{
	uint64_t hi;

	memcpy(&hi, id->b + 8, 8);
	return (size_t)hash_mix64(atomid_hash(id) ^ hi) & (s->cap - 1);
}

/* The slot holding id, or the free slot where it would go. */
static struct atom_id *probe(const struct idset *s, const struct atom_id *id)
{
	size_t i = home(s, id);

	for (;;) {
		struct atom_id *p = &s->slot[i];
		if (is_zero(p) || atomid_equal(p, id))
			return p;
		i = (i + 1) & (s->cap - 1);
	}
}

int idset_contains(const struct idset *s, const struct atom_id *id)
{
	if (is_zero(id))
		return s->has_zero;
	if (s->cap == 0)
		return 0;
	return !is_zero(probe(s, id));
}

static int grow(struct idset *s)
{
	struct idset bigger = *s;
	size_t cap = s->cap ? s->cap * 2 : IDSET_MIN_CAP;

	if (cap > SIZE_MAX / sizeof *s->slot)
		return -1;
	bigger.slot = calloc(cap, sizeof *bigger.slot);
	if (bigger.slot == NULL)
		return -1;
	bigger.cap = cap;
	for (size_t i = 0; i < s->cap; i++)
		if (!is_zero(&s->slot[i]))
			*probe(&bigger, &s->slot[i]) = s->slot[i];
	free(s->slot);
	*s = bigger;
	return 0;
}

/* 1: added; 0: it was there already; -1: out of memory. */
int idset_add(struct idset *s, const struct atom_id *id)
{
	struct atom_id *p;

	if (is_zero(id)) {
		if (s->has_zero)
			return 0;
		s->has_zero = 1;
		s->len++;
		return 1;
	}
	if ((s->len + 1) * 2 > s->cap && grow(s) < 0)
		return -1;
	p = probe(s, id);
	if (!is_zero(p))
		return 0;
	*p = *id;
	s->len++;
	return 1;
}

/* Calls fn for every id, in no particular order, until one call returns
 * non-zero; returns that value, or 0. */
int idset_each(const struct idset *s,
	       int (*fn)(const struct atom_id *id, void *arg), void *arg)
{
	int rc;

	if (s->has_zero && (rc = fn(&zero_id, arg)) != 0)
		return rc;
	for (size_t i = 0; i < s->cap; i++)
		if (!is_zero(&s->slot[i]) && (rc = fn(&s->slot[i], arg)) != 0)
			return rc;
	return 0;
}
