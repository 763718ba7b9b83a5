#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "atom.h"
#include "grow.h"
#include "state.h"

#define TABLE_MIN 1024

int state_init(struct state *s, const struct agg_set *aggs)
{
	struct heap h = HEAP_INIT(struct win, end, place);

	memset(s, 0, sizeof *s);
	s->aggs = aggs;
	s->heap = h;
	s->win_size = sizeof(struct win) + aggs->slots;
	pool_init(&s->pool);
	s->table = calloc(TABLE_MIN, sizeof *s->table);
	if (s->table == NULL)
		return -1;
	s->cap = TABLE_MIN;
	return 0;
}

static size_t group_size(size_t keylen)
{
	return sizeof(struct group) + keylen;
}

void state_free(struct state *s)
{
	for (size_t i = 0; i < s->cap; i++) {
		struct group *g = s->table[i];
		if (g == NULL)
			continue;
		for (struct win *w = g->wins; w; w = w->next)
			agg_release(s->aggs, win_slots(w));
	}
	free(s->table);
	heap_free(&s->heap);
	pool_destroy(&s->pool);
	s->table = NULL;
	s->cap = s->ngroups = s->nwins = 0;
}

uint64_t state_hash(const char *key, size_t len)
{
	return XXH3_64bits(key, len);
}

/* The key's group, or NULL.  hash is state_hash(key). */
struct group *state_find(struct state *s, const char *key, size_t len,
			 uint64_t hash)
{
	size_t mask = s->cap - 1, i = (size_t)hash & mask;
	uint32_t h = (uint32_t)hash;
	struct group *g;

	while ((g = s->table[i]) != NULL) {
		if (g->hash == h && g->keylen == len && memcmp(g->key, key, len) == 0)
			return g;
		i = (i + 1) & mask;
	}
	return NULL;
}

static void place_group(struct group **table, size_t cap, struct group *g)
{
	size_t mask = cap - 1, i = g->hash & mask;

	while (table[i] != NULL)
		i = (i + 1) & mask;
	table[i] = g;
}

static int grow_table(struct state *s)
{
	size_t cap = s->cap * 2;
	struct group **t = calloc(cap, sizeof *t);

	if (t == NULL)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->table[i])
			place_group(t, cap, s->table[i]);
	free(s->table);
	s->table = t;
	s->cap = cap;
	return 0;
}

/* A new group for a key not in the table; NULL when out of memory. */
struct group *state_add(struct state *s, const char *key, size_t len,
			uint64_t hash)
{
	struct group *g;

	if ((s->ngroups + 1) * 10 > s->cap * 7 && grow_table(s) < 0)
		return NULL;
	g = pool_alloc(&s->pool, group_size(len));
	if (g == NULL)
		return NULL;
	g->wins = NULL;
	g->hash = (uint32_t)hash;
	g->keylen = (uint32_t)len;
	memcpy(g->key, key, len);
	place_group(s->table, s->cap, g);
	s->ngroups++;
	return g;
}

/* Takes a group out of the table, shifting back the groups after it in
 * its probe run so that no lookup ever stops short (no tombstones). */
static void remove_group(struct state *s, struct group *g)
{
	size_t mask = s->cap - 1, i = g->hash & mask, j, home;

	while (s->table[i] != g)
		i = (i + 1) & mask;
	for (j = (i + 1) & mask; s->table[j] != NULL; j = (j + 1) & mask) {
		home = s->table[j]->hash & mask;
		/* Stays if its home is cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		s->table[i] = s->table[j];
		i = j;
	}
	s->table[i] = NULL;
	s->ngroups--;
	pool_free(&s->pool, g, group_size(g->keylen));
}

/* A new, empty window of g; NULL when out of memory. */
struct win *state_win_new(struct state *s, struct group *g, int64_t start,
			  int64_t end)
{
	struct win *w = pool_alloc(&s->pool, s->win_size);

	if (w == NULL)
		return NULL;
	w->start = start;
	w->end = end;
	w->place = NOT_IN_HEAP;
	w->g = g;
	agg_init(s->aggs, &w->st, win_slots(w));
	if (end != ATOM_TIME_END && heap_push(&s->heap, w) < 0) {
		pool_free(&s->pool, w, s->win_size);
		return NULL;
	}
	w->next = g->wins;
	g->wins = w;
	s->nwins++;
	return w;
}

/* Forgets a window, and its key once it has no window left. */
void state_win_free(struct state *s, struct win *w)
{
	struct group *g = w->g;
	struct win **pp = &g->wins;

	while (*pp != w)
		pp = &(*pp)->next;
	*pp = w->next;
	if (w->place != NOT_IN_HEAP)
		heap_remove(&s->heap, w);
	agg_release(s->aggs, win_slots(w));
	pool_free(&s->pool, w, s->win_size);
	s->nwins--;
	if (g->wins == NULL)
		remove_group(s, g);
}

/* The window's end changed (a session grew). */
void state_win_moved(struct state *s, struct win *w)
{
	if (w->place != NOT_IN_HEAP)
		heap_update(&s->heap, w);
}

static int collect(struct win ***out, size_t *cap, size_t *n, struct win *w)
{
	if (grow(out, cap, *n + 1, sizeof **out) < 0)
		return -1;
	(*out)[(*n)++] = w;
	return 0;
}

/*
 * Collects in *out (*n of them, the array grown as needed) every window
 * that the watermark wm closes: END <= wm.  They leave the heap but stay
 * in their chains, to be freed once their results are made.  -1: out of
 * memory.
 */
int state_closing(struct state *s, int64_t wm, struct win ***out,
		  size_t *cap, size_t *n)
{
	struct win *w;

	*n = 0;
	if (wm == ATOM_TIME_END) {
		/* Everything: by the table, which also has the windows that
		 * never were in the heap. */
		for (size_t i = 0; i < s->cap; i++) {
			if (s->table[i] == NULL)
				continue;
			for (w = s->table[i]->wins; w; w = w->next) {
				if (collect(out, cap, n, w) < 0)
					return -1;
				w->place = NOT_IN_HEAP;
			}
		}
		s->heap.n = 0;
		return 0;
	}
	while ((w = heap_top(&s->heap)) != NULL && w->end <= wm) {
		if (collect(out, cap, n, w) < 0)
			return -1;
		heap_remove(&s->heap, w);
		w->place = NOT_IN_HEAP;
	}
	return 0;
}

/* Bytes held for keys and windows: slabs, the table and the heap (texts
 * of first/last and distinct sets not included). */
size_t state_memory(const struct state *s)
{
	return s->pool.slab_bytes + s->cap * sizeof *s->table +
	       s->heap.cap * sizeof *s->heap.items;
}
