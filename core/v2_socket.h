/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The socket of a v2 shim group (docs/v2-launch.md, `start` 3, 5): its path, SOCKDIR/<sha256 hex of
 * filepath.Join(GRPC_ADDR, NS, GROUP)>, and binding it, or finding the group's shim alive.
 */
#pragma once

#include <stddef.h>

#define V2_SOCKET_DIR "/run/containerd/s"
/* How long a connect to an existing socket may take before its shim counts as dead (Go: 100 ms). */
#define V2_SOCKET_PROBE_MS 100

/* Writes "SOCKDIR/<hex>" into buf. Returns its length or -ENAMETOOLONG/-ENOMEM. Pure. */
int v2_socket_path(const char *sockdir, const char *grpc_addr, const char *ns, const char *group,
		   char *buf, size_t bufsz);

enum v2_socket_state { V2_SOCKET_NEW = 0, V2_SOCKET_LIVE = 1 };

/* mkdir -p the socket's directory (0700), bind + listen(4096) + chmod 0600. A path already in
 * use: if a connect to it succeeds within V2_SOCKET_PROBE_MS, returns V2_SOCKET_LIVE (no fd: the
 * group's shim serves it); else the stale file is unlinked and bound again. Returns
 * V2_SOCKET_NEW with *ret_fd (CLOEXEC, blocking) or -errno. */
int v2_socket_listen(const char *path, int *ret_fd);

/* The socket of a dead shim (docs/v2-launch.md, `delete` 5): unlinks path when it is a
 * socket file that nothing accepts on (connect refused). Returns 1 removed, 0 when it is
 * absent, alive or not a socket, or -errno. */
int v2_socket_remove_dead(const char *path);
