/*
 * proc: one supervised process, a replica of a stage or the coordinator.
 *
 * A proc runs, finishes (exit 0, or 3: finished with dead letters), fails
 * for good (exit 2: a usage error will not mend itself), or fails and waits
 * out a backoff before it starts again: 1 s, doubling to 60 s, each less
 * a random quarter so that replicas do not restart in step, and back to
 * 1 s once a run has lasted PROC_STABLE_NS.
 */
#ifndef SPSC_PROC_H
#define SPSC_PROC_H

#include <stdint.h>

#include "child.h"
#include "logpipe.h"

#define PROC_BACKOFF_MIN_NS (1000000000LL)
#define PROC_BACKOFF_MAX_NS (60 * 1000000000LL)
#define PROC_STABLE_NS (30 * 1000000000LL)

enum proc_state {
	PROC_WAITING,		/* not started yet */
	PROC_RUNNING,
	PROC_BACKOFF,		/* failed; starts again at due */
	PROC_FINISHED,		/* exit 0 (or 3) */
	PROC_FAILED,		/* exit 2, or given up on */
	PROC_STOPPED,		/* stopped on request */
};

struct proc {
	char label[96];		/* "map.1", "coord" */
	int stage;		/* index in dag.stages; -1: the coordinator */
	int replica;
	char *const *argv;	/* argv[0]: the file to run */
	const char **env;	/* NAME=value, NULL-terminated */
	struct child child;
	struct logpipe log;
	enum proc_state state;
	int stopping;		/* SIGTERM sent */
	int restarts;
	int streak;		/* failures since the last stable run */
	int killed;		/* had to be sent SIGKILL */
	int64_t started_wall;	/* wall-clock ns of the last start */
	int dead_letters;	/* it exited 3 */
	int64_t started;	/* mono ns of the last start */
	int64_t due;		/* BACKOFF: when to start; stopping: when to
				 * SIGKILL */
	int64_t backoff;	/* the next delay */
	char last_exit[640];	/* "exit status 1", "killed by signal 9" */
};

void proc_init(struct proc *p, const char *label, int stage, int replica,
	       char *const *argv, const char **env);
int proc_start(struct proc *p, int64_t now, int colour);
void proc_exited(struct proc *p, int status, int64_t now);
int proc_down(const struct proc *p);
const char *proc_state_name(enum proc_state s);

#endif
