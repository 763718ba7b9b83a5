#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "fdio.h"

int queue_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > QUEUE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

int endpoint_kind_of(const char *spec)
{
	if (strcmp(spec, "-") == 0)
		return ENDPOINT_STDIO;
	if (strchr(spec, '/') != NULL && strchr(spec, '@') == NULL)
		return ENDPOINT_PATH;
	return ENDPOINT_QUEUE;
}

static int open_stdio(struct endpoint *ep)
{
	ep->fd = ep->writing ? STDOUT_FILENO : STDIN_FILENO;
	snprintf(ep->name, sizeof ep->name, "%s", ep->writing ? "stdout" : "stdin");
	fd_grow_pipe(ep->fd);
	return 0;
}

static int open_path(struct endpoint *ep, const char *path)
{
	int flags = ep->writing ? O_WRONLY | O_CREAT | O_APPEND : O_RDONLY;

	snprintf(ep->name, sizeof ep->name, "%s", path);
	ep->fd = open(path, flags | O_CLOEXEC, 0666);
	if (ep->fd < 0) {
		snprintf(ep->err, sizeof ep->err, "%s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Queue names are checked here, once, for every program: a name is also a
 * file name in the coordinator's state directory, so nothing else may pass. */
static int open_queue(struct endpoint *ep, const char *spec)
{
	const char *at = strchr(spec, '@');
	size_t len = at ? (size_t)(at - spec) : strlen(spec);

	if (!queue_name_valid(spec, len)) {
		snprintf(ep->err, sizeof ep->err,
			 "%s: not a valid endpoint: use '-', a path with a '/' or a queue name of 1 to %d characters from [A-Za-z0-9._-]",
			 spec, QUEUE_NAME_MAX);
		return -1;
	}
	snprintf(ep->name, sizeof ep->name, "%.*s", (int)len, spec);
	snprintf(ep->err, sizeof ep->err,
		 "%s: queue endpoints need spsc-coord, which this version does not include yet",
		 spec);
	return -1;
}

int endpoint_open(struct endpoint *ep, const char *spec, int writing,
		  const struct endpoint_opts *o)
{
	int rc;

	memset(ep, 0, sizeof *ep);
	ep->fd = -1;
	ep->writing = writing;
	ep->fsync = o ? o->fsync : 0;
	ep->kind = endpoint_kind_of(spec);
	atom_codec_init(&ep->codec, o ? o->level : 0, o ? o->limit : 0);
	if (ep->kind == ENDPOINT_STDIO)
		rc = open_stdio(ep);
	else if (ep->kind == ENDPOINT_PATH)
		rc = open_path(ep, spec);
	else
		rc = open_queue(ep, spec);
	if (rc < 0) {
		atom_codec_free(&ep->codec);
		return -1;
	}
	if (writing) {
		atom_writer_init(&ep->wr, ep->fd, ep->name, &ep->codec);
	} else if (atom_reader_init(&ep->rd, ep->fd, ep->name, &ep->codec) < 0) {
		snprintf(ep->err, sizeof ep->err, "%s: out of memory", ep->name);
		endpoint_close(ep);
		return -1;
	}
	return 0;
}

/* 1: an atom; 0: end of input; -1: ep->err says what is wrong. */
int endpoint_read(struct endpoint *ep, struct atom *a)
{
	int rc = atom_read(&ep->rd, a);

	if (rc < 0)
		snprintf(ep->err, sizeof ep->err, "%s", ep->rd.err);
	return rc;
}

int endpoint_write(struct endpoint *ep, const struct atom *a)
{
	if (atom_write(&ep->wr, a) < 0) {
		snprintf(ep->err, sizeof ep->err, "%s", ep->wr.err);
		return -1;
	}
	if (ep->fsync && ep->kind == ENDPOINT_PATH)
		return endpoint_sync(ep);
	return 0;
}

/* Pipes and files have no one to tell: the atom was consumed when read. */
int endpoint_ack(struct endpoint *ep, const struct atom *a)
{
	(void)ep;
	(void)a;
	return 0;
}

int endpoint_nack(struct endpoint *ep, const struct atom *a, int64_t delay_ns)
{
	(void)ep;
	(void)a;
	(void)delay_ns;
	return 0;
}

int endpoint_sync(struct endpoint *ep)
{
	if (ep->kind != ENDPOINT_PATH || fsync(ep->fd) == 0)
		return 0;
	snprintf(ep->err, sizeof ep->err, "%s: fsync: %s", ep->name,
		 strerror(errno));
	return -1;
}

int endpoint_fd(const struct endpoint *ep)
{
	return ep->fd;
}

/* True when a read can make progress without waiting on the fd. */
int endpoint_pending(const struct endpoint *ep)
{
	return !ep->writing && atom_reader_buffered(&ep->rd) > 0;
}

int endpoint_close(struct endpoint *ep)
{
	int rc = 0;

	if (ep->kind == ENDPOINT_PATH && ep->fd >= 0 && close(ep->fd) < 0) {
		snprintf(ep->err, sizeof ep->err, "%s: close: %s", ep->name,
			 strerror(errno));
		rc = -1;
	}
	ep->fd = -1;
	if (!ep->writing)
		atom_reader_free(&ep->rd);
	atom_codec_free(&ep->codec);
	free(ep->queue);
	free(ep->url);
	ep->queue = ep->url = NULL;
	return rc;
}
