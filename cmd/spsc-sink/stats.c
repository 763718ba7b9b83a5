#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "stats.h"
#include "units.h"

void stats_init(struct stats *s)
{
	memset(s, 0, sizeof *s);
	hist_init(&s->latency);
}

/* The active period starts when the first atom arrives, so the time spent
 * waiting for upstream to start (spawning, reading archives) is not counted
 * against throughput. */
void stats_arrived(struct stats *s)
{
	if (s->first_ns == 0)
		s->first_ns = mono_ns();
}

/*
 * Latency runs from the atom's created-at (wall clock, set where its events
 * entered the pipeline) to now, when its events are written.  It counts
 * once per event, so a big atom weighs what its events weigh.  An atom with
 * no created-at has no latency; a negative one (clocks of two hosts
 * disagreeing) counts as zero rather than as a huge unsigned value.
 */
void stats_written(struct stats *s, const struct atom *a)
{
	int64_t now = wall_ns(), lat;

	s->atoms++;
	s->events += a->events;
	s->bytes += a->len;
	s->last_ns = mono_ns();
	if (a->created_ns <= 0)
		return;
	lat = now - a->created_ns;
	hist_record(&s->latency, lat > 0 ? (uint64_t)lat : 0, a->events);
}

void stats_duplicate(struct stats *s)
{
	s->duplicates++;
	s->last_ns = mono_ns();
}

static double active_seconds(const struct stats *s)
{
	if (s->first_ns == 0 || s->last_ns <= s->first_ns)
		return 0;
	return (double)(s->last_ns - s->first_ns) / 1e9;
}

static double events_per_sec(const struct stats *s)
{
	double secs = active_seconds(s);

	return secs > 0 ? (double)s->events / secs : 0;
}

static void print_text(const struct stats *s)
{
	char p50[32], p90[32], p99[32], max[32], line[512];
	const struct hist *h = &s->latency;
	size_t k;
	int n;

	format_duration((int64_t)hist_percentile(h, 50), p50, sizeof p50);
	format_duration((int64_t)hist_percentile(h, 90), p90, sizeof p90);
	format_duration((int64_t)hist_percentile(h, 99), p99, sizeof p99);
	format_duration((int64_t)hist_max(h), max, sizeof max);
	k = log_prefix(line, sizeof line, LOG_INFO, "stats");
	n = snprintf(line + k, sizeof line - k,
		     "atoms %llu, events %llu, bytes %llu, events/s %.0f, latency p50 %s p90 %s p99 %s max %s, duplicates %llu\n",
		     (unsigned long long)s->atoms,
		     (unsigned long long)s->events, (unsigned long long)s->bytes,
		     events_per_sec(s), hist_count(h) ? p50 : "-",
		     hist_count(h) ? p90 : "-", hist_count(h) ? p99 : "-",
		     hist_count(h) ? max : "-",
		     (unsigned long long)s->duplicates);
	if (n > 0)
		(void)fd_write_all(STDERR_FILENO, line,
				   k + (size_t)n < sizeof line ? k + (size_t)n
							       : sizeof line - 1);
}

/* Milliseconds, or null when no event carried a created-at. */
static void add_ms(cJSON *obj, const char *key, const struct hist *h,
		   uint64_t ns)
{
	if (hist_count(h) == 0)
		cJSON_AddNullToObject(obj, key);
	else
		cJSON_AddNumberToObject(obj, key, (double)ns / 1e6);
}

static cJSON *stats_json(const struct stats *s)
{
	const struct hist *h = &s->latency;
	cJSON *o = cJSON_CreateObject(), *lat;

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "atoms", (double)s->atoms);
	cJSON_AddNumberToObject(o, "events", (double)s->events);
	cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
	cJSON_AddNumberToObject(o, "seconds", active_seconds(s));
	cJSON_AddNumberToObject(o, "events_per_sec", events_per_sec(s));
	lat = cJSON_AddObjectToObject(o, "latency_ms");
	if (lat != NULL) {
		add_ms(lat, "p50", h, hist_percentile(h, 50));
		add_ms(lat, "p90", h, hist_percentile(h, 90));
		add_ms(lat, "p99", h, hist_percentile(h, 99));
		add_ms(lat, "max", h, hist_max(h));
	}
	cJSON_AddNumberToObject(o, "duplicates", (double)s->duplicates);
	return o;
}

static void print_json(const struct stats *s)
{
	cJSON *o = stats_json(s);
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;

	if (text == NULL) {
		log_error("--stats=json: out of memory");
	} else {
		size_t len = strlen(text);
		text[len] = '\n';	/* the terminating NUL is ours to reuse */
		(void)fd_write_all(STDERR_FILENO, text, len + 1);
	}
	free(text);
	cJSON_Delete(o);
}

void stats_print(const struct stats *s, int json)
{
	if (json)
		print_json(s);
	else
		print_text(s);
}
