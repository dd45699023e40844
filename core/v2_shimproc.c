/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/base.h"
#include "io/fd_util.h"
#include "v2_shimproc.h"

int v2_oom_score_next(int parent)
{
	int v = parent + 1;
	return v < -1000 ? -1000 : v > 1000 ? 1000 : v;
}

int v2_oom_score_inherit(pid_t pid, pid_t parent)
{
	char path[64], val[16];
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	int r, n;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)parent);
	if ((r = fd_read_file(path, 64, &buf, &len)) < 0)
		return r;
	n = snprintf(val, sizeof(val), "%d", v2_oom_score_next(atoi(buf)));
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fd_write_all(fd, val, (size_t)n);
	return r == -EPERM || r == -EACCES ? 0 : r < 0 ? r : 0;
}

static int write_pid(const char *dir, pid_t pid)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	char val[16];
	int n = snprintf(val, sizeof(val), "%d", (int)pid);

	if (asprintf(&path, "%s/cgroup.procs", dir) < 0)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int w = fd_write_all(fd, val, (size_t)n);
	return w < 0 ? w : 0;
}

int v2_shim_cgroup_add(const char *cgroot, const char *path, pid_t pid)
{
	_cleanup_free_ char *probe = NULL;
	DIR *d;
	struct dirent *e;
	bool any = false;
	int r = 0;

	while (*path == '/')
		path++;
	if (asprintf(&probe, "%s/cgroup.controllers", cgroot) < 0)
		return -ENOMEM;
	if (access(probe, F_OK) == 0) {
		_cleanup_free_ char *dir = NULL;
		if (asprintf(&dir, "%s/%s", cgroot, path) < 0)
			return -ENOMEM;
		return write_pid(dir, pid);
	}
	d = opendir(cgroot);
	if (!d)
		return -errno;
	while ((e = readdir(d)) && r == 0) {
		_cleanup_free_ char *dir = NULL;
		struct stat st;
		if (e->d_name[0] == '.' || strcmp(e->d_name, "unified") == 0)
			continue; /* the hybrid mode's cgroup2 mount is not a v1 hierarchy */
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue; /* "cpu" -> "cpu,cpuacct": the same hierarchy once */
		if (asprintf(&dir, "%s/%s/%s", cgroot, e->d_name, path) < 0) {
			r = -ENOMEM;
			break;
		}
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		any = true;
		r = write_pid(dir, pid);
	}
	closedir(d);
	if (r < 0)
		return r;
	return any ? 0 : -ENOENT;
}
