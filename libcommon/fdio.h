/*
 * fdio: the read and write loops every program needs, written once.
 *
 * Every call retries on EINTR.  Writers loop over short writes so callers
 * never see a partial result: they either get 0 (everything written) or -1
 * with errno set (EPIPE included; SIGPIPE is ignored in every program).
 */
#ifndef SPSC_FDIO_H
#define SPSC_FDIO_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

ssize_t fd_read(int fd, void *buf, size_t len);
int fd_read_full(int fd, void *buf, size_t len, size_t *got);
int fd_write_all(int fd, const void *buf, size_t len);
int fd_writev_all(int fd, struct iovec *iov, int iovcnt);
int fd_pwritev_all(int fd, struct iovec *iov, int iovcnt, off_t off);
int fd_set_nonblock(int fd, int on);
int fd_set_cloexec(int fd);
int fd_sync_dir(const char *dir);
void fd_grow_pipe(int fd);
void fd_ignore_sigpipe(void);

#endif
