/*
 * orphans: processes a dead stage left behind.  spsc is a subreaper, so
 * they become its children; none of them is a stage, and none may outlive
 * the stage that started it.
 */
#ifndef SPSC_ORPHANS_H
#define SPSC_ORPHANS_H

#include <stddef.h>

struct proc;

int orphans_kill(const struct proc *procs, size_t n);

#endif
