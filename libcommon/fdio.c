#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include "fdio.h"

/* Bigger pipes mean fewer context switches between stages; 1 MiB is the
 * default unprivileged ceiling (/proc/sys/fs/pipe-max-size). */
#define PIPE_WANT (1 << 20)

ssize_t fd_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Reads until len bytes or EOF; *got says how many arrived. */
int fd_read_full(int fd, void *buf, size_t len, size_t *got)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = fd_read(fd, p + done, len - done);
		if (n < 0) {
			*got = done;
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return 0;
}

int fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Skips the iovecs that went out whole and trims the one cut short. */
static void skip_written(struct iovec **iovp, int *iovcnt, size_t n)
{
	struct iovec *iov = *iovp;

	while (*iovcnt > 0 && n >= iov->iov_len) {
		n -= iov->iov_len;
		iov++;
		(*iovcnt)--;
	}
	if (*iovcnt > 0) {
		iov->iov_base = (char *)iov->iov_base + n;
		iov->iov_len -= n;
	}
	*iovp = iov;
}

int fd_writev_all(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		int cnt = iovcnt < IOV_MAX ? iovcnt : IOV_MAX;
		ssize_t n = writev(fd, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		skip_written(&iov, &iovcnt, (size_t)n);
	}
	return 0;
}

/* fd_writev_all at offset off, for a file written where its data ends
 * rather than at its end. */
int fd_pwritev_all(int fd, struct iovec *iov, int iovcnt, off_t off)
{
	while (iovcnt > 0) {
		int cnt = iovcnt < IOV_MAX ? iovcnt : IOV_MAX;
		ssize_t n = pwritev(fd, iov, cnt, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += n;
		skip_written(&iov, &iovcnt, (size_t)n);
	}
	return 0;
}

int fd_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

int fd_set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

/* Syncs a directory, so that the names made, renamed or removed in it
 * outlive a crash, not only the files' contents.  -1 with errno. */
int fd_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc, saved;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	if (close(fd) < 0 && rc == 0)
		return -1;
	errno = saved;
	return rc;
}

/* Best effort: not every fd is a pipe, and the limit may be lower. */
void fd_grow_pipe(int fd)
{
	if (fcntl(fd, F_GETPIPE_SZ) >= PIPE_WANT)
		return;
	(void)fcntl(fd, F_SETPIPE_SZ, PIPE_WANT);
}

/* A closed reader must surface as EPIPE from write(), which every program
 * handles, rather than as a signal that kills the stage mid-atom. */
void fd_ignore_sigpipe(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGPIPE, &sa, NULL);
}
