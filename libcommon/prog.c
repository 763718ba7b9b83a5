#include <malloc.h>

#include "fdio.h"
#include "log.h"
#include "prog.h"

/*
 * Atoms come and go in blocks of 100 KB and more: a message's parts are
 * allocated when it is read and freed once it is handled.  glibc, left
 * alone, gives the top of its heap back to the kernel whenever more than
 * 128 KiB of it is free, so each message of such atoms faults its pages
 * in again and zeroes them.  (glibc raises that bound itself only after
 * freeing a block it had mapped, and blocks under 128 KiB never are.)
 * With 1000-event atoms that was two thirds of a queue client's CPU
 * (bench/queue, raw 1000-event atoms: 1.2 s against 0.37 s).  So the heap
 * keeps up to HEAP_KEEP free bytes.  Setting that stops glibc's own
 * adjustment of the mmap bound too, which would leave every block over
 * 128 KiB mapped afresh each time: blocks up to MMAP_ABOVE come from the
 * heap; bigger atoms are rare enough to map.
 */
#define HEAP_KEEP (64 << 20)
#define MMAP_ABOVE (16 << 20)

/* A refusal leaves glibc's defaults: slower, never wrong. */
void prog_keep_heap(void)
{
	(void)mallopt(M_TRIM_THRESHOLD, HEAP_KEEP);
	(void)mallopt(M_MMAP_THRESHOLD, MMAP_ABOVE);
}

/* The log's name, SIGPIPE ignored (a closed pipe is EPIPE, handled where
 * it happens), and the heap above. */
void prog_init(const char *argv0)
{
	log_init(argv0);
	fd_ignore_sigpipe();
	prog_keep_heap();
}
