/*
 * admin: spsc-coord's client commands.  Each is one request through
 * qclient; status hands the coordinator's JSON to render.c.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "atom.h"
#include "endpoint.h"
#include "event.h"
#include "home.h"
#include "natsq.h"
#include "log.h"
#include "opt.h"
#include "qclient.h"
#include "render.h"
#include "units.h"

static int call(struct qclient *qc, struct proto_header *h,
		const struct qpart *parts, size_t n, struct qreply *rep)
{
	char msg[600];

	if (qclient_call(qc, h, parts, n, 0, rep) < 0) {
		log_error("%s", qc->err);
		return -1;
	}
	if (rep->h.code != ST_OK) {
		log_error("%s: %s %s", h->queue[0] ? h->queue : "coordinator",
			  proto_status_name(rep->h.code), qreply_message(rep, msg, sizeof msg));
		qreply_free(rep);
		return -1;
	}
	return 0;
}

static int status_once(struct qclient *qc, struct admin_opts *o, int argc,
		       char **argv)
{
	struct proto_header h = { .code = OP_STATUS };
	struct qreply rep;
	cJSON *root;
	int rc;

	if (call(qc, &h, NULL, 0, &rep) < 0)
		return -1;
	root = rep.nparts ? cJSON_ParseWithLength(zmq_msg_data(&rep.parts[0]),
						 zmq_msg_size(&rep.parts[0])) : NULL;
	qreply_free(&rep);
	if (root == NULL) {
		log_error("coordinator sent a status that is not JSON");
		return -1;
	}
	rc = render_status(root, o->json, argc, argv);
	cJSON_Delete(root);
	return rc;
}

static int cmd_status(struct qclient *qc, struct admin_opts *o, int argc,
		      char **argv)
{
	int tty = isatty(STDOUT_FILENO);

	for (;;) {
		if (o->watch_ns && tty)
			fputs("\033[H\033[2J", stdout);
		if (status_once(qc, o, argc, argv) < 0)
			return EXIT_FAIL;
		if (o->watch_ns == 0)
			return EXIT_OK;
		if (!tty)
			putchar('\n');
		zmq_poll(NULL, 0, (long)(o->watch_ns / NS_PER_MS));
	}
}

static int cmd_create(struct qclient *qc, struct admin_opts *o, const char *queue)
{
	struct proto_header h = { .code = OP_CREATE };
	struct queue_conf *d = &o->defaults;
	struct qreply rep;

	snprintf(h.queue, sizeof h.queue, "%s", queue);
	if (o->set_vis)
		proto_set(&h, "vis", (uint64_t)(d->visibility_ns / NS_PER_MS));
	if (o->set_recv)
		proto_set(&h, "max_receives", d->max_receives);
	if (o->set_depth)
		proto_set(&h, "max_depth", d->max_depth);
	if (o->set_bytes)
		proto_set(&h, "max_bytes", d->max_bytes);
	if (o->set_retention)
		proto_set(&h, "retention", (uint64_t)(d->retention_ns / NS_PER_MS));
	if (o->producers >= 0)
		proto_set(&h, "producers", (uint64_t)o->producers);
	if (call(qc, &h, NULL, 0, &rep) < 0)
		return EXIT_FAIL;
	log_info("queue %s %s", queue, proto_get(&rep.h, "created", 0) ? "created" : "updated");
	qreply_free(&rep);
	return EXIT_OK;
}

/* delete, purge and redrive: one request, one count to report. */
static int cmd_simple(struct qclient *qc, int op, const char *queue,
		      const char *key, const char *verb)
{
	struct proto_header h = { .code = op };
	struct qreply rep;

	snprintf(h.queue, sizeof h.queue, "%s", queue);
	if (call(qc, &h, NULL, 0, &rep) < 0)
		return EXIT_FAIL;
	log_info("queue %s: %llu atoms %s", queue,
		 (unsigned long long)proto_get(&rep.h, key, 0), verb);
	qreply_free(&rep);
	return EXIT_OK;
}

/* seal: nothing more comes in, so the queue completes once empty;
 * reopen: forget the seal and the producers, for a new run. */
static int cmd_seal(struct qclient *qc, const char *queue, int open)
{
	struct proto_header h = { .code = OP_SEAL };
	struct qreply rep;

	snprintf(h.queue, sizeof h.queue, "%s", queue);
	if (open)
		proto_set(&h, "open", 1);
	if (call(qc, &h, NULL, 0, &rep) < 0)
		return EXIT_FAIL;
	log_info("queue %s %s%s", queue, open ? "reopened" : "sealed",
		 proto_get(&rep.h, "complete", 0) ? " and complete" : "");
	qreply_free(&rep);
	return EXIT_OK;
}

static int cmd_peek(struct qclient *qc, const char *queue, const char *count)
{
	struct proto_header h = { .code = OP_PEEK };
	struct atom_codec codec;
	struct qreply rep;
	struct atom a;
	char why[256];
	int rc = EXIT_OK;

	snprintf(h.queue, sizeof h.queue, "%s", queue);
	proto_set(&h, "n", count ? (uint64_t)opt_long("N", count, 1, 1000) : 10);
	if (call(qc, &h, NULL, 0, &rep) < 0)
		return EXIT_FAIL;
	atom_codec_init(&codec, 0, ATOM_LIMIT_MAX);
	atom_init(&a);
	for (size_t i = 0; i < rep.nparts && rc == EXIT_OK; i++) {
		if (atom_decode(&codec, zmq_msg_data(&rep.parts[i]),
				zmq_msg_size(&rep.parts[i]), &a, why, sizeof why) < 0) {
			log_error("%s: atom %zu: %s", queue, i, why);
			rc = EXIT_FAIL;
		} else if (fwrite(a.data, 1, a.len, stdout) != a.len) {
			rc = EXIT_FAIL;
		}
	}
	atom_free(&a);
	atom_codec_free(&codec);
	qreply_free(&rep);
	return fflush(stdout) == 0 ? rc : EXIT_FAIL;
}

/* Through the endpoints, so that it puts on whichever backend
 * SPSC_COORD names, as the programs do. */
static int cmd_put(const char *queue)
{
	struct endpoint in, out;
	struct atom a;
	int rc, status = EXIT_OK;
	char spec[300];

	snprintf(spec, sizeof spec, "%s", queue);
	if (endpoint_open(&in, "-", 0, NULL) < 0)
		die(EXIT_FAIL, "%s", in.err);
	if (endpoint_open(&out, spec, 1, NULL) < 0)
		die(EXIT_FAIL, "%s", out.err);
	atom_init(&a);
	while ((rc = endpoint_read(&in, &a)) > 0)
		if (endpoint_write(&out, &a) < 0) {
			log_error("%s", out.err);
			status = EXIT_FAIL;
			break;
		}
	if (rc < 0) {
		log_error("%s", in.err);
		status = EXIT_FAIL;
	}
	if (endpoint_close(&out) < 0) {
		log_error("%s", out.err);
		status = EXIT_FAIL;
	}
	endpoint_close(&in);
	atom_free(&a);
	return status;
}

int admin_main(struct admin_opts *o, const char *cmd, int argc, char **argv)
{
	struct qclient qc;
	char url[4096];
	int rc;

	static const char *const commands[] = { "status", "create", "delete", "purge",
						"redrive", "peek", "put", "seal",
						"reopen", NULL };
	int known = 0;

	for (int i = 0; commands[i]; i++)
		known |= strcmp(cmd, commands[i]) == 0;
	if (!known)
		opt_usage_error("unknown command '%s'", cmd);
	if (strcmp(cmd, "status") != 0 && (argc < 1 || argc > (strcmp(cmd, "peek") == 0 ? 2 : 1)))
		opt_usage_error("%s: expected a queue name", cmd);
	if (strcmp(cmd, "status") != 0 &&
	    !queue_name_valid(argv[0], strcspn(argv[0], strcmp(cmd, "put") == 0 ? "@" : "")))
		opt_usage_error("%s: bad queue name '%s': use 1 to %d characters from [A-Za-z0-9._-]",
				cmd, argv[0], QUEUE_NAME_MAX);
	if (o->url && setenv("SPSC_COORD", o->url, 1) < 0)
		die(EXIT_FAIL, "setenv: %m");
	if (strcmp(cmd, "put") == 0)
		return cmd_put(argv[0]);
	if (coord_default_url(url, sizeof url) == 0 && natsq_is_url(url))
		return admin_nats_main(o, url, cmd, argc, argv);
	if (qclient_open(&qc, o->url) < 0)
		die(EXIT_FAIL, "%s", qc.err);
	if (strcmp(cmd, "status") == 0)
		rc = cmd_status(&qc, o, argc, argv);
	else if (strcmp(cmd, "create") == 0)
		rc = cmd_create(&qc, o, argv[0]);
	else if (strcmp(cmd, "delete") == 0)
		rc = cmd_simple(&qc, OP_DELETE, argv[0], "purged", "deleted");
	else if (strcmp(cmd, "purge") == 0)
		rc = cmd_simple(&qc, OP_PURGE, argv[0], "purged", "purged");
	else if (strcmp(cmd, "redrive") == 0)
		rc = cmd_simple(&qc, OP_REDRIVE, argv[0], "moved", "moved back from the dead-letter queue");
	else if (strcmp(cmd, "seal") == 0 || strcmp(cmd, "reopen") == 0)
		rc = cmd_seal(&qc, argv[0], strcmp(cmd, "reopen") == 0);
	else if (strcmp(cmd, "peek") == 0)
		rc = cmd_peek(&qc, argv[0], argc > 1 ? argv[1] : NULL);
	else
		opt_usage_error("unknown command '%s'", cmd);
	qclient_close(&qc);
	return rc;
}
