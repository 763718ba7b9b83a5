/* lock: one process at a time owns a state directory's log (a serving
 * coordinator, or fsck). */
#ifndef SPSC_LOCK_H
#define SPSC_LOCK_H

int coord_lock(const char *home);

#endif
