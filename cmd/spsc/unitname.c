/*
 * unitname: spsc-NAME-STAGE@R.service and the like.
 */
#include <stdio.h>

#include "dag.h"
#include "unitname.h"

/* spsc-NAME: what every unit of the DAG is called first. */
void unit_prefix(const struct dag *d, char *buf, size_t len)
{
	snprintf(buf, len, "spsc-%s", d->name);
}

void unit_target(const struct dag *d, char *buf, size_t len)
{
	snprintf(buf, len, "spsc-%s.target", d->name);
}

/* R < 0: the template of a stage with replicas. */
void unit_stage(const struct dag *d, int s, int r, char *buf, size_t len)
{
	const struct stage *st = &d->stages[s];

	if (st->replicas == 1)
		snprintf(buf, len, "spsc-%s-%s.service", d->name, st->name);
	else if (r < 0)
		snprintf(buf, len, "spsc-%s-%s@.service", d->name, st->name);
	else
		snprintf(buf, len, "spsc-%s-%s@%d.service", d->name, st->name, r);
}
