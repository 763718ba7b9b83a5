/*
 * spsc: what the launcher's commands share.
 */
#ifndef SPSC_SPSC_H
#define SPSC_SPSC_H

#include <stdint.h>

struct dag;
struct diag;
struct queue_depth;

struct spsc_opts {
	int once;
	int64_t stop_timeout;
	int json;
	int64_t watch;		/* status --watch: period; 0: once */
	int text;		/* graph --format text */
	int status;		/* graph --status */
	const char *timer;	/* systemd --timer CALENDAR */
	int remove;		/* systemd --remove */
	const char *host;	/* systemd --host NAME */
	int quiet;
};

/* Exit statuses of spsc beyond 0, 1 and 2 (spsc(1)). */
#define EXIT_DEAD 3		/* run --once: atoms were dead-lettered */
#define EXIT_RUNNING 4		/* run: the DAG is already running */

int spsc_load(struct dag *d, struct diag *dg, const char *path, int quiet);

int run_main(const struct spsc_opts *o, const char *path);
int status_main(const struct spsc_opts *o, const char *path, char **stages,
		int nstages);
int stop_main(const struct spsc_opts *o, const char *path);
int systemd_main(const struct spsc_opts *o, const char *path, const char *dir);
struct queue_depth *status_depths(const struct dag *d);

#endif
