/*
 * runstate: state.json, replaced whole (temporary file, rename) so that a
 * reader never sees half of it.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dag.h"
#include "fdio.h"
#include "log.h"
#include "proc.h"
#include "runstate.h"

static cJSON *proc_json(const struct proc *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "replica", p->replica);
	cJSON_AddStringToObject(o, "state", proc_state_name(p->state));
	cJSON_AddNumberToObject(o, "pid",
				p->state == PROC_RUNNING ? p->child.pid : 0);
	cJSON_AddNumberToObject(o, "restarts", p->restarts);
	cJSON_AddStringToObject(o, "last_exit", p->last_exit);
	cJSON_AddNumberToObject(o, "started_ms",
				(double)(p->started_wall / 1000000));
	return o;
}

static cJSON *state_json(const struct dag *d, const struct proc *procs,
			 size_t n, int once, const char *coord_url,
			 int stopping)
{
	cJSON *root = cJSON_CreateObject(), *stages;

	cJSON_AddStringToObject(root, "dag", d->name);
	cJSON_AddStringToObject(root, "file", d->path);
	cJSON_AddNumberToObject(root, "pid", getpid());
	cJSON_AddBoolToObject(root, "once", once);
	cJSON_AddBoolToObject(root, "stopping", stopping);
	cJSON_AddStringToObject(root, "coord", coord_url);
	stages = cJSON_AddArrayToObject(root, "stages");
	for (size_t s = 0; s < d->nstages; s++) {
		cJSON *st = cJSON_CreateObject(), *reps;

		cJSON_AddStringToObject(st, "name", d->stages[s].name);
		reps = cJSON_AddArrayToObject(st, "replicas");
		for (size_t i = 0; i < n; i++)
			if (procs[i].stage == (int)s)
				cJSON_AddItemToArray(reps, proc_json(&procs[i]));
		cJSON_AddItemToArray(stages, st);
	}
	for (size_t i = 0; i < n; i++)
		if (procs[i].stage < 0)
			cJSON_AddItemToObject(root, "coordinator",
					      proc_json(&procs[i]));
	return root;
}

int runstate_write(const char *path, const struct dag *d,
		   const struct proc *procs, size_t n, int once,
		   const char *coord_url, int stopping)
{
	cJSON *root = state_json(d, procs, n, once, coord_url, stopping);
	char *text = cJSON_Print(root), tmp[4300];
	int fd, rc = -1;

	cJSON_Delete(root);
	if (text == NULL)
		return -1;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && fd_write_all(fd, text, strlen(text)) == 0 &&
	    close(fd) == 0) {
		fd = -1;
		rc = rename(tmp, path);
	}
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		log_warn("%s: %s", path, strerror(errno));
	free(text);
	return rc;
}
