/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pathcheck.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define REMOVE_MAX_DEPTH 64

static int check_syntax(const char *p, size_t len, bool absolute, const char **why)
{
	size_t n = strlen(p);
	const char *s, *unclean = absolute ? "must be an absolute, clean path"
					   : "must be a relative, clean path";

	if (n == 0 && len == 0) {
		*why = "must not be empty";
		return -EINVAL;
	}
	if (len != n) {
		*why = "must not contain NUL or control characters";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f) {
			*why = "must not contain NUL or control characters";
			return -EINVAL;
		}
	}
	if (n >= PATH_MAX) {
		*why = "is longer than PATH_MAX";
		return -ENAMETOOLONG;
	}
	if ((p[0] == '/') != absolute) {
		*why = unclean;
		return -EINVAL;
	}
	/* Components between slashes: none may be empty ("//"), "." or "..", except one empty
	 * component at the very end (a trailing slash). */
	s = absolute ? p + 1 : p;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t k = e ? (size_t)(e - s) : strlen(s);
		if (k == 0 || (k == 1 && s[0] == '.') || (k == 2 && s[0] == '.' && s[1] == '.')) {
			*why = unclean;
			return -EINVAL;
		}
		if (!e)
			break;
		s = e + 1;
	}
	return 0;
}

int path_check_abs(const char *p, size_t len, const char **why)
{
	return check_syntax(p, len, true, why);
}

int path_check_rel(const char *p, size_t len, const char **why)
{
	return check_syntax(p, len, false, why);
}

/* -ELOOP when dfd/name is a symlink (to classify an ENOTDIR/ELOOP failure), else r. */
static int symlink_or(int dfd, const char *name, int r)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return -ELOOP;
	return r;
}

int path_open_walk(const char *path, int flags, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	char *s;
	int dfd, fd;

	if (n == 0 || path[0] != '/')
		return -EINVAL;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	if (n == 1) {
		fd = open("/", flags | O_CLOEXEC, mode);
		return fd < 0 ? -errno : fd;
	}
	dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	s = buf + 1;
	for (;;) {
		char *slash = strchr(s, '/');
		struct stat st;
		int nfd;

		if (slash)
			*slash = '\0';
		if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
			close(dfd);
			return -EINVAL;
		}
		if (!slash) {
			fd = openat(dfd, s, flags | O_NOFOLLOW | O_CLOEXEC, mode);
			if (fd < 0) {
				int r = -errno;
				if (r == -ENOTDIR || r == -ELOOP)
					r = symlink_or(dfd, s, r);
				close(dfd);
				return r;
			}
			/* O_PATH | O_NOFOLLOW opens a symlink itself instead of failing */
			if ((flags & O_PATH) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
				close(fd);
				close(dfd);
				return -ELOOP;
			}
			close(dfd);
			return fd;
		}
		nfd = openat(dfd, s, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		if (nfd < 0)
			return -errno;
		if (fstat(nfd, &st) < 0) {
			int r = -errno;
			close(nfd);
			return r;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(nfd);
			return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
		}
		dfd = nfd;
		s = slash + 1;
	}
}

int path_open_nofollow(const char *path, int flags, mode_t mode)
{
	static atomic_bool no_openat2;
	struct open_how how = {
		.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	if (path[0] != '/')
		return -EINVAL;
	if (!atomic_load_explicit(&no_openat2, memory_order_relaxed)) {
		for (int tries = 0; tries < 8; tries++) {
			long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
			if (fd >= 0)
				return (int)fd;
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno != ENOSYS && errno != EPERM)
				return -errno;
			/* no openat2 (kernel < 5.6) or a seccomp filter refusing it: the walk
			 * gives the same answers with one syscall per component */
			if (errno == ENOSYS)
				atomic_store_explicit(&no_openat2, true, memory_order_relaxed);
			break;
		}
	}
	return path_open_walk(path, flags, mode);
}

static const char *reason(int r)
{
	switch (r) {
	case -ELOOP: return "has a symlink component";
	case -ENOTDIR: return "is not a directory";
	case -ENOENT: return "does not exist";
	case -ENAMETOOLONG: /* the whole length was checked before */
		return "has a component longer than NAME_MAX";
	default: return NULL;
	}
}

int path_check_dir(const char *path, bool may_create, const char **why)
{
	char parent[PATH_MAX];
	const char *leaf;
	struct stat st;
	size_t n = strlen(path);
	char *slash;
	int fd, r;

	*why = NULL;
	fd = path_open_nofollow(path, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (fd != -ENOENT || !may_create) {
		*why = reason(fd);
		return fd;
	}
	/* The leaf may be missing (the runtime makes it); its parent must be a directory
	 * reached without symlinks. */
	if (n >= sizeof(parent))
		return -ENAMETOOLONG;
	memcpy(parent, path, n + 1);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	slash = strrchr(parent, '/');
	if (!slash || n == 1) {
		*why = reason(-ENOENT);
		return -ENOENT;
	}
	leaf = path + (slash - parent) + 1;
	if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	fd = path_open_nofollow(parent, O_PATH | O_DIRECTORY, 0);
	if (fd < 0) {
		*why = fd == -ENOENT ? "does not exist, nor does its parent directory" : reason(fd);
		return fd;
	}
	{ /* the leaf, without the trailing slash the path may have */
		char name[NAME_MAX + 2];
		size_t k = strcspn(leaf, "/");
		if (k > NAME_MAX) {
			close(fd);
			*why = reason(-ENAMETOOLONG);
			return -ENAMETOOLONG;
		}
		memcpy(name, leaf, k);
		name[k] = '\0';
		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			r = S_ISLNK(st.st_mode) ? -ELOOP : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
		else
			r = errno == ENOENT ? 0 : -errno;
	}
	close(fd);
	if (r < 0)
		*why = reason(r);
	return r;
}

static int remove_at(int dfd, const char *name, int depth)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (depth >= REMOVE_MAX_DEPTH)
		return -ELOOP;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* replaced by a symlink or a file since the fstatat: unlink that, never follow */
		if (errno == ELOOP || errno == ENOTDIR)
			return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
		return errno == ENOENT ? 0 : -errno;
	}
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((de = readdir(d))) {
		int k;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		k = remove_at(dirfd(d), de->d_name, depth + 1);
		if (k < 0 && r == 0)
			r = k;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

int path_remove_tree(const char *path)
{
	char parent[PATH_MAX];
	size_t n = strlen(path);
	char *slash;
	int dfd, r;

	if (n == 0 || n >= sizeof(parent))
		return -EINVAL;
	memcpy(parent, path, n + 1);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	slash = strrchr(parent, '/');
	if (!slash || !slash[1] || strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
		return -EINVAL;
	*slash = '\0';
	/* the directory holding the tree is the caller's (trusted); only the tree is not */
	dfd = open(slash == parent ? "/" : parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = remove_at(dfd, slash + 1, 0);
	close(dfd);
	return r;
}
