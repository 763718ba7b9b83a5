/*
 * mem: allocations that succeed or end the program.
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "log.h"
#include "mem.h"
#include "opt.h"

/* A new zeroed element at the end of *array (of *n, room for *cap). */
void *xpush(void *array, size_t *n, size_t *cap, size_t elem)
{
	char *p;

	if (*n == *cap && grow(array, cap, *n + 1, elem) < 0)
		die(EXIT_FAIL, "out of memory");
	p = *(char **)array + *n * elem;
	memset(p, 0, elem);
	(*n)++;
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		die(EXIT_FAIL, "out of memory");
	return d;
}

void *xcalloc(size_t n, size_t elem)
{
	void *p = calloc(n ? n : 1, elem);

	if (p == NULL)
		die(EXIT_FAIL, "out of memory");
	return p;
}
