/*
 * diag: problems found in a DAG file, reported the way compilers do,
 *
 *	FILE:LINE:COL: error: message
 *	FILE:LINE:COL: warning: message
 *
 * so that editors jump to them.  They are printed as they come, on stderr,
 * and counted: the caller decides what the count means.
 */
#ifndef SPSC_DIAG_H
#define SPSC_DIAG_H

#include "lex.h"

struct diag {
	const char *file;
	int errors, warnings;
	int quiet;		/* count, print nothing */
};

void diag_error(struct diag *dg, struct pos at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_warn(struct diag *dg, struct pos at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
