/*
 * render: `spsc-coord status` on stdout, from a status object in the
 * coordinator's JSON (or one built alike from NATS JetStream,
 * admin_nats.c): a table, or the JSON itself, filtered to the queues
 * named.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "render.h"
#include "units.h"

static int wanted(const cJSON *q, int argc, char **argv)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(q, "name");

	if (argc == 0)
		return 1;
	for (int i = 0; i < argc; i++)
		if (cJSON_IsString(name) && strcmp(name->valuestring, argv[i]) == 0)
			return 1;
	return 0;
}

static double field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* "1/2": producers done of those expected; "sealed"; "-" for a queue no
 * producer has named itself to. */
static const char *done_column(const cJSON *q, char *buf, size_t len)
{
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "sealed")))
		return "sealed";
	if (field(q, "producers") == 0)
		return "-";
	snprintf(buf, len, "%.0f/%.0f", field(q, "producers_done"),
		 field(q, "producers_expected"));
	return buf;
}

static const char *watermark_column(const cJSON *q)
{
	const cJSON *wm = cJSON_GetObjectItemCaseSensitive(q, "watermark");

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "complete")))
		return "complete";
	return cJSON_IsString(wm) ? wm->valuestring : "-";
}

static void print_table(const cJSON *qs, int argc, char **argv)
{
	const cJSON *q;
	char age[32], done[32];

	printf("%-24s %9s %8s %7s %6s %10s %10s %8s %4s %8s %9s %9s %7s %s\n", "QUEUE",
	       "READY", "INFLIGHT", "DELAYED", "DLQ", "PUT", "ACKED", "REDELIV",
	       "CONS", "OLDEST", "IN/s", "OUT/s", "DONE", "WATERMARK");
	cJSON_ArrayForEach(q, qs) {
		if (!wanted(q, argc, argv))
			continue;
		format_duration((int64_t)field(q, "oldest_age_ms") * NS_PER_MS, age, sizeof age);
		printf("%-24s %9.0f %8.0f %7.0f %6.0f %10.0f %10.0f %8.0f %4.0f %8s %9.1f %9.1f %7s %s\n",
		       cJSON_GetObjectItemCaseSensitive(q, "name")->valuestring,
		       field(q, "ready"), field(q, "inflight"), field(q, "delayed"),
		       field(q, "dlq"), field(q, "put"), field(q, "acked"),
		       field(q, "redelivered"), field(q, "consumers"),
		       field(q, "ready") > 0 ? age : "-", field(q, "in_rate"),
		       field(q, "out_rate"), done_column(q, done, sizeof done),
		       watermark_column(q));
	}
}

/* --json keeps the coordinator's object, filtered to the named queues. */
static void print_json(cJSON *root, int argc, char **argv)
{
	cJSON *qs = cJSON_GetObjectItemCaseSensitive(root, "queues");
	cJSON *keep = cJSON_CreateArray(), *q;
	char *text;

	cJSON_ArrayForEach(q, qs)
		if (wanted(q, argc, argv))
			cJSON_AddItemToArray(keep, cJSON_Duplicate(q, 1));
	cJSON_ReplaceItemInObjectCaseSensitive(root, "queues", keep);
	text = cJSON_PrintUnformatted(root);
	if (text)
		puts(text);
	free(text);
}

/* Prints a status object, the coordinator's or one built alike
 * (admin_nats.c): a table, or as JSON. */
int render_status(cJSON *root, int json, int argc, char **argv)
{
	if (json)
		print_json(root, argc, argv);
	else
		print_table(cJSON_GetObjectItemCaseSensitive(root, "queues"), argc, argv);
	/* A full disk stalls every producer at once: the first thing to see
	 * when asking what is stuck. */
	if (!json && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "disk_full")))
		log_warn("the coordinator's disk is full: PUTs wait until consumers free space");
	return fflush(stdout) == 0 ? 0 : -1;
}
