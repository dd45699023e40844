/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Console sockets (docs/v1-protocol.md §3.16): a private 0700 directory in $XDG_RUNTIME_DIR,
 * $TMPDIR or /tmp with a listening socket pty.sock; the runtime connects and passes the pty master
 * with SCM_RIGHTS, which is received with MSG_CMSG_CLOEXEC and checked to be a terminal.
 */
#pragma once

#include <stddef.h>
#include <sys/un.h>

/* The socket's path must fit sun_path, and so must its directory: no more room is kept (the
 * struct lives on the stacks of the worker threads). */
#define CONSOLE_SOCKET_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

struct console_socket {
	int fd;
	char dir[CONSOLE_SOCKET_PATH_MAX];
	char path[CONSOLE_SOCKET_PATH_MAX];
};

int console_socket_new(struct console_socket *cs);
/* Accepts the runtime's connection and receives the master (waits at most timeout_ms). */
int console_socket_recv(struct console_socket *cs, int timeout_ms, int *ret_master);
void console_socket_close(struct console_socket *cs);
/* TIOCSWINSZ: rows = height, cols = width (16 bits each). */
int pty_resize(int master, unsigned width, unsigned height);
/* The directory for temporary files of the runtime: $XDG_RUNTIME_DIR, $TMPDIR or /tmp. */
const char *pty_temp_dir(void);
