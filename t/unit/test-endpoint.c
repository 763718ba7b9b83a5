/*
 * Endpoints: what a spec means, which queue names pass (a queue name is
 * also a file name in the coordinator's state directory, so this is the
 * path-traversal guard), files of frames written and read back, and the
 * stdin/stdout forms.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "endpoint.h"
#include "event.h"
#include "tap.h"

static char dir[] = "/tmp/spsc-test-endpoint.XXXXXX";

static int valid(const char *name)
{
	return queue_name_valid(name, strlen(name));
}

static void test_kinds(void)
{
	ok(endpoint_kind_of("-") == ENDPOINT_STDIO, "- is stdio");
	ok(endpoint_kind_of("./spool.atoms") == ENDPOINT_PATH, "./x is a path");
	ok(endpoint_kind_of("/abs/x") == ENDPOINT_PATH, "/abs is a path");
	ok(endpoint_kind_of("dir/x") == ENDPOINT_PATH, "a/b is a path");
	ok(endpoint_kind_of("raw") == ENDPOINT_QUEUE, "a bare name is a queue");
	ok(endpoint_kind_of("raw@tcp://10.0.0.5:7878") == ENDPOINT_QUEUE,
	   "QUEUE@URL is a queue even though the URL has slashes");
	ok(endpoint_kind_of("--") == ENDPOINT_QUEUE, "-- is not stdio");
}

static void test_queue_names(void)
{
	char name[QUEUE_NAME_MAX + 2];

	ok(valid("raw"), "a plain name");
	ok(valid("raw.0"), "a partition name");
	ok(valid("raw.dlq"), "a dead-letter name");
	ok(valid("A-z_0.9"), "every allowed character class");
	ok(!valid(""), "empty");
	ok(!valid("a b"), "a space");
	ok(!valid("a\tb"), "a tab");
	ok(!valid("a/b"), "a slash");
	ok(!valid("../etc/passwd"), "a traversal");
	ok(!valid("x/.."), "a trailing /..");
	ok(!valid("a\\b"), "a backslash");
	ok(!valid("a@b"), "an @ inside the name");
	ok(!valid("caf\xc3\xa9"), "non-ASCII");
	ok(!valid("a\nb"), "a newline");
	ok(!queue_name_valid("ab\0cd", 5), "an embedded NUL");
	memset(name, 'q', sizeof name);
	ok(queue_name_valid(name, QUEUE_NAME_MAX), "%d bytes is the limit",
	   QUEUE_NAME_MAX);
	ok(!queue_name_valid(name, QUEUE_NAME_MAX + 1), "%d bytes is too long",
	   QUEUE_NAME_MAX + 1);
	ok(!valid(".."), "'..' is not a queue name: it names a parent directory");
	ok(!valid("."), "'.' is not a queue name: it names a directory");
}

static int open_fails(const char *spec, int writing, const char *msg)
{
	struct endpoint ep;

	if (endpoint_open(&ep, spec, writing, NULL) == 0) {
		endpoint_close(&ep);
		printf("# '%s' opened\n", spec);
		return 0;
	}
	if (strstr(ep.err, msg) == NULL) {
		printf("# '%s': '%s' does not say '%s'\n", spec, ep.err, msg);
		return 0;
	}
	return 1;
}

/*
 * A valid queue name reaches the queue layer.  Until spsc-coord exists that
 * layer is one clear "not yet" message; once it does, opening succeeds
 * (connecting is lazy) and the endpoint must be a queue of that name.
 */
static int queue_reached(const char *spec, int writing, const char *name)
{
	struct endpoint ep;
	int rc;

	if (endpoint_open(&ep, spec, writing, NULL) < 0) {
		if (strstr(ep.err, "queue endpoints need spsc-coord, which this version does not include yet"))
			return 1;
		printf("# '%s': %s\n", spec, ep.err);
		return 0;
	}
	rc = ep.kind == ENDPOINT_QUEUE && strcmp(ep.name, name) == 0;
	endpoint_close(&ep);
	return rc;
}

static void test_open_errors(void)
{
	char path[256], long_name[QUEUE_NAME_MAX + 2];

	ok(queue_reached("raw", 0, "raw"),
	   "a queue name: a queue, or a clear not-supported-yet error");
	ok(queue_reached("raw", 1, "raw"), "the same when writing");
	ok(queue_reached("raw@tcp://127.0.0.1:7878", 0, "raw"),
	   "QUEUE@URL: the name before the @");
	ok(open_fails("bad name", 0, "bad name: not a valid endpoint"),
	   "a space in a queue name");
	ok(open_fails("x/..@tcp://h:1", 0, "not a valid endpoint"),
	   "a traversal in front of @");
	ok(open_fails("", 0, "not a valid endpoint"), "an empty spec");
	ok(open_fails("@tcp://h:1", 0, "not a valid endpoint"),
	   "an empty queue name before @");
	memset(long_name, 'q', QUEUE_NAME_MAX + 1);
	long_name[QUEUE_NAME_MAX + 1] = '\0';
	ok(open_fails(long_name, 0, "not a valid endpoint"),
	   "a queue name over %d bytes", QUEUE_NAME_MAX);
	snprintf(path, sizeof path, "%s/no-such-file", dir);
	ok(open_fails(path, 0, "no-such-file: cannot open: No such file"),
	   "a missing file names itself");
	snprintf(path, sizeof path, "%s/no-such-dir/x.atoms", dir);
	ok(open_fails(path, 1, "cannot open"), "a file in a missing directory");
	ok(open_fails(dir, 1, "Is a directory"), "a directory is not a file of frames");
}

static void make_atom(struct atom *a, int i, const char *text)
{
	atom_reset(a);
	atom_append(a, text, strlen(text));
	a->events = (uint32_t)event_count(text, strlen(text));
	a->id = atomid_source("test", "endpoint", (uint64_t)i, 0, a->len);
	a->created_ns = 1000 + i;
	a->attempt = (uint32_t)i;
}

static int atom_matches(const struct atom *a, int i, const char *text)
{
	struct atom_id id = atomid_source("test", "endpoint", (uint64_t)i, 0,
					  strlen(text));

	return a->len == strlen(text) && memcmp(a->data, text, a->len) == 0 &&
	       atomid_equal(&a->id, &id) && a->created_ns == 1000 + i &&
	       a->attempt == (uint32_t)i;
}

static const char *texts[] = {
	"one\n",
	"two\nthree\n",
	"",
	("compressible compressible compressible compressible\n"
	 "compressible compressible compressible compressible\n"),
};

static int write_file(const char *path, int level, int first, int count)
{
	struct endpoint_opts o = { .level = level, .fsync = 1 };
	struct endpoint ep;
	struct atom a;
	int rc = 0;

	if (endpoint_open(&ep, path, 1, &o) < 0) {
		printf("# %s\n", ep.err);
		return -1;
	}
	atom_init(&a);
	for (int i = first; i < first + count; i++) {
		make_atom(&a, i, texts[i % 4]);
		if (endpoint_write(&ep, &a) < 0) {
			printf("# %s\n", ep.err);
			rc = -1;
		}
	}
	atom_free(&a);
	if (endpoint_close(&ep) < 0)
		rc = -1;
	return rc;
}

static int pending_after_first;

/* Reads every atom and checks it; returns how many matched, or -1. */
static int read_file(const char *path, size_t limit, char *err, size_t errlen)
{
	struct endpoint_opts o = { .limit = limit };
	struct endpoint ep;
	struct atom a;
	int n = 0, rc;

	if (endpoint_open(&ep, path, 0, &o) < 0) {
		snprintf(err, errlen, "%s", ep.err);
		return -1;
	}
	atom_init(&a);
	while ((rc = endpoint_read(&ep, &a)) == 1) {
		if (!atom_matches(&a, n, texts[n % 4]))
			break;
		if (n++ == 0)
			pending_after_first = endpoint_pending(&ep);
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s", ep.err);
		n = -1;
	}
	atom_free(&a);
	endpoint_close(&ep);
	return n;
}

static void test_file_round_trip(void)
{
	char path[256], err[600] = "";
	struct endpoint ep;
	struct stat st;
	int fd;

	snprintf(path, sizeof path, "%s/spool.atoms", dir);
	ok(write_file(path, 0, 0, 3) == 0, "three atoms written to a file");
	ok(write_file(path, 3, 3, 2) == 0, "two more appended, compressed");
	ok(read_file(path, 0, err, sizeof err) == 5,
	   "all five read back, in order, headers intact %s", err);
	ok(pending_after_first,
	   "a small file is read in one go: the rest is pending, not on the fd");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
	   "the file is created 0666 less the umask");

	ok(read_file(path, 16, err, sizeof err) == -1 &&
		   strstr(err, "spool.atoms: byte ") &&
		   strstr(err, "is over the size limit of 16 bytes"),
	   "a reader's size limit applies: %s", err);

	if (endpoint_open(&ep, path, 0, NULL) == 0) {
		fd = endpoint_fd(&ep);
		ok(fd > 2 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
		   "a file endpoint's fd is close-on-exec");
		endpoint_close(&ep);
	}
}

static void test_write_limit(void)
{
	struct endpoint_opts o = { .limit = 8 };
	struct endpoint ep;
	struct atom a;
	char path[256];

	snprintf(path, sizeof path, "%s/small.atoms", dir);
	atom_init(&a);
	make_atom(&a, 0, "more than eight bytes\n");
	if (endpoint_open(&ep, path, 1, &o) == 0) {
		ok(endpoint_write(&ep, &a) < 0 &&
			   strstr(ep.err, "small.atoms: cannot encode atom"),
		   "an atom over the limit is refused on write: %s", ep.err);
		endpoint_close(&ep);
	}
	atom_free(&a);
}

/* Puts fd in place of target (0 or 1) for the duration of fn. */
static int with_fd_as(int target, int fd, int (*fn)(void))
{
	int saved = dup(target), rc;

	fflush(stdout);
	if (saved < 0 || dup2(fd, target) < 0)
		return -1;
	rc = fn();
	fflush(stdout);
	dup2(saved, target);
	close(saved);
	return rc;
}

static int write_to_stdout(void)
{
	struct endpoint ep;
	struct atom a;
	int rc;

	if (endpoint_open(&ep, "-", 1, NULL) < 0)
		return -1;
	atom_init(&a);
	make_atom(&a, 1, texts[1]);
	rc = endpoint_write(&ep, &a);
	rc |= strcmp(ep.name, "stdout") != 0;
	atom_free(&a);
	endpoint_close(&ep);
	return rc;
}

static int read_from_stdin(void)
{
	struct endpoint ep;
	struct atom a;
	int rc;

	if (endpoint_open(&ep, "-", 0, NULL) < 0)
		return -1;
	atom_init(&a);
	rc = endpoint_read(&ep, &a) == 1 && atom_matches(&a, 1, texts[1]) &&
	     endpoint_read(&ep, &a) == 0 && strcmp(ep.name, "stdin") == 0;
	atom_free(&a);
	endpoint_close(&ep);
	return rc ? 0 : -1;
}

static void test_stdio(void)
{
	int fds[2];

	if (pipe(fds) < 0)
		return;
	ok(with_fd_as(STDOUT_FILENO, fds[1], write_to_stdout) == 0,
	   "\"-\" writes frames to stdout");
	close(fds[1]);
	ok(with_fd_as(STDIN_FILENO, fds[0], read_from_stdin) == 0,
	   "\"-\" reads them back from stdin, then EOF");
	ok(fcntl(fds[0], F_GETFD) >= 0, "closing a stdio endpoint leaves the fd open");
	close(fds[0]);
}

static void cleanup(void)
{
	char path[256];
	const char *files[] = { "spool.atoms", "small.atoms" };

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	umask(022);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_kinds();
	test_queue_names();
	test_open_errors();
	test_file_round_trip();
	test_write_limit();
	test_stdio();
	cleanup();
	return tap_done();
}
