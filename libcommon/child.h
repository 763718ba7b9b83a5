/*
 * child: running a command as a child process with pipes to its stdin,
 * stdout and (optionally) stderr, under a deadline.
 *
 * A child is started with vfork (operators may start one per atom), in a
 * process group of its own so that a deadline reaches the whole tree a
 * `sh -c` pipeline forks.  Every fd it does not need is closed in it;
 * SIGPIPE, which our programs ignore, is set back to its default and the
 * signal mask is cleared, so the command behaves as it would under a
 * shell.  It gets SIGKILL when the thread that started it dies
 * (PR_SET_PDEATHSIG), so a program killed with kill -9 leaves no command
 * running: start children from the main thread.
 *
 * The parent ends of the pipes are non-blocking and close-on-exec, meant for
 * a poll() loop.  So is pidfd, which becomes readable when the child exits:
 * the loop then calls child_reap().  Deadlines are ticks, not sleeps: the
 * loop calls child_tick() when the time it returned has come.
 */
#ifndef SPSC_CHILD_H
#define SPSC_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct child_opts {
	const char *path;	 /* the file to run; NULL: argv[0] is looked
				    up in $PATH */
	char *const *argv;
	const char *const *env;	 /* "NAME=value" added to (or replacing in)
				    the environment; NULL-terminated; may be
				    NULL */
	int capture_stderr;	 /* pipe stderr to us; else inherit ours */
	int stdin_null;		 /* stdin from /dev/null, no pipe (c->in -1) */
	int stdout_inherit;	 /* our stdout, no pipe (c->out -1): for
				    processes whose output is data of ours,
				    as the stages spsc runs */
};

enum child_stage {
	CHILD_RUNNING,		/* before its deadline */
	CHILD_TERMED,		/* the group was sent SIGTERM */
	CHILD_KILLED,		/* the group was sent SIGKILL */
};

struct child {
	pid_t pid;		/* -1 when there is none; leads group pid */
	int in;			/* its stdin (we write), -1 once closed */
	int out;		/* its stdout (we read), -1 once closed */
	int err;		/* its stderr (we read), or -1 */
	int pidfd;		/* readable once it exits; -1 if the kernel
				   has no pidfds (then poll with a timeout) */
	int reaped;		/* status is valid */
	int status;		/* wait status */
	enum child_stage stage;
	int timed_out;		/* the deadline passed before it was reaped */
	int64_t timeout;	/* as given to child_set_deadline, for
				   messages */
	int64_t grace;		/* from SIGTERM to SIGKILL */
	int64_t deadline;	/* monotonic ns of the next step; 0: none */
};

#define CHILD_NEVER INT64_MAX

void child_init(struct child *c);
int child_spawn(struct child *c, const struct child_opts *o, char *err,
		size_t errlen);
int child_find(const char *cmd, char *path, size_t pathlen, char *err,
	       size_t errlen);

void child_set_deadline(struct child *c, int64_t now, int64_t timeout,
			int64_t grace);
void child_terminate(struct child *c, int64_t now);
void child_linger(struct child *c, int64_t now, int64_t ns);
int64_t child_tick(struct child *c, int64_t now);
int child_signal(struct child *c, int sig);
int child_reap(struct child *c, int block);
int child_stop(struct child *c, int64_t grace);
void child_close_in(struct child *c);
void child_close(struct child *c);

int child_succeeded(const struct child *c);
void child_describe(const struct child *c, char *buf, size_t len);

#endif
