/*
 * fdio: the loops that make short writes, EINTR and EPIPE invisible to
 * callers.  A pipe shrunk to one page and a timer signal that interrupts
 * blocked writes every few hundred microseconds force the partial results
 * that fd_write_all and fd_writev_all exist to hide.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "tap.h"

#define TOTAL (4 << 20)
#define MAX_IOV 16384

static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
}

/* Every 300us a SIGALRM whose handler does not restart system calls: a
 * blocked read or write returns early, with EINTR or a short count. */
static void interrupt_often(int on)
{
	struct sigaction sa = { .sa_handler = on_tick };
	struct itimerval it = { { 0, on ? 300 : 0 }, { 0, on ? 300 : 0 } };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 131 + i / 4099);
}

/* The reading side, in a child: reads the pipe to EOF in small pieces
 * under the same signal storm and exits 0 only if every byte is right. */
static _Noreturn void check_reader(int fd, size_t total)
{
	unsigned char buf[777];
	size_t at = 0, got;
	int good = 1;

	interrupt_often(1);
	for (;;) {
		if (fd_read_full(fd, buf, sizeof buf, &got) < 0)
			_exit(3);
		for (size_t i = 0; i < got; i++)
			good &= buf[i] == pattern(at + i);
		at += got;
		if (got < sizeof buf)
			break;
	}
	_exit(good && at == total ? 0 : 1);
}

/* Runs writer(fd) against a checking reader through a one-page pipe.
 * Returns the reader's exit status, or -1 if the writer failed. */
static int through_small_pipe(int (*writer)(int fd))
{
	int fds[2], status = -1, rc;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	(void)fcntl(fds[1], F_SETPIPE_SZ, 4096);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fds[1]);
		check_reader(fds[0], TOTAL);
	}
	close(fds[0]);
	ticks = 0;
	interrupt_often(1);
	rc = writer(fds[1]);
	interrupt_often(0);
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int write_all_at_once(int fd)
{
	unsigned char *buf = malloc(TOTAL);
	int rc;

	if (buf == NULL)
		return -1;
	for (size_t i = 0; i < TOTAL; i++)
		buf[i] = pattern(i);
	rc = fd_write_all(fd, buf, TOTAL);
	free(buf);
	return rc;
}

/* Thousands of iovecs (more than IOV_MAX) of uneven sizes, some empty, so
 * that writes stop mid-iovec and the loop must trim and batch. */
static int write_many_iovecs(int fd)
{
	unsigned char *buf = malloc(TOTAL);
	struct iovec *iov = calloc(MAX_IOV, sizeof *iov);
	size_t at = 0;
	int n = 0, rc;

	if (buf == NULL || iov == NULL) {
		free(buf);
		free(iov);
		return -1;
	}
	for (size_t i = 0; i < TOTAL; i++)
		buf[i] = pattern(i);
	while (at < TOTAL && n < MAX_IOV) {
		size_t len = (size_t)(n * 7919) % 2000;
		if (len > TOTAL - at)
			len = TOTAL - at;
		iov[n].iov_base = buf + at;
		iov[n].iov_len = len;
		at += len;
		n++;
	}
	rc = at == TOTAL && n > 3 * IOV_MAX ? fd_writev_all(fd, iov, n) : -1;
	free(buf);
	free(iov);
	return rc;
}

static void test_short_writes(void)
{
	ok(through_small_pipe(write_all_at_once) == 0,
	   "fd_write_all: 4 MiB through a one-page pipe arrive intact");
	ok(ticks > 10, "the writer was interrupted (%d signals)", (int)ticks);
	ok(through_small_pipe(write_many_iovecs) == 0,
	   "fd_writev_all: thousands of iovecs arrive intact and in order");
	ok(ticks > 10, "the writev was interrupted (%d signals)", (int)ticks);
}

static void test_epipe(void)
{
	struct iovec iov[2] = { { "abc", 3 }, { "def", 3 } };
	int fds[2], rc, e;

	fd_ignore_sigpipe();
	if (pipe(fds) < 0)
		return;
	close(fds[0]);
	errno = 0;
	rc = fd_write_all(fds[1], "x", 1);
	e = errno;
	ok(rc < 0 && e == EPIPE, "a closed reader is EPIPE, not a signal");
	errno = 0;
	rc = fd_writev_all(fds[1], iov, 2);
	e = errno;
	ok(rc < 0 && e == EPIPE, "fd_writev_all reports EPIPE too");
	close(fds[1]);
	ok(fd_write_all(-1, "x", 1) < 0 && errno == EBADF,
	   "a bad fd is an error");
}

static void test_reads(void)
{
	char buf[64];
	size_t got = 99;
	int fds[2];

	if (pipe(fds) < 0)
		return;
	ok(fd_write_all(fds[1], "hello", 5) == 0, "five bytes written");
	close(fds[1]);
	ok(fd_read_full(fds[0], buf, sizeof buf, &got) == 0 && got == 5 &&
		   memcmp(buf, "hello", 5) == 0,
	   "fd_read_full stops at EOF and says how much arrived");
	ok(fd_read(fds[0], buf, sizeof buf) == 0, "then fd_read sees EOF");
	close(fds[0]);
	ok(fd_read_full(-1, buf, 1, &got) < 0 && got == 0,
	   "a read error reports what arrived before it");
}

static void test_writev_edges(void)
{
	struct iovec none[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	struct iovec mixed[4] = { { "", 0 }, { "ab", 2 }, { "", 0 }, { "c", 1 } };
	char buf[8];
	size_t got;
	int fds[2];

	if (pipe(fds) < 0)
		return;
	ok(fd_writev_all(fds[1], none, 0) == 0, "zero iovecs");
	ok(fd_writev_all(fds[1], none, 3) == 0, "only empty iovecs");
	ok(fd_writev_all(fds[1], mixed, 4) == 0, "empty iovecs between data");
	close(fds[1]);
	ok(fd_read_full(fds[0], buf, sizeof buf, &got) == 0 && got == 3 &&
		   memcmp(buf, "abc", 3) == 0,
	   "exactly the data went out");
	close(fds[0]);
}

static void test_flags(void)
{
	int fds[2], before, after;

	if (pipe(fds) < 0)
		return;
	ok(fd_set_cloexec(fds[0]) == 0 &&
		   (fcntl(fds[0], F_GETFD) & FD_CLOEXEC),
	   "fd_set_cloexec sets FD_CLOEXEC");
	ok(fd_set_nonblock(fds[0], 1) == 0 &&
		   (fcntl(fds[0], F_GETFL) & O_NONBLOCK),
	   "fd_set_nonblock on");
	ok(fd_read(fds[0], &before, 1) < 0 && errno == EAGAIN,
	   "a non-blocking empty pipe says EAGAIN");
	ok(fd_set_nonblock(fds[0], 0) == 0 &&
		   !(fcntl(fds[0], F_GETFL) & O_NONBLOCK),
	   "fd_set_nonblock off");
	ok(fd_set_cloexec(-1) < 0 && fd_set_nonblock(-1, 1) < 0,
	   "bad fds are errors");
	(void)fcntl(fds[1], F_SETPIPE_SZ, 4096);
	before = fcntl(fds[1], F_GETPIPE_SZ);
	fd_grow_pipe(fds[1]);
	after = fcntl(fds[1], F_GETPIPE_SZ);
	ok(after > before, "fd_grow_pipe enlarges a pipe (%d -> %d)", before,
	   after);
	fd_grow_pipe(STDERR_FILENO);
	fd_grow_pipe(-1);
	ok(1, "fd_grow_pipe on a non-pipe or a bad fd is harmless");
	close(fds[0]);
	close(fds[1]);
}

/* pwritev lands where it is told, over the old bytes, whatever the file's
 * length: how spsc-coord writes into a segment file used again. */
static void test_pwritev(void)
{
	char tmpl[] = "/tmp/test-fdio.XXXXXX", got[32];
	struct iovec iov[3] = { { "new", 3 }, { "", 0 }, { "BYTES", 5 } };
	int fd = mkstemp(tmpl);

	ok(fd >= 0 && fd_write_all(fd, "0123456789abcdefghij", 20) == 0,
	   "a file of 20 old bytes");
	ok(fd_pwritev_all(fd, iov, 3, 4) == 0, "fd_pwritev_all at byte 4");
	ok(pread(fd, got, sizeof got, 0) == 20 &&
		   memcmp(got, "0123newBYTEScdefghij", 20) == 0,
	   "the bytes went over the old ones, the length stayed 20");
	ok(fd_pwritev_all(-1, iov, 3, 0) < 0 && errno == EBADF,
	   "a bad fd is an error");
	if (fd >= 0)
		close(fd);
	unlink(tmpl);
}

/* A directory is synced by name; what cannot be opened is an error that
 * says why, not a silent success. */
static void test_sync_dir(void)
{
	char tmpl[] = "/tmp/test-fdio.XXXXXX", file[64];
	char *dir = mkdtemp(tmpl);
	int fd;

	ok(dir && fd_sync_dir(dir) == 0, "fd_sync_dir syncs a directory");
	ok(fd_sync_dir("/nonexistent/test-fdio") < 0 && errno == ENOENT,
	   "a missing directory is ENOENT");
	snprintf(file, sizeof file, "%s/f", tmpl);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ok(fd >= 0 && close(fd) == 0 && fd_sync_dir(file) < 0 &&
		   errno == ENOTDIR,
	   "a file is ENOTDIR");
	unlink(file);
	if (dir)
		rmdir(dir);
}

int main(void)
{
	test_short_writes();
	test_epipe();
	test_reads();
	test_writev_edges();
	test_pwritev();
	test_flags();
	test_sync_dir();
	return tap_done();
}
