/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Console sockets (spec §3.16): a private 0700 directory in $XDG_RUNTIME_DIR, $TMPDIR or /tmp
 * with a listening socket pty.sock; the runtime connects and passes the pty master with
 * SCM_RIGHTS, which is received with MSG_CMSG_CLOEXEC and checked to be a terminal.
 */
#pragma once

#include <stddef.h>

struct console_socket {
	int fd;
	char dir[4096];
	char path[4200];
};

int console_socket_new(struct console_socket *cs);
/* Accepts the runtime's connection and receives the master (waits at most timeout_ms). */
int console_socket_recv(struct console_socket *cs, int timeout_ms, int *ret_master);
void console_socket_close(struct console_socket *cs);
/* TIOCSWINSZ: rows = height, cols = width (16 bits each). */
int pty_resize(int master, unsigned width, unsigned height);
/* The directory for temporary files of the runtime: $XDG_RUNTIME_DIR, $TMPDIR or /tmp. */
const char *pty_temp_dir(void);
