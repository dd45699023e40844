/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base.h"
#include "pty.h"

const char *pty_temp_dir(void)
{
	const char *d = getenv("XDG_RUNTIME_DIR");
	if (!d || !*d)
		d = getenv("TMPDIR");
	if (!d || !*d)
		d = "/tmp";
	return d;
}

int console_socket_new(struct console_socket *cs)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	cs->fd = -1;
	cs->dir[0] = cs->path[0] = '\0';
	/* DIR/ptyXXXXXX/pty.sock must fit sun_path (and then dir fits too). */
	if (strlen(pty_temp_dir()) + sizeof("/ptyXXXXXX/pty.sock") > sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(cs->dir, sizeof(cs->dir), "%s/ptyXXXXXX", pty_temp_dir());
	if (!mkdtemp(cs->dir)) /* mode 0700 */
		return -errno;
	strcpy(stpcpy(cs->path, cs->dir), "/pty.sock"); /* fits: checked above */
	strcpy(sa.sun_path, cs->path);
	cs->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cs->fd < 0)
		goto fail;
	if (bind(cs->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(cs->fd, 1) < 0)
		goto fail;
	if (getenv("XDG_RUNTIME_DIR") && *getenv("XDG_RUNTIME_DIR"))
		(void)chmod(cs->path, 0755 | S_ISVTX);
	return 0;
fail:
	r = -errno;
	console_socket_close(cs);
	return r;
}

int console_socket_recv(struct console_socket *cs, int timeout_ms, int *ret_master)
{
	char name[4096];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct pollfd pfd = { .fd = cs->fd, .events = POLLIN };
	struct cmsghdr *c;
	struct termios tio;
	int conn, master = -1, n;
	ssize_t k;

	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ETIMEDOUT;
	if (n < 0)
		return -errno;
	conn = accept4(cs->fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return -errno;
	pfd.fd = conn;
	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		close(conn);
		return n == 0 ? -ETIMEDOUT : -errno;
	}
	do {
		k = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	} while (k < 0 && errno == EINTR);
	close(conn);
	if (k < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		int nfds;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < nfds; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (master < 0 && i == 0)
				master = fd;
			else
				close(fd); /* exactly one fd is expected */
		}
	}
	if (master < 0)
		return -EBADMSG;
	if (tcgetattr(master, &tio) < 0) {
		close(master);
		return -ENOTTY;
	}
	*ret_master = master;
	return 0;
}

void console_socket_close(struct console_socket *cs)
{
	cs->fd = safe_close(cs->fd);
	if (cs->path[0])
		(void)unlink(cs->path);
	if (cs->dir[0])
		(void)rmdir(cs->dir);
	cs->path[0] = cs->dir[0] = '\0';
}

int pty_resize(int master, unsigned width, unsigned height)
{
	struct winsize ws = { .ws_row = (unsigned short)height, .ws_col = (unsigned short)width };
	if (ioctl(master, TIOCSWINSZ, &ws) < 0)
		return -errno;
	return 0;
}
