/*
 * rundir: where a DAG's run keeps its state, $SPSC_HOME/dags/NAME/:
 *
 *   lock        flock'd by the running `spsc run`, and holding its pid
 *   state.json  the stages as the launcher sees them, for spsc status
 *   coord/      the private coordinator's home (unless the DAG names one)
 *   notify      the socket the coordinator says READY=1 on
 */
#ifndef SPSC_RUNDIR_H
#define SPSC_RUNDIR_H

#include <stddef.h>
#include <sys/types.h>

struct dag;

struct rundir {
	char path[4096];
	char coord_home[4200];
	char coord_url[4300];	/* where stages find the coordinator */
	int private_coord;	/* spsc starts the coordinator */
	int lock_fd;
};

int rundir_open(struct rundir *rd, const struct dag *d, char *err,
		size_t errlen);
int rundir_lock(struct rundir *rd, char *err, size_t errlen);
pid_t rundir_owner(const struct rundir *rd);
int rundir_file(const struct rundir *rd, const char *name, char *buf,
		size_t len);

#endif
