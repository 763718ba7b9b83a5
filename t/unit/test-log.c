/*
 * log: the exact line format "prog[pid]: level: message", the level
 * threshold from $SPSC_LOG, one line however long the message, nothing on
 * stdout, and die()'s exit status.  stderr is captured through a pipe.
 * With stderr the journal's stream (JOURNAL_STREAM), "<N>level: message".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "tap.h"

static char captured[16384];

/* Runs fn with stderr (and, to prove it stays empty, stdout) on pipes and
 * leaves what reached stderr in captured.  Returns the stdout byte count. */
static size_t capture(void (*fn)(void))
{
	int err[2], out[2], saved_err, saved_out;
	size_t got = 0, outgot = 0;
	char outbuf[256];

	fflush(stdout);
	if (pipe(err) < 0 || pipe(out) < 0)
		exit(99);
	saved_err = dup(STDERR_FILENO);
	saved_out = dup(STDOUT_FILENO);
	dup2(err[1], STDERR_FILENO);
	dup2(out[1], STDOUT_FILENO);
	close(err[1]);
	close(out[1]);
	fn();
	fflush(stdout);
	dup2(saved_err, STDERR_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	close(saved_err);
	close(saved_out);
	(void)fd_read_full(err[0], captured, sizeof captured - 1, &got);
	captured[got] = '\0';
	(void)fd_read_full(out[0], outbuf, sizeof outbuf, &outgot);
	close(err[0]);
	close(out[0]);
	return outgot;
}

static char expect[256];

static const char *line(const char *level, const char *msg)
{
	snprintf(expect, sizeof expect, "tool[%ld]: %s: %s\n", (long)getpid(),
		 level, msg);
	return expect;
}

static void log_levels(void)
{
	log_error("cannot open %s: %s", "x.atoms", "No such file");
	log_warn("%d atoms dead-lettered", 3);
	log_info("done");
	log_debug("hidden by default");
}

static void log_one_debug(void)
{
	log_debug("now visible");
	log_info("info too");
}

static void log_quietly(void)
{
	log_info("not shown");
	log_warn("still shown");
}

static void log_long(void)
{
	static char big[10000];

	memset(big, 'x', sizeof big - 1);
	log_error("%s", big);
	log_error("after");
}

static void test_format(void)
{
	char want[1024];

	unsetenv("SPSC_LOG");
	log_init("/usr/local/bin/tool");
	ok(strcmp(log_prog, "tool") == 0, "the program name loses its directory");
	ok(capture(log_levels) == 0, "nothing reaches stdout");
	snprintf(want, sizeof want, "%s", line("error", "cannot open x.atoms: No such file"));
	strcat(want, line("warning", "3 atoms dead-lettered"));
	strcat(want, line("info", "done"));
	ok(strcmp(captured, want) == 0,
	   "error, warning, info lines; debug hidden by default");
	if (strcmp(captured, want) != 0)
		printf("# got:\n%s# wanted:\n%s", captured, want);
}

static void test_threshold(void)
{
	char want[512];

	setenv("SPSC_LOG", "debug", 1);
	log_init("tool");
	capture(log_one_debug);
	snprintf(want, sizeof want, "%s", line("debug", "now visible"));
	strcat(want, line("info", "info too"));
	ok(strcmp(captured, want) == 0, "SPSC_LOG=debug shows debug lines");

	setenv("SPSC_LOG", "quiet", 1);
	log_init("tool");
	capture(log_quietly);
	ok(strcmp(captured, line("warning", "still shown")) == 0,
	   "SPSC_LOG=quiet hides info but not warnings");
	unsetenv("SPSC_LOG");
	log_threshold = LOG_INFO;
}

static void test_long_message(void)
{
	char *nl;

	log_init("tool");
	capture(log_long);
	nl = strchr(captured, '\n');
	ok(nl != NULL && nl - captured < 4096 && nl[-1] == 'x',
	   "a long message is cut to one line under 4 KiB");
	ok(nl != NULL && strcmp(nl + 1, line("error", "after")) == 0,
	   "and the next message starts on its own line");
}

static void test_die(void)
{
	int out[2], status = 0;
	size_t got = 0;
	pid_t pid;
	char want[256];

	fflush(stdout);
	if (pipe(out) < 0)
		return;
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		dup2(out[1], STDERR_FILENO);
		log_init("dier");
		die(7, "fatal: %s", "disk full");
	}
	close(out[1]);
	(void)fd_read_full(out[0], captured, sizeof captured - 1, &got);
	captured[got] = '\0';
	close(out[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 7,
	   "die exits with the given status");
	snprintf(want, sizeof want, "dier[%ld]: error: fatal: disk full\n",
		 (long)pid);
	ok(strcmp(captured, want) == 0, "die logs an error line with the child's pid");
}

/* Logs log_levels() with stderr on a file and JOURNAL_STREAM set to what
 * fmt makes of the file's device and inode; leaves the lines in captured. */
static void log_to_file(const char *fmt, long long bump)
{
	char path[] = "/tmp/test-log.XXXXXX", env[64];
	int fd = mkstemp(path), saved;
	struct stat st;
	ssize_t got;

	if (fd < 0 || fstat(fd, &st) < 0)
		exit(99);
	(void)unlink(path);
	snprintf(env, sizeof env, fmt, (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (unsigned long long)bump);
	setenv("JOURNAL_STREAM", env, 1);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	log_init("tool");
	log_levels();
	dup2(saved, STDERR_FILENO);
	close(saved);
	got = pread(fd, captured, sizeof captured - 1, 0);
	captured[got > 0 ? got : 0] = '\0';
	close(fd);
	unsetenv("JOURNAL_STREAM");
	log_init("tool");
}

static void test_journal(void)
{
	char want[1024], prefix[64];
	const char *bad[] = { "%llu:%llu:", "%llu:%llux", "%llu:", "%llu:+%llu",
			      " %llu:%llu", "%llu;%llu" };

	log_to_file("%llu:%llu", 0);
	ok(strcmp(captured, "<3>error: cannot open x.atoms: No such file\n"
			    "<4>warning: 3 atoms dead-lettered\n"
			    "<6>info: done\n") == 0,
	   "stderr is the journal: <priority>level: message");
	if (strncmp(captured, "<3>", 3) != 0)
		printf("# got:\n%s", captured);

	snprintf(want, sizeof want, "%s", line("error", "cannot open x.atoms: No such file"));
	strcat(want, line("warning", "3 atoms dead-lettered"));
	strcat(want, line("info", "done"));
	log_to_file("%llu:%llu", 1);
	ok(strcmp(captured, want) == 0, "another inode: the usual format");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		log_to_file(bad[i], 0);
		ok(strcmp(captured, want) == 0, "JOURNAL_STREAM=\"%s\": the usual format",
		   bad[i]);
	}

	ok(log_prefix(prefix, sizeof prefix, LOG_INFO, "stats") ==
		   strlen(line("stats", "")) - 1 &&
		   strncmp(prefix, line("stats", ""), strlen(prefix)) == 0,
	   "log_prefix: prog[pid]: tag: ");
	ok(log_prefix(prefix, 5, LOG_INFO, "stats") == 4 && strlen(prefix) == 4,
	   "log_prefix is cut to fit");
}

int main(void)
{
	test_format();
	test_threshold();
	test_long_message();
	test_die();
	test_journal();
	return tap_done();
}
