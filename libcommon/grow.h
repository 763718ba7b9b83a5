/*
 * grow: the one way arrays and buffers get bigger.  Capacity doubles (from
 * at least 16 elements), so appending n elements costs O(n) in all.
 *
 *	if (grow(&q->timers, &q->timers_cap, q->ntimers + 1, sizeof *q->timers) < 0)
 *		return -1;
 *
 * On failure (-1, errno ENOMEM) the array and its capacity are untouched.
 */
#ifndef SPSC_GROW_H
#define SPSC_GROW_H

#include <stddef.h>

int grow(void *array, size_t *cap, size_t need, size_t elem);

#endif
