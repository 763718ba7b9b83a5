/*
 * progress: how far a long ingest has come, on stderr.
 *
 * On a terminal it is one line redrawn in place four times a second; when
 * --progress sends it elsewhere (a log file) it is an ordinary log line
 * every ten seconds, so logs stay readable.  Either way a summary line
 * closes the run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "source.h"
#include "units.h"

#define TTY_EVERY (250 * NS_PER_MS)
#define LOG_EVERY (10 * NS_PER_SEC)

void progress_init(struct source *src)
{
	struct progress *p = &src->progress;

	p->on = src->cfg->progress;
	p->tty = isatty(STDERR_FILENO);
	p->start = p->last_print = mono_ns();
	p->next = p->start + (p->tty ? TTY_EVERY : LOG_EVERY);
}

/* "1.5M" for counts, so the line keeps its width. */
static void format_count(uint64_t n, char *buf, size_t len)
{
	if (n < 10000)
		snprintf(buf, len, "%" PRIu64, n);
	else if (n < 1000000)
		snprintf(buf, len, "%.1fk", (double)n / 1e3);
	else if (n < UINT64_C(1000000000))
		snprintf(buf, len, "%.1fM", (double)n / 1e6);
	else
		snprintf(buf, len, "%.1fG", (double)n / 1e9);
}

static void describe(const struct source *src, double secs, uint64_t bytes,
		     uint64_t events, char *buf, size_t len)
{
	char b[32], e[32], bps[32], eps[32];

	if (secs <= 0)
		secs = 1e-9;
	format_size(src->bytes, b, sizeof b);
	format_count(src->events, e, sizeof e);
	format_size((uint64_t)((double)bytes / secs), bps, sizeof bps);
	format_count((uint64_t)((double)events / secs), eps, sizeof eps);
	snprintf(buf, len, "%s, %s events, %" PRIu64 " atoms; %s/s, %s events/s",
		 b, e, src->atoms, bps, eps);
}

void progress_tick(struct source *src)
{
	struct progress *p = &src->progress;
	char line[256], text[200];
	int64_t now;
	int n;

	if (!p->on)
		return;
	now = mono_ns();
	if (now < p->next)
		return;
	/* The rates are over the last interval: what is happening now. */
	describe(src, (double)(now - p->last_print) / 1e9,
		 src->bytes - p->last_bytes, src->events - p->last_events,
		 text, sizeof text);
	p->last_print = now;
	p->last_bytes = src->bytes;
	p->last_events = src->events;
	p->next = now + (p->tty ? TTY_EVERY : LOG_EVERY);
	if (!p->tty) {
		log_info("%s", text);
		return;
	}
	n = snprintf(line, sizeof line, "\r%s: %s\033[K", log_prog, text);
	if (n > 0)
		(void)fd_write_all(STDERR_FILENO, line,
				   (size_t)n < sizeof line ? (size_t)n
							   : sizeof line - 1);
}

void progress_done(struct source *src)
{
	struct progress *p = &src->progress;
	char text[200], took[32];
	int64_t now;

	if (!p->on)
		return;
	now = mono_ns();
	describe(src, (double)(now - p->start) / 1e9, src->bytes, src->events,
		 text, sizeof text);
	format_duration(now - p->start, took, sizeof took);
	if (p->tty)
		(void)fd_write_all(STDERR_FILENO, "\r\033[K", 4);
	log_info("done in %s: %s", took, text);
}
