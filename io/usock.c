/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "base.h"
#include "usock.h"

static int addr_of(const char *path, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

int usock_listen(const char *path, int backlog, mode_t mode)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	socklen_t len;
	int r = addr_of(path, &sa, &len);

	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0)
		return -errno;
	if (listen(fd, backlog) < 0 || chmod(path, mode) < 0) {
		r = -errno;
		(void)unlink(path);
		return r;
	}
	return TAKE_FD(fd);
}

int usock_probe(const char *path, int timeout_ms)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	struct pollfd p;
	socklen_t len, elen = sizeof(int);
	int r = addr_of(path, &sa, &len), err = 0;

	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, len) == 0)
		return 0;
	/* EAGAIN: the backlog is full, so a listener exists (a busy shim is alive, never
	 * stolen). Unix sockets answer at once otherwise; EINPROGRESS is waited for anyway. */
	if (errno == EAGAIN)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		return -errno;
	return err ? -err : 0;
}
