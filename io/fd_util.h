/* SPDX-License-Identifier: Apache-2.0 */
/* fd helpers: flags, whole reads and writes (EINTR retried; EAGAIN returned), small files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int fd_set_nonblock(int fd, bool on);
int fd_set_cloexec(int fd, bool on);
/* Writes all of buf to a blocking fd. Returns 0 or -errno. */
int fd_write_all(int fd, const void *buf, size_t len);
/* Reads a whole (small) file into a NUL-terminated heap buffer. Returns 0 or -errno. */
int fd_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);
/* Reads until EOF from fd into a heap buffer (at most max bytes kept). */
int fd_read_all(int fd, size_t max, char **ret_buf, size_t *ret_len);
/* Opens /dev/null with the given flags, O_CLOEXEC. */
int fd_open_devnull(int flags);
