/*
 * load: a DAG file made ready for any command: read, its stages asked for
 * their endpoints, the rules checked, and the problems printed.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dag.h"
#include "diag.h"
#include "spsc.h"

/*
 * The DAG read, its stages asked for their endpoints and the rules
 * checked; the working directory becomes the file's, where the stages run
 * and their relative paths mean what the file says.  Returns -1 when the
 * DAG has errors (already reported).
 */
int spsc_load(struct dag *d, struct diag *dg, const char *path, int quiet)
{
	memset(dg, 0, sizeof *dg);
	dg->quiet = quiet;
	if (dag_load(d, path, dg) == 0) {
		if (chdir(d->dir) < 0)
			diag_error(dg, (struct pos){ 0, 0 }, "cannot enter %s: %s",
				   d->dir, strerror(errno));
		else if (dag_resolve(d) == 0 || !d->unresolved)
			dag_check(d);
	}
	diag_flush(dg);
	return dg->errors ? -1 : 0;
}

