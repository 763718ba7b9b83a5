#include <string.h>

#include "event.h"

size_t event_count(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t n = 0;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p = nl + 1;
	}
	return n;
}

/* Length of the prefix that holds only whole events: where to cut a buffer
 * so that no event is split between two atoms. */
size_t event_last_end(const char *buf, size_t len)
{
	const char *nl = memrchr(buf, '\n', len);

	return nl ? (size_t)(nl - buf) + 1 : 0;
}
