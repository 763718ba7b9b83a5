/* Unit tests for libcommon/prog: what every program sets up first. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "prog.h"
#include "tap.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#define BLOCK (100 * 1000)
#define BLOCKS 10
#define ROUNDS 50

static long minor_faults(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : -1;
}

/* A message's worth of atoms: BLOCKS blocks of BLOCK bytes, each written
 * whole, then all freed.  0, or -1 if memory ran out. */
static int one_message(void)
{
	char *p[BLOCKS];
	int i, rc = 0;

	for (i = 0; i < BLOCKS; i++) {
		if ((p[i] = malloc(BLOCK)) == NULL) {
			rc = -1;
			break;
		}
		memset(p[i], 1, BLOCK);
	}
	while (i-- > 0)
		free(p[i]);
	return rc;
}

/* Page faults taken by ROUNDS messages, after one that grows the heap. */
static long faults_of_reuse(void)
{
	long before;

	if (one_message() < 0)
		return -1;
	before = minor_faults();
	for (int i = 0; i < ROUNDS; i++)
		if (one_message() < 0)
			return -1;
	return minor_faults() - before;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	long faults;

	(void)argc;
	prog_init(argv[0]);
	ok(strcmp(log_prog, "test-prog") == 0, "the log is named after the program: %s",
	   log_prog);
	ok(sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN,
	   "SIGPIPE is ignored");
#ifdef SANITIZED
	ok(1, "# SKIP the sanitizer's allocator ignores mallopt");
	(void)faults_of_reuse;
	(void)faults;
#else
	/* glibc's defaults would give all but 128 KiB of a freed message
	 * back to the kernel, and fault it in again: over 10000 here. */
	faults = faults_of_reuse();
	ok(faults >= 0 && faults < 16,
	   "%d freed blocks of 100 KB are reused without faulting them in again (%ld faults in %d rounds)",
	   BLOCKS, faults, ROUNDS);
#endif
	return tap_done();
}
