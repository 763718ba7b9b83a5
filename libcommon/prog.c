#include <malloc.h>

#include "fdio.h"
#include "log.h"
#include "prog.h"

/*
 * Atoms come and go in blocks of 100 KB and more: a message's parts are
 * allocated when it is read and freed once it is handled.  glibc, left
 * alone, gives the top of its heap back to the kernel whenever 128 KiB
 * of it is free, and serves every block over 128 KiB with a fresh mmap,
 * so each such message faults its pages in again and zeroes them.  With
 * 1000-event atoms that was two thirds of a queue client's CPU
 * (bench/queue, raw 1000-event atoms: 1.2 s against 0.37 s).  So the
 * heap keeps up to HEAP_KEEP free bytes, and serves blocks up to
 * MMAP_ABOVE itself; bigger atoms are rare enough to map.
 */
#define HEAP_KEEP (64 << 20)
#define MMAP_ABOVE (16 << 20)

void prog_keep_heap(void)
{
	if (mallopt(M_TRIM_THRESHOLD, HEAP_KEEP) != 1 ||
	    mallopt(M_MMAP_THRESHOLD, MMAP_ABOVE) != 1)
		log_debug("mallopt refused: the heap is tuned as glibc likes");
}

/* The log's name, SIGPIPE ignored (a closed pipe is EPIPE, handled where
 * it happens), and the heap above. */
void prog_init(const char *argv0)
{
	log_init(argv0);
	fd_ignore_sigpipe();
	prog_keep_heap();
}
