#include <string.h>

#include "qname.h"

int queue_name_valid(const char *name, size_t len)
{
	/* The dead-letter queue of a name of the full length is NAME.dlq. */
	if (len > QUEUE_NAME_MAX && len <= QUEUE_NAME_MAX + 4 &&
	    memcmp(name + len - 4, ".dlq", 4) == 0)
		len -= 4;
	if (len == 0 || len > QUEUE_NAME_MAX)
		return 0;
	/* "." and ".." pass the character rule but name directories. */
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}
