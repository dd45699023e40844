/* SPDX-License-Identifier: Apache-2.0 */
/* Unix stream sockets by path: listen, and a connect with a deadline (a liveness probe). */
#pragma once

#include <sys/types.h>

/* socket + bind(path) + listen(backlog) + chmod(path, mode). The fd is CLOEXEC and blocking.
 * Returns the fd or -errno (-EADDRINUSE when path exists, -ENAMETOOLONG for a long path). */
int usock_listen(const char *path, int backlog, mode_t mode);
/* Whether something accepts connections on path within timeout_ms: 0 yes, else -errno
 * (-ECONNREFUSED for a socket file without a listener, -ETIMEDOUT, -ENOENT ...). */
int usock_probe(const char *path, int timeout_ms);
