/* fsck: `spsc-coord fsck [--repair]`, the offline check of the log. */
#ifndef SPSC_FSCK_H
#define SPSC_FSCK_H

/* Exit status: 0 clean (or repaired), 3 damage found and left as it is,
 * 1 failure. */
int fsck_main(const char *home, int repair);

#endif
