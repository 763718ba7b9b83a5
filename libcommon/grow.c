#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* array is the address of the caller's pointer (any object type); it is
 * read and written with memcpy so no pointer type is punned. */
int grow(void *array, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap > 16 ? *cap : 16;
	void *old, *p;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 4 / elem) {
			errno = ENOMEM;
			return -1;
		}
		n *= 2;
	}
	memcpy(&old, array, sizeof old);
	if ((p = realloc(old, n * elem)) == NULL)
		return -1;
	memcpy(array, &p, sizeof p);
	*cap = n;
	return 0;
}
