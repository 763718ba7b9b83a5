/*
 * mem: allocation for the launcher, which has no use for going on
 * without memory: these die (exit 1) instead of returning NULL.
 */
#ifndef SPSC_MEM_H
#define SPSC_MEM_H

#include <stddef.h>

void *xpush(void *array, size_t *n, size_t *cap, size_t elem);
char *xstrdup(const char *s);
void *xcalloc(size_t n, size_t elem);

#endif
