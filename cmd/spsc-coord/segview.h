/*
 * segview: a read-only mapping of one segment file, shared by the store
 * and by the reply frames sent from it.
 *
 * Deliveries send large atom payloads straight from the mapping, with no
 * read(2) and no copy: ZeroMQ holds a reference until its I/O thread has
 * written the payload to the socket.  So a segment deleted meanwhile
 * (every atom in it acknowledged, or compacted away) stays mapped until
 * the last payload sent from it is gone; its file is unlinked at once.
 * The count is atomic because ZeroMQ drops its references from its own
 * thread.
 */
#ifndef SPSC_SEGVIEW_H
#define SPSC_SEGVIEW_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct segview {
	atomic_uint refs;
	const uint8_t *base;
	size_t len;
};

struct segview *segview_map(int fd, size_t len);
void segview_hold(struct segview *v);
void segview_drop(struct segview *v);
void segview_release(void *data, void *hint);

#endif
