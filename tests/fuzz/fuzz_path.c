/* SPDX-License-Identifier: Apache-2.0 */
/* Path confinement (core/pathcheck.c) on a path from a client: the input after its first
 * byte, NULs and all (its length is the wire length). Invariants:
 *   - path_check_abs and path_check_rel accept exactly what a reference of the documented
 *     rules accepts (not empty, no NUL or control character, shorter than PATH_MAX, the right
 *     leading '/', no ".", ".." or empty component but one trailing '/');
 *   - a relative path they accept, joined to the root of a sandbox (directories, a file,
 *     symlinks out of it: to / and ../.., and within it), is a clean absolute path, and
 *     path_check_dir (first byte bit 0: may_create) accepts it exactly when an lstat walk from
 *     the root finds a directory at every component and no symlink (with may_create, the last
 *     component may be missing);
 *   - path_open_walk opens it exactly then too, and what it opened is inside the root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pathcheck.h"
#include "fuzz_check.h"
#include "fuzz_plant.h"

static char root[PATH_MAX];
static size_t root_len;

static void sandbox_remove(void)
{
	(void)path_remove_tree(root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char tmpl[] = "/tmp/cshim-fuzz-path.XXXXXX", p[PATH_MAX + 32];
	static const char *const dirs[] = { "d", "d/e", "d/e/g" };
	static const char *const links[][2] = {
		{ "s", "/" },  { "d/up", "../.." },   { "d/self", "." }, { "d/e/back", "../../d" },
		{ "ds", "d" }, { "d/e/abs", "/tmp" },
	};
	int fd;

	(void)argc;
	(void)argv;
	FUZZ_CHECK(mkdtemp(tmpl) && realpath(tmpl, root), "mkdtemp: %s", strerror(errno));
	root_len = strlen(root);
	atexit(sandbox_remove);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		FUZZ_CHECK(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, links[i][0]);
		FUZZ_CHECK(symlink(links[i][1], p) == 0, "symlink %s: %s", p, strerror(errno));
	}
	snprintf(p, sizeof(p), "%s/f", root);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	FUZZ_CHECK(fd >= 0, "create %s: %s", p, strerror(errno));
	close(fd);
	return 0;
}

/* The documented syntax, one component at a time over all len bytes. */
static bool ref_clean(const char *p, size_t len, bool absolute)
{
	size_t i;

	if (len == 0 || len >= PATH_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	if ((p[0] == '/') != absolute)
		return false;
	for (i = absolute ? 1 : 0;;) {
		size_t j = i;
		while (j < len && p[j] != '/')
			j++;
		if (j == i && j < len)
			return false; /* an empty component that is not the trailing one */
		if ((j - i == 1 && p[i] == '.') || (j - i == 2 && p[i] == '.' && p[i + 1] == '.'))
			return false;
		if (j == len)
			return true;
		i = j + 1;
	}
}

/* From the root, component by component: a directory (not a symlink) each time; with
 * may_create the last one may be missing. */
static bool ref_dir(const char *rel, bool may_create)
{
	char cur[PATH_MAX];
	const char *s = rel;

	memcpy(cur, root, root_len + 1);
	while (*s) {
		size_t k = strcspn(s, "/"), n = strlen(cur);
		bool last = s[k] == '\0' || s[k + 1] == '\0';
		struct stat st;

		if (n + 1 + k >= sizeof(cur))
			return false;
		cur[n] = '/';
		memcpy(cur + n + 1, s, k);
		cur[n + 1 + k] = '\0';
		if (lstat(cur, &st) < 0)
			return errno == ENOENT && may_create && last;
		if (!S_ISDIR(st.st_mode))
			return false;
		s += k;
		if (*s == '/')
			s++;
	}
	return true;
}

static void check_syntax(const char *p, size_t len)
{
	for (int abs = 0; abs < 2; abs++) {
		const char *why = NULL;
		int r = abs ? path_check_abs(p, len, &why) : path_check_rel(p, len, &why);
		bool want = ref_clean(p, len, abs);
		FUZZ_CHECK((r == 0) == want, "path_check_%s: %d (%s), reference %d",
			   abs ? "abs" : "rel", r, why ? why : "", want);
		FUZZ_CHECK(r == 0 || ((r == -EINVAL || r == -ENAMETOOLONG) && why),
			   "path_check_%s: %d without a reason", abs ? "abs" : "rel", r);
	}
}

static void check_resolution(const char *rel, size_t len, bool may_create)
{
	char joined[PATH_MAX], fdpath[64], target[PATH_MAX + 1];
	const char *why = NULL;
	bool want;
	ssize_t tn;
	int r, fd;

	if (root_len + 1 + len >= sizeof(joined))
		return;
	snprintf(joined, sizeof(joined), "%s/%s", root, rel);
	r = path_check_abs(joined, strlen(joined), &why);
	FUZZ_CHECK(r == 0, "%s joined to the root is not clean: %s", rel, why);

	want = ref_dir(rel, may_create);
	r = path_check_dir(joined, may_create, &why);
	FUZZ_CHECK((r == 0) == want, "path_check_dir(%s, %d): %d (%s), lstat walk %d", rel,
		   may_create, r, why ? why : "", want);

	want = ref_dir(rel, false);
	fd = path_open_walk(joined, O_PATH | O_DIRECTORY, 0);
	FUZZ_CHECK((fd >= 0) == want, "path_open_walk(%s): %d, lstat walk %d", rel, fd, want);
	if (fd < 0)
		return;
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	tn = readlink(fdpath, target, sizeof(target) - 1);
	close(fd);
	FUZZ_CHECK(tn > 0, "readlink %s: %s", fdpath, strerror(errno));
	target[tn] = '\0';
	FUZZ_CHECK(strncmp(target, root, root_len) == 0 &&
			   (target[root_len] == '\0' || target[root_len] == '/'),
		   "%s opened %s, outside %s", rel, target, root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p;
	size_t len;

	FUZZ_PLANT(size);
	if (size < 1)
		return 0;
	len = size - 1;
	p = malloc(len + 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, len);
	p[len] = '\0';
	check_syntax(p, len);
	if (path_check_rel(p, len, &(const char *){ NULL }) == 0)
		check_resolution(p, len, data[0] & 1);
	free(p);
	return 0;
}
