/*
 * dag: a DAG file (spsc-dag(5)) as stages, and the queues between them.
 *
 * dag_load reads and parses the file; dag_resolve then asks every stage
 * which endpoints it reads and writes (the program's own
 * --print-endpoints, or the in=/out= a stage declares) and joins stages
 * through their queues.  Neither stops at the first problem: each is
 * reported to the diag list, so that `spsc check` can show them all.
 */
#ifndef SPSC_DAG_H
#define SPSC_DAG_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "lex.h"

#define DAG_NAME_MAX 64
#define DAG_REPLICAS_MAX 1024

/* What an endpoint is to its stage; ROLE_FILE: a file or directory that
 * is no endpoint (spsc-source's inputs, spsc-sink's destination). */
enum role { ROLE_IN, ROLE_OUT, ROLE_DLQ, ROLE_LATE, ROLE_FILE };

/* One endpoint of one replica, as the program printed it. */
struct port {
	enum role role;
	char *spec;		/* queue[@url], path or "-" */
	uint64_t producer;	/* ROLE_OUT to a queue: who registers */
	int queue;		/* index in dag.queues; -1: not a queue */
	struct pos pos;		/* the word that named it, best guess */
};

struct replica {
	char **argv;		/* the command, expanded; NULL-terminated */
	struct port *ports;
	size_t nports;
};

struct stage {
	char name[DAG_NAME_MAX];
	int replicas;
	struct pos pos;		/* of the name */
	struct word *cmd;	/* the command's words, unexpanded */
	size_t ncmd;
	struct word *decl;	/* in=... and out=... */
	size_t ndecl;
	int spsc;		/* an spsc program: asked for its endpoints */
	int unresolved;		/* its endpoints are not known */
	struct replica *rep;	/* [replicas], after dag_resolve */
	char path[4096];	/* the program found on PATH */
	char host[DAG_NAME_MAX];/* where a host line places it; "": nowhere */
};

/* A queue the DAG touches on its coordinator. */
struct queue_use {
	int stage, replica;
	size_t port;
};

struct dagq {
	char *name;
	struct queue_use *readers, *writers;
	size_t nreaders, nwriters;
	uint32_t producers;	/* distinct producer ids among writers */
	int dlq;		/* only ever a dead-letter destination */
	int external;		/* declared as written from outside */
	struct pos external_pos;
};

struct dag {
	char *path;		/* as given */
	char dir[4096];		/* the file's directory: stages run there */
	char name[DAG_NAME_MAX];/* the file's name less .dag, or "name" */
	char **env;		/* NAME=value from env lines */
	size_t nenv;
	char *coord;		/* coord URL, or NULL: a private one */
	struct word *external;	/* queues written from outside */
	size_t nexternal;
	struct word *hosts;	/* host lines: the host, then its stages, */
	size_t nhosts;		/* each line ended by an empty word */
	struct stage *stages;
	size_t nstages;
	struct dagq *queues;
	size_t nqueues;
	struct diag *diag;
	int unresolved;		/* some stage's endpoints are not known */
};

int dag_load(struct dag *d, const char *path, struct diag *diag);
int dag_resolve(struct dag *d);
void dag_free(struct dag *d);

int dag_stage_named(const struct dag *d, const char *name);
int dag_queue_named(const struct dag *d, const char *name);
int dag_stage_upstream(const struct dag *d, int stage, int other);
const char *role_name(enum role r);

#endif
