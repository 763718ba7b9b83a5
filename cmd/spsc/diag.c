/*
 * diag: FILE:LINE:COL messages.
 */
#include <stdarg.h>
#include <stdio.h>

#include "diag.h"

static void report(struct diag *dg, struct pos at, const char *kind,
		   const char *fmt, va_list ap)
{
	if (dg->quiet)
		return;
	if (at.line > 0)
		fprintf(stderr, "%s:%d:%d: %s: ", dg->file, at.line, at.col, kind);
	else
		fprintf(stderr, "%s: %s: ", dg->file, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void diag_error(struct diag *dg, struct pos at, const char *fmt, ...)
{
	va_list ap;

	dg->errors++;
	va_start(ap, fmt);
	report(dg, at, "error", fmt, ap);
	va_end(ap);
}

void diag_warn(struct diag *dg, struct pos at, const char *fmt, ...)
{
	va_list ap;

	dg->warnings++;
	va_start(ap, fmt);
	report(dg, at, "warning", fmt, ap);
	va_end(ap);
}
