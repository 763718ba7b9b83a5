#include <stdlib.h>
#include <sys/mman.h>

#include "segview.h"

/* Maps len bytes of the file, which may reach past its end: a segment
 * being written grows into its mapping, and only bytes already written
 * are ever read.  NULL if it cannot be mapped (the caller reads instead). */
struct segview *segview_map(int fd, size_t len)
{
	struct segview *v = malloc(sizeof *v);
	void *p;

	if (v == NULL || len == 0)
		goto fail;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	atomic_init(&v->refs, 1);
	v->base = p;
	v->len = len;
	return v;
fail:
	free(v);
	return NULL;
}

void segview_hold(struct segview *v)
{
	atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
}

void segview_drop(struct segview *v)
{
	if (v == NULL ||
	    atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) != 1)
		return;
	(void)munmap((void *)v->base, v->len);
	free(v);
}

/* ZeroMQ's free function for a payload sent from a view (hint: the view). */
void segview_release(void *data, void *hint)
{
	(void)data;
	segview_drop(hint);
}
