/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/base.h"
#include "io/pathjoin.h"
#include "io/usock.h"
#include "v2_socket.h"

int v2_socket_path(const char *sockdir, const char *grpc_addr, const char *ns, const char *group,
		   char *buf, size_t bufsz)
{
	const char *parts[] = { grpc_addr, ns, group };
	uint8_t digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;
	size_t len = 0;
	int n, r;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		len += strlen(parts[i]) + 1;
	_cleanup_free_ char *joined = malloc(len + 2);
	if (!joined)
		return -ENOMEM;
	r = path_join(parts, ARRAY_SIZE(parts), joined, len + 2);
	if (r < 0)
		return r;
	sha256_init(&ctx);
	sha256_update(&ctx, (size_t)r, (const uint8_t *)joined);
	sha256_digest(&ctx, sizeof(digest), digest);
	n = snprintf(buf, bufsz, "%s/", sockdir);
	if (n < 0 || (size_t)n + 2 * sizeof(digest) + 1 > bufsz)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < sizeof(digest); i++)
		n += snprintf(buf + n, bufsz - (size_t)n, "%02x", digest[i]);
	return n;
}

/* mkdir -p dir: each missing component 0700. */
static int mkdir_p(const char *dir)
{
	_cleanup_free_ char *p = strdup(dir);
	if (!p)
		return -ENOMEM;
	for (char *s = p + 1;; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = c;
		if (c == '\0')
			return 0;
	}
}

int v2_socket_listen(const char *path, int *ret_fd)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;
	int fd, r;

	*ret_fd = -1;
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if ((r = mkdir_p(dir)) < 0)
			return r;
	}
	fd = usock_listen(path, 4096, 0600);
	if (fd == -EADDRINUSE) {
		if (usock_probe(path, V2_SOCKET_PROBE_MS) == 0)
			return V2_SOCKET_LIVE;
		/* A dead shim's socket file (SIGKILL leaves it behind): take the name over. */
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
		fd = usock_listen(path, 4096, 0600);
	}
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return V2_SOCKET_NEW;
}

int v2_socket_remove_dead(const char *path)
{
	struct stat before, after;
	int r;

	if (lstat(path, &before) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(before.st_mode))
		return 0;
	r = usock_probe(path, V2_SOCKET_PROBE_MS);
	if (r != -ECONNREFUSED)
		return r == 0 || r == -ENOENT ? 0 : r;
	/* Only the file probed: a start that replaced it meanwhile made a new inode. */
	if (lstat(path, &after) < 0 || after.st_ino != before.st_ino ||
	    after.st_dev != before.st_dev)
		return 0;
	return unlink(path) < 0 ? (errno == ENOENT ? 0 : -errno) : 1;
}
