/*
 * diag: FILE:LINE:COL messages, sorted by where they point.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "mem.h"

#define DIAG_TEXT_MAX 2048

static void add(struct diag *dg, struct pos at, const char *kind,
		const char *fmt, va_list ap)
{
	struct diag_msg *m = xpush(&dg->msgs, &dg->n, &dg->cap, sizeof *m);
	int n;

	m->at = at;
	m->text = xcalloc(DIAG_TEXT_MAX, 1);
	n = snprintf(m->text, DIAG_TEXT_MAX, "%s: ", kind);
	vsnprintf(m->text + n, DIAG_TEXT_MAX - (size_t)n, fmt, ap);
}

void diag_error(struct diag *dg, struct pos at, const char *fmt, ...)
{
	va_list ap;

	dg->errors++;
	va_start(ap, fmt);
	add(dg, at, "error", fmt, ap);
	va_end(ap);
}

void diag_warn(struct diag *dg, struct pos at, const char *fmt, ...)
{
	va_list ap;

	dg->warnings++;
	va_start(ap, fmt);
	add(dg, at, "warning", fmt, ap);
	va_end(ap);
}

static int after(const struct diag_msg *x, const struct diag_msg *y)
{
	return x->at.line != y->at.line ? x->at.line > y->at.line
					: x->at.col > y->at.col;
}

/* Prints what was found (unless quiet) and forgets it. */
void diag_flush(struct diag *dg)
{
	/* insertion sort: stable, so messages about one place keep the
	 * order they were found in; there are few */
	for (size_t i = 0; i + 1 < dg->n; i++)
		for (size_t j = i + 1; j > 0 && after(&dg->msgs[j - 1],
						      &dg->msgs[j]); j--) {
			struct diag_msg t = dg->msgs[j];

			dg->msgs[j] = dg->msgs[j - 1];
			dg->msgs[j - 1] = t;
		}
	for (size_t i = 0; i < dg->n; i++) {
		const struct diag_msg *m = &dg->msgs[i];

		if (!dg->quiet && m->at.line > 0)
			fprintf(stderr, "%s:%d:%d: %s\n", dg->file, m->at.line,
				m->at.col, m->text);
		else if (!dg->quiet)
			fprintf(stderr, "%s: %s\n", dg->file, m->text);
		free(m->text);
	}
	free(dg->msgs);
	dg->msgs = NULL;
	dg->n = dg->cap = 0;
}
