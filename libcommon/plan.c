#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "opt.h"
#include "plan.h"

int plan_requested;

void plan_print(const char *role, const char *spec, uint64_t producer)
{
	if (producer)
		printf("%s\t%s\t%016llx\n", role, spec,
		       (unsigned long long)producer);
	else
		printf("%s\t%s\n", role, spec);
}

void plan_print_queue_dlq(const char *queue_spec)
{
	const char *at = strchr(queue_spec, '@');

	printf("dlq\t%.*s.dlq%s\n",
	       at ? (int)(at - queue_spec) : (int)strlen(queue_spec),
	       queue_spec, at ? at : "");
}

void plan_done(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("stdout: cannot print the endpoints: %s",
			  strerror(errno));
		exit(EXIT_FAIL);
	}
	exit(EXIT_OK);
}
