/*
 * runstate: the launcher's view of its stages, written to
 * $SPSC_HOME/dags/NAME/state.json at every change, for spsc status
 * (spsc(1), STATUS JSON).
 */
#ifndef SPSC_RUNSTATE_H
#define SPSC_RUNSTATE_H

#include <stddef.h>

struct dag;
struct proc;

int runstate_write(const char *path, const struct dag *d,
		   const struct proc *procs, size_t n, int once,
		   const char *coord_url, int stopping);

#endif
