#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "home.h"
#include "units.h"

/* mkdir -p with mode 0700 for the directories we create: state is
 * private to its user.  The last one is set to exactly 0700, whatever the
 * umask took away: spsc-coord serve refuses a state directory open to
 * group or others, and needs to write to its own. */
static int make_dirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) == 0)
		return chmod(path, 0700);
	return errno == EEXIST ? 0 : -1;
}

/* mkdir -p path, the directories made 0700; -1 with errno set. */
int spsc_mkdirs(const char *path)
{
	char buf[4096];

	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return make_dirs(buf);
}

/* Fills buf with the state directory; with create, makes it.  -1 with
 * errno set when it cannot be named or made. */
int spsc_home(char *buf, size_t len, int create)
{
	const char *env = getenv("SPSC_HOME"), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if (xdg && *xdg)
		n = snprintf(buf, len, "%s/spsc", xdg);
	else if (home && *home)
		n = snprintf(buf, len, "%s/.local/state/spsc", home);
	else {
		errno = ENOENT;
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return create ? make_dirs(buf) : 0;
}

int coord_default_url(char *buf, size_t len)
{
	const char *env = getenv("SPSC_COORD");
	char home[4096];
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if (spsc_home(home, sizeof home, 0) < 0)
		return -1;
	else
		n = snprintf(buf, len, "unix://%s/coord.unix", home);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* How long a client retries a coordinator (or NATS server) that does not
 * answer before it fails: $SPSC_CONNECT_TIMEOUT, default 30s. */
int64_t coord_connect_timeout(void)
{
	const char *env = getenv("SPSC_CONNECT_TIMEOUT");
	int64_t ns;

	if (env && parse_duration(env, &ns) == 0)
		return ns;
	return 30 * NS_PER_SEC;
}
