/*
 * diag: problems found in a DAG file, reported the way compilers do,
 *
 *	FILE:LINE:COL: error: message
 *	FILE:LINE:COL: warning: message
 *
 * so that editors jump to them.  They are counted as they come and
 * printed on stderr by diag_flush, in the order of the file whatever
 * order they were found in; the caller decides what the count means.
 */
#ifndef SPSC_DIAG_H
#define SPSC_DIAG_H

#include "lex.h"

struct diag_msg {
	struct pos at;
	char *text;		/* "error: ..." or "warning: ..." */
};

struct diag {
	const char *file;
	int errors, warnings;
	int quiet;		/* count, print nothing */
	struct diag_msg *msgs;	/* held until diag_flush */
	size_t n, cap;
};

void diag_error(struct diag *dg, struct pos at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_warn(struct diag *dg, struct pos at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void diag_flush(struct diag *dg);

#endif
